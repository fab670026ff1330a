// Package docs holds no code. Its test keeps docs/dm-rules.md and the code that cites it in
// step: every rule number the code or the documents cite ("R7") must be defined there.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	// A rule's definition opens a paragraph: **R7. The most recent qualifying room wins.**
	ruleDefinition = regexp.MustCompile(`(?m)^\*\*R([0-9]+)\. `)
	ruleCitation   = regexp.MustCompile(`\bR([0-9]+)\b`)
)

// definedRules returns the rule numbers text defines, and the numbers it defines twice.
func definedRules(text string) (defined map[int]bool, twice []int) {
	defined = map[int]bool{}
	for _, m := range ruleDefinition.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		if defined[n] {
			twice = append(twice, n)
		}
		defined[n] = true
	}
	return defined, twice
}

// citation is one rule number cited at a place in the repository.
type citation struct {
	where string // path:line
	rule  int
}

// citations returns every rule number text cites, each with where it is.
func citations(path, text string) []citation {
	var out []citation
	for i, line := range strings.Split(text, "\n") {
		for _, m := range ruleCitation.FindAllStringSubmatch(line, -1) {
			n, _ := strconv.Atoi(m[1])
			out = append(out, citation{where: path + ":" + strconv.Itoa(i+1), rule: n})
		}
	}
	return out
}

func TestCitedRulesAreDefined(t *testing.T) {
	root := ".."
	doc, err := os.ReadFile(filepath.Join(root, "docs", "dm-rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	defined, twice := definedRules(string(doc))
	if len(defined) == 0 {
		t.Fatal("docs/dm-rules.md defines no rule: the definitions are paragraphs opening with **R<n>. ")
	}
	for _, n := range twice {
		t.Errorf("docs/dm-rules.md defines R%d twice", n)
	}
	for n := 1; n <= len(defined); n++ {
		if !defined[n] {
			t.Errorf("docs/dm-rules.md skips R%d: the rules are numbered from R1 without gaps", n)
		}
	}

	var cited []citation
	goFiles := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, ".md") {
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		found := citations(filepath.ToSlash(rel), string(text))
		if strings.HasSuffix(name, ".go") && len(found) > 0 {
			goFiles++
		}
		cited = append(cited, found...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The code cites the rules in dozens of files: finding none means this test looks in the
	// wrong place, not that all is well.
	if goFiles < 10 {
		t.Fatalf("found rule citations in only %d Go files under %s", goFiles, root)
	}
	for _, c := range cited {
		if !defined[c.rule] {
			t.Errorf("%s cites R%d, which docs/dm-rules.md does not define", c.where, c.rule)
		}
	}
}

// The checks themselves, on a made-up document: a test that cannot fail proves nothing.
func TestRulesScanner(t *testing.T) {
	defined, twice := definedRules("# Rules\n\n**R1. One.** Text citing R2.\n\n**R2. Two.**\n**R2. Again.**\nR3 is cited, not defined.\n")
	if !defined[1] || !defined[2] || defined[3] || len(defined) != 2 {
		t.Errorf("defined = %v, want R1 and R2", defined)
	}
	if len(twice) != 1 || twice[0] != 2 {
		t.Errorf("twice = %v, want [2]", twice)
	}
	got := citations("a.go", "// R5-R9, and R23.\nx := R22x // not a citation\n// HR7 and R7b are not either; (R12) is\n")
	want := []citation{{"a.go:1", 5}, {"a.go:1", 9}, {"a.go:1", 23}, {"a.go:3", 12}}
	if len(got) != len(want) {
		t.Fatalf("citations = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("citation %d = %v, want %v", i, got[i], want[i])
		}
	}
}
