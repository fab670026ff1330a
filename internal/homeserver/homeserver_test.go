package homeserver

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildTimeout covers a first build of Dendrite, minutes on a small machine.
const buildTimeout = 15 * time.Minute

// TestBinariesConcurrent checks that parallel callers (like test packages) all get the
// binaries, through the lock, without error.
func TestBinariesConcurrent(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Binaries(ctx, root)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	current, err := binariesCurrent(filepath.Join(root, "tools", "homeserver"), filepath.Join(root, ".bin"))
	if err != nil || !current {
		t.Fatalf("binaries current = %v, %v after Binaries", current, err)
	}
}

func TestLockFileExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := lockFile(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held: %v, want it to wait until the deadline", err)
	}
	unlock()
	unlock2, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

// A trimmed copy of what `generate-config -ci -dir /state -server localhost:1` writes.
const sampleConfig = `version: 2
global:
  server_name: localhost:1
  private_key: matrix_key.pem
  database:
    connection_string: ""
  disable_federation: false
  trusted_third_party_id_servers:
  - matrix.org
  jetstream:
    storage_path: /state
    in_memory: true
  metrics:
    enabled: false
  sentry:
    enabled: false
  report_stats:
    enabled: false
client_api:
  registration_disabled: false
  registration_shared_secret: complement
  enable_registration_captcha: false
  rate_limiting:
    enabled: false
federation_api:
  database:
    connection_string: file:/state/dendrite_federationapi.db
  key_perspectives: []
media_api:
  base_path: /state/media
  thumbnail_sizes:
  - width: 32
    height: 32
sync_api:
  database:
    connection_string: file:/state/dendrite_syncapi.db
  search:
    enabled: true
    index_path: /state/searchindex
logging:
- type: std
  level: trace
  params:
    path: /state/log
`

func TestEditConfig(t *testing.T) {
	edits := []configEdit{
		{"global.private_key", yamlString("/state/matrix_key.pem")},
		{"global.disable_federation", "true"},
		{"client_api.registration_shared_secret", yamlString("s3cret")},
		{"sync_api.search.enabled", "false"},
		{"logging.level", yamlString("info")},
	}
	got, err := editConfig(sampleConfig, edits)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\n  private_key: \"/state/matrix_key.pem\"\n",
		"\n  disable_federation: true\n",
		"\n  registration_shared_secret: \"s3cret\"\n",
		"\n  search:\n    enabled: false\n",
		"\n  level: \"info\"\n",
		"\n  rate_limiting:\n    enabled: false\n", // untouched sibling of the same key name
		"\n  - width: 32\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("edited config lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != strings.Count(sampleConfig, "\n") {
		t.Errorf("edited config has %d lines, want %d", n, strings.Count(sampleConfig, "\n"))
	}
	if err := checkConfig(got, "/state", false); err != nil {
		t.Errorf("checkConfig(edited): %v", err)
	}
	if err := checkConfig(sampleConfig, "/state", false); err == nil {
		t.Error("checkConfig accepted a config with federation on")
	}
	if err := checkConfig(got, "/elsewhere", false); err == nil {
		t.Error("checkConfig accepted databases outside the state dir")
	}

	for _, bad := range []configEdit{
		{"global.no_such_key", "1"},
		{"global.database", "x"}, // a section, not a value
		{"enabled", "false"},     // not a full path
		{"database.connection_string", "x"},
	} {
		if _, err := editConfig(sampleConfig, []configEdit{bad}); err == nil {
			t.Errorf("editConfig(%s) succeeded, want an error", bad.path)
		}
	}
}
