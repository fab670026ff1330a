package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"

	"duet/internal/testkit/hstest"
)

// Only failures to reach the server are explained as such: a local error (a terminal that
// cannot be opened, a full disk) says what it is.
func TestExplainTellsNetworkFromLocalErrors(t *testing.T) {
	local := fmt.Errorf("open /dev/tty: %w", syscall.ENXIO)
	if got := Explain(local); strings.Contains(got, "homeserver") {
		t.Fatalf("a local error explained as a network one: %q", got)
	}
	if Temporary(local) {
		t.Fatal("a local error taken for a passing network failure")
	}
	if got := Explain(fmt.Errorf("x: %w", ErrLoggedOut)); got != ErrLoggedOut.Error() {
		t.Fatalf("logged out: %q", got)
	}
	if !errors.Is(fmt.Errorf("%w", ErrLoggedOut), ErrLoggedOut) {
		t.Fatal("wrapping")
	}
}

// A server that stops answering is said so, not as "context deadline exceeded".
func TestExplainTimeout(t *testing.T) {
	err := &url.Error{Op: "Get", URL: "http://127.0.0.1:8008/_matrix/client/v3/sync", Err: context.DeadlineExceeded}
	got := Explain(err)
	if !strings.Contains(got, "http://127.0.0.1:8008 stopped answering") || strings.Contains(got, "deadline") {
		t.Fatalf("a timeout explained as %q", got)
	}
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:8008/x", Err: syscall.ECONNREFUSED}
	if got := Explain(refused); !strings.Contains(got, "cannot reach the homeserver") {
		t.Fatalf("a refused connection explained as %q", got)
	}
}

// closedServer is the address of a server that is gone: connecting is refused.
func closedServer(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// fakeLoginServer answers /versions, and auth_metadata and /login with the given status and
// body ("" for the status alone).
func fakeLoginServer(t *testing.T, metaStatus int, loginStatus int, loginBody string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/versions"):
			fmt.Fprint(w, `{"versions":["v1.11"]}`)
		case strings.HasSuffix(r.URL.Path, "/auth_metadata"):
			w.WriteHeader(metaStatus)
			fmt.Fprint(w, `{"errcode":"M_UNKNOWN","error":"no"}`)
		case strings.HasSuffix(r.URL.Path, "/login"):
			w.WriteHeader(loginStatus)
			fmt.Fprint(w, loginBody)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Asking a homeserver how to log in keeps why it failed as the cause, under the words it had:
// errors.Is and errors.As reach the server's answer or the refused connection from the error
// the login returns.
func TestAuthDiscoveryErrorsKeepTheirCause(t *testing.T) {
	ctx := context.Background()
	tell := func(BrowserPrompt) {}

	t.Run("unreachable", func(t *testing.T) {
		// Said as Explain says it, still a network error underneath.
		hs := closedServer(t)
		cli, err := newClient(hs, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		_, err = discoverAuth(ctx, cli)
		var urlErr *url.Error
		if err == nil || !errors.As(err, &urlErr) || !errors.Is(err, syscall.ECONNREFUSED) || !Temporary(err) {
			t.Fatalf("%v lost its cause", err)
		}
		if got := Explain(err); !strings.HasPrefix(got, "cannot reach the homeserver at "+hs) || got != err.Error() {
			t.Fatalf("said %q (Error %q)", got, err.Error())
		}
		if _, err := LoginWithBrowser(ctx, BrowserLoginParams{Homeserver: hs, Tell: tell}, zerolog.Nop()); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("through the login: %v lost its cause", err)
		}
	})

	t.Run("refused /login", func(t *testing.T) {
		// No OAuth 2.0 and a /login that refuses: the refusal's code is reachable.
		hs := fakeLoginServer(t, http.StatusNotFound, http.StatusForbidden, `{"errcode":"M_FORBIDDEN","error":"nope"}`)
		_, err := LoginWithBrowser(ctx, BrowserLoginParams{Homeserver: hs, Tell: tell}, zerolog.Nop())
		if !errors.Is(err, mautrix.MForbidden) {
			t.Fatalf("%v lost its cause", err)
		}
		if got, want := Explain(err), "ask the homeserver how to log in: the homeserver refused: nope (M_FORBIDDEN)"; got != want {
			t.Fatalf("said %q, want %q", got, want)
		}
	})

	t.Run("metadata answering 500", func(t *testing.T) {
		// Malformed, with the HTTP answer underneath; said as malformed metadata, not as a
		// server problem to wait out.
		hs := fakeLoginServer(t, http.StatusInternalServerError, http.StatusOK, `{"flows":[]}`)
		_, err := LoginWithBrowser(ctx, BrowserLoginParams{Homeserver: hs, Tell: tell}, zerolog.Nop())
		var httpErr mautrix.HTTPError
		if !errors.Is(err, ErrMetadataMalformed) || !errors.As(err, &httpErr) || httpErr.Response.StatusCode != http.StatusInternalServerError {
			t.Fatalf("%v lost its cause", err)
		}
		if got, want := Explain(err), ErrMetadataMalformed.Error()+" (HTTP 500): tell its administrator"; got != want {
			t.Fatalf("said %q, want %q", got, want)
		}
	})
}

// Marking a room read when the server cannot be reached is a passing failure of the network,
// as the error the UI gets says, with the room in its words.
func TestMarkReadErrorKeepsItsCause(t *testing.T) {
	svc := offlineService(t)
	err := svc.MarkRead(context.Background(), "!room:localhost", "$evt")
	var urlErr *url.Error
	if err == nil || !errors.As(err, &urlErr) || !Temporary(err) {
		t.Fatalf("mark read offline: %v lost its cause", err)
	}
	if got := Explain(err); !strings.HasPrefix(got, "mark !room:localhost read: cannot reach the homeserver") {
		t.Fatalf("mark read offline said %q", got)
	}
}

// Marking read with a token the homeserver revoked is being logged out, as the UI asks
// (IsLoggedOut) before it words the error; the server's own code is there too.
func TestMarkReadWhenLoggedOutIsLoggedOut(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	svc := newService(t, alice, "")
	ctx := hstest.Ctx(t)
	room, err := svc.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := svc.cli.SendText(ctx, room.RoomID, "to mark read")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.cli.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	err = svc.MarkRead(ctx, room.RoomID, sent.EventID)
	if !IsLoggedOut(err) || !errors.Is(err, ErrLoggedOut) || !errors.Is(err, mautrix.MUnknownToken) {
		t.Fatalf("mark read logged out: %v lost its cause", err)
	}
	if got, want := Explain(err), "mark "+string(room.RoomID)+" read: "+ErrLoggedOut.Error(); got != want {
		t.Fatalf("said %q, want %q", got, want)
	}
}
