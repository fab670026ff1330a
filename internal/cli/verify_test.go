package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/util/jsontime"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// lockedBuffer is a bytes.Buffer a running command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// background runs a duet command until stop is called; stop returns its exit code.
func (u *duetUser) background(t *testing.T, args ...string) (stderr *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &lockedBuffer{}
	done := make(chan int, 1)
	env := Env{Dirs: u.dirs, Stdin: strings.NewReader(""), Stdout: &lockedBuffer{}, Stderr: stderr}
	go func() { done <- Run(ctx, env, args) }()
	stopped := false
	stop = func() int {
		if !stopped {
			stopped = true
			cancel()
		}
		return <-done
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	return stderr, stop
}

// requestVerification sends a to-device verification request from p's device to every device
// of user, and returns its transaction ID.
func requestVerification(t *testing.T, p *hstest.Person, user id.UserID) id.VerificationTransactionID {
	t.Helper()
	txn := id.VerificationTransactionID("txn-" + strings.ToLower(string(p.ID[1:6])) + time.Now().Format("150405.000000"))
	content := &event.VerificationRequestEventContent{
		FromDevice: p.Client.DeviceID, Methods: []event.VerificationMethod{event.VerificationMethodSAS},
		Timestamp: jsontime.UnixMilliNow(), ToDeviceVerificationEvent: event.ToDeviceVerificationEvent{TransactionID: txn},
	}
	_, err := p.Client.SendToDevice(hstest.Ctx(t), event.ToDeviceVerificationRequest, &mautrix.ReqSendToDevice{
		Messages: map[id.UserID]map[id.DeviceID]*event.Content{user: {"*": {Parsed: content}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return txn
}

// verificationAnswer syncs p until a to-device verification event for txn arrives and returns
// its type (m.key.verification.ready or .cancel, ...).
func verificationAnswer(t *testing.T, p *hstest.Person, txn id.VerificationTransactionID) string {
	t.Helper()
	ctx := hstest.Ctx(t)
	since := ""
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := p.Client.SyncRequest(ctx, 5000, since, "", false, event.PresenceOffline)
		if err != nil {
			t.Fatal(err)
		}
		since = resp.NextBatch
		for _, evt := range resp.ToDevice.Events {
			if strings.Contains(string(evt.Content.VeryRaw), string(txn)) {
				return evt.Type.Type
			}
		}
	}
	t.Fatalf("%s got no answer to verification request %s", p.ID, txn)
	return ""
}

// `duet verify --accept` answers only our own devices, and `--accept @user` only @user: a
// request from anyone else is cancelled with a line on stderr saying who, and duet keeps waiting.
func TestVerifyAcceptAnswersOnlyWhomItWaitsFor(t *testing.T) {
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	alice.run(t, "", "messages", "@nobody:localhost") // a first sync sets up encryption
	mallory := hstest.NewPerson(t, hs, "mallory", "Mallory")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")

	stderr, stop := alice.background(t, "verify", "--accept")
	hstest.Eventually(t, 20*time.Second, func() string {
		if !strings.Contains(stderr.String(), "Waiting for a verification request") {
			return "duet is not waiting yet: " + stderr.String()
		}
		return ""
	})
	txn := requestVerification(t, mallory, alice.ID)
	if got := verificationAnswer(t, mallory, txn); got != event.ToDeviceVerificationCancel.Type {
		t.Fatalf("`duet verify --accept` answered a stranger's request with %s; stderr %q", got, stderr.String())
	}
	hstest.Eventually(t, 10*time.Second, func() string {
		if s := stderr.String(); !strings.Contains(s, "Refused") || !strings.Contains(s, string(mallory.ID)) {
			return "stderr does not say whose request was refused: " + s
		}
		return ""
	})
	if code := stop(); code == 0 {
		t.Fatalf("stopped while waiting, it exits 0; stderr %q", stderr.String())
	}

	// Named: carol's request is refused, mallory's answered.
	stderr, stop = alice.background(t, "verify", "--accept", string(mallory.ID))
	hstest.Eventually(t, 20*time.Second, func() string {
		if !strings.Contains(stderr.String(), string(mallory.ID)) {
			return "duet does not say whom it waits for: " + stderr.String()
		}
		return ""
	})
	other := requestVerification(t, carol, alice.ID)
	if got := verificationAnswer(t, carol, other); got != event.ToDeviceVerificationCancel.Type {
		t.Fatalf("`duet verify --accept @mallory` answered carol with %s; stderr %q", got, stderr.String())
	}
	txn = requestVerification(t, mallory, alice.ID)
	if got := verificationAnswer(t, mallory, txn); got != event.ToDeviceVerificationReady.Type {
		t.Fatalf("`duet verify --accept @mallory` answered mallory with %s; stderr %q", got, stderr.String())
	}
	if s := stderr.String(); !strings.Contains(s, string(mallory.ID)+" (device "+string(mallory.Client.DeviceID)+")") {
		t.Fatalf("stderr does not say who and which device: %q", s)
	}
	stop()
}
