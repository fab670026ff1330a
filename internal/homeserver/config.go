package homeserver

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// duet's go.mod has no YAML library, and Dendrite's must not leak into it, so the config that
// `generate-config -ci` writes is edited line by line. That output is yaml.v2's: two-space
// indentation, one `key: value` per line, sequences of mappings written as `- key: value`, no
// block scalars. Every edit must hit exactly one line and is read back afterwards; the settings
// the -ci flag is relied on for are checked too, so a Dendrite upgrade that changes the output
// fails loudly here instead of starting a server that federates or rate-limits.

// yamlKey is one `key: value` line of a YAML document.
type yamlKey struct {
	line   int    // index into the document's lines
	path   string // dotted path from the root, list positions left out: "logging.level"
	prefix string // the line up to and including the colon
	value  string // the raw value after the colon, trimmed; "" for a parent key
}

// scanYAML lists the key lines of a yaml.v2-style document in order.
func scanYAML(lines []string) []yamlKey {
	type frame struct {
		indent int
		key    string
	}
	var stack []frame
	var keys []yamlKey
	for i, line := range lines {
		rest := strings.TrimLeft(line, " ")
		if rest == "" || strings.HasPrefix(rest, "#") {
			continue
		}
		indent := len(line) - len(rest)
		for strings.HasPrefix(rest, "- ") { // a mapping inside a sequence item
			rest = rest[2:]
			indent += 2
		}
		key, value, ok := splitKey(rest)
		if !ok {
			continue // a scalar sequence item such as "- matrix.org"
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, frame{indent, key})
		parts := make([]string, len(stack))
		for j, f := range stack {
			parts[j] = f.key
		}
		keys = append(keys, yamlKey{
			line:   i,
			path:   strings.Join(parts, "."),
			prefix: line[:len(line)-len(rest)] + key + ":",
			value:  value,
		})
	}
	return keys
}

// splitKey splits "key: value" or "key:"; keys are plain identifiers, which is all Dendrite uses.
func splitKey(s string) (key, value string, ok bool) {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || (colon+1 < len(s) && s[colon+1] != ' ') {
		return "", "", false
	}
	for _, r := range s[:colon] {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", "", false
		}
	}
	return s[:colon], strings.TrimSpace(s[colon+1:]), true
}

// yamlLookup returns the raw value at path; it is an error unless exactly one line has it.
func yamlLookup(keys []yamlKey, path string) (yamlKey, error) {
	var found []yamlKey
	for _, k := range keys {
		if k.path == path {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return yamlKey{}, fmt.Errorf("homeserver: dendrite config has %d lines for %s, want 1", len(found), path)
	}
	return found[0], nil
}

// yamlString quotes s as a YAML double-quoted scalar (JSON strings are valid YAML).
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// yamlUnquote returns the string a plain, single- or double-quoted scalar stands for.
func yamlUnquote(v string) string {
	switch {
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		if s, err := strconv.Unquote(v); err == nil {
			return s
		}
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'")
	}
	return v
}

// configEdit sets the value at a dotted path; value is raw YAML.
type configEdit struct{ path, value string }

// editConfig applies edits to the text of a generated config and reads each one back.
func editConfig(text string, edits []configEdit) (string, error) {
	lines := strings.Split(text, "\n")
	keys := scanYAML(lines)
	for _, e := range edits {
		k, err := yamlLookup(keys, e.path)
		if err != nil {
			return "", err
		}
		if k.value == "" {
			return "", fmt.Errorf("homeserver: dendrite config: %s is a section, not a value", e.path)
		}
		lines[k.line] = k.prefix + " " + e.value
	}
	edited := strings.Join(lines, "\n")
	keys = scanYAML(strings.Split(edited, "\n"))
	for _, e := range edits {
		k, err := yamlLookup(keys, e.path)
		if err != nil {
			return "", err
		}
		if k.value != e.value {
			return "", fmt.Errorf("homeserver: dendrite config: %s reads back %q after setting %q", e.path, k.value, e.value)
		}
	}
	return edited, nil
}

// checkConfig verifies the settings a loopback test server relies on: the values -ci and our
// edits give, and every database, queue, media and index path inside stateDir.
func checkConfig(text, stateDir string, durableQueues bool) error {
	keys := scanYAML(strings.Split(text, "\n"))
	want := map[string]string{
		"global.disable_federation":              "true",
		"global.jetstream.in_memory":             strconv.FormatBool(!durableQueues),
		"global.report_stats.enabled":            "false",
		"global.sentry.enabled":                  "false",
		"global.metrics.enabled":                 "false",
		"federation_api.key_perspectives":        "[]",
		"client_api.registration_disabled":       "false",
		"client_api.enable_registration_captcha": "false",
		"client_api.rate_limiting.enabled":       "false",
		"sync_api.search.enabled":                "false",
		"logging.type":                           "std",
	}
	for path, v := range want {
		k, err := yamlLookup(keys, path)
		if err != nil {
			return err
		}
		if k.value != v {
			return fmt.Errorf("homeserver: dendrite config: %s is %s, want %s", path, k.value, v)
		}
	}

	inside := func(path, p string) error {
		rel, err := filepath.Rel(stateDir, p)
		if !filepath.IsAbs(p) || err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("homeserver: dendrite config: %s is %q, outside %s", path, p, stateDir)
		}
		return nil
	}
	databases := 0
	for _, k := range keys {
		switch {
		case strings.HasSuffix(k.path, ".connection_string"):
			v := yamlUnquote(k.value)
			if v == "" && k.path == "global.database.connection_string" {
				continue // no shared database: each component has its own below
			}
			p, ok := strings.CutPrefix(v, "file:")
			if !ok {
				return fmt.Errorf("homeserver: dendrite config: %s is %q, want a file: SQLite path", k.path, v)
			}
			if err := inside(k.path, p); err != nil {
				return err
			}
			databases++
		case k.path == "global.jetstream.storage_path", k.path == "media_api.base_path",
			k.path == "sync_api.search.index_path", k.path == "global.private_key":
			if err := inside(k.path, yamlUnquote(k.value)); err != nil {
				return err
			}
		}
	}
	if databases == 0 {
		return fmt.Errorf("homeserver: dendrite config: no database connection strings found")
	}
	return nil
}
