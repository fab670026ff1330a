package matrixsvc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Login without --homeserver finds the client API through the server's .well-known.
func TestResolveHomeserverDiscovery(t *testing.T) {
	wk := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/matrix/client" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"m.homeserver":{"base_url":"https://matrix.example.test"}}`))
	}))
	defer wk.Close()
	server := strings.TrimPrefix(wk.URL, "https://")
	ctx := context.Background()

	hs, ident, err := resolveHomeserver(ctx, wk.Client(), "", "@alice:"+server)
	if err != nil || hs != "https://matrix.example.test" || ident != "@alice:"+server {
		t.Fatalf("discovered %q, %q, %v", hs, ident, err)
	}
	// No .well-known: the server name itself.
	missing := httptest.NewTLSServer(http.NotFoundHandler())
	defer missing.Close()
	name := strings.TrimPrefix(missing.URL, "https://")
	if hs, _, err := resolveHomeserver(ctx, missing.Client(), "", "@alice:"+name); err != nil || hs != "https://"+name {
		t.Fatalf("fallback %q, %v", hs, err)
	}
	// An explicit homeserver wins; a bare localpart needs one.
	if hs, ident, err := resolveHomeserver(ctx, wk.Client(), "http://127.0.0.1:1", "alice"); err != nil || hs != "http://127.0.0.1:1" || ident != "alice" {
		t.Fatalf("explicit: %q %q %v", hs, ident, err)
	}
	for _, bad := range []string{"alice", "@alice", ""} {
		if _, _, err := resolveHomeserver(ctx, wk.Client(), "", bad); err == nil {
			t.Errorf("%q without a homeserver: no error", bad)
		}
	}
}
