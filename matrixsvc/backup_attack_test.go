package matrixsvc

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/backup"
	"maunium.net/go/mautrix/crypto/olm"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
)

// backupVersion is the body of GET /room_keys/version.
type backupVersion struct {
	Algorithm string         `json:"algorithm"`
	AuthData  map[string]any `json:"auth_data"`
	Count     int            `json:"count"`
	ETag      string         `json:"etag"`
	Version   string         `json:"version"`
}

// The server answers GET /room_keys/version with a backup whose public key it holds (its
// auth_data not signed by our keys): duet neither restores from it nor uploads room keys to
// it, and says why; once the server stops, backing up works again (the observer sees uploads).
func TestSubstitutedKeyBackupIsNotUsed(t *testing.T) {
	ctx := hstest.Ctx(t)
	sc := newBackupScene(t)
	recoveryKey, bob, room, proxy, second := sc.recoveryKey, sc.bob, sc.room, sc.proxy, sc.second
	theirs, err := backup.NewMegolmBackupKey()
	if err != nil {
		t.Fatal(err)
	}
	stopSwap := proxy.Handle(http.MethodGet, "/room_keys/version", func(w http.ResponseWriter, r *http.Request) {
		status, body, err := proxy.Forward(r)
		var v backupVersion
		if err != nil || status != http.StatusOK || json.Unmarshal(body, &v) != nil {
			http.Error(w, "no backup", http.StatusBadGateway)
			return
		}
		// The server's own key, with our signatures copied over (they sign another key).
		v.AuthData["public_key"] = base64.RawStdEncoding.EncodeToString(theirs.PublicKey().Bytes())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	})
	var mu sync.Mutex
	var uploads []string
	proxy.Handle(http.MethodPut, "/room_keys/keys", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		uploads = append(uploads, r.URL.RawQuery)
		mu.Unlock()
		status, body, err := proxy.Forward(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	uploaded := func() int { mu.Lock(); defer mu.Unlock(); return len(uploads) }

	_, err = second.VerifyWithRecoveryKey(ctx, recoveryKey)
	if !errors.Is(err, ErrUntrustedBackup) {
		t.Fatalf("recovery with a key backup the server swapped: err = %v", err)
	}
	if got := bodies(t, second, room); slices.Contains(got, "first, from bob") {
		t.Fatalf("keys were restored from the swapped backup: %v", got)
	}
	// A new room key comes from bob's device: duet would back it up.
	bob.SendText(t, room, "a new key")
	waitBody(t, second, room, "a new key")
	err = second.BackUpKeys(ctx)
	if !errors.Is(err, ErrUntrustedBackup) || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("backing up to the swapped backup: err = %v", err)
	}
	if n := uploaded(); n != 0 {
		t.Fatalf("room keys were uploaded to a key backup the server swapped: %d request(s)", n)
	}

	stopSwap()
	if err := second.BackUpKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if uploaded() == 0 {
		t.Fatal("no upload seen once the backup is the real one: the test observes nothing")
	}
}

// The server adds a room key of its own making to the real key backup (encrypted to the
// backup's public key, which it knows) and a message encrypted with it as bob's. The backup
// format authenticates nothing, so duet restores the key; the message must carry the mark.
func TestKeyTheServerAddsToTheBackupIsMarked(t *testing.T) {
	ctx := hstest.Ctx(t)
	sc := newBackupScene(t)
	p, recoveryKey, bob, room, proxy, second := sc.p, sc.recoveryKey, sc.bob, sc.room, sc.proxy, sc.second

	// The server's session, in bob's name, encrypted to the backup's public key.
	bobDev := bob.Machine().OwnIdentity()
	out, enc := forgedBackupSession(t, p.Client, bobDev)
	forgedKey := map[string]any{"first_message_index": 0, "forwarded_count": 0, "is_verified": true, "session_data": enc}
	proxy.Handle(http.MethodGet, "/room_keys/keys", func(w http.ResponseWriter, r *http.Request) {
		status, body, err := proxy.Forward(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var all struct {
			Rooms map[string]map[string]map[string]any `json:"rooms"`
		}
		if strings.HasSuffix(r.URL.Path, "/room_keys/keys") && status == http.StatusOK && json.Unmarshal(body, &all) == nil {
			if all.Rooms == nil {
				all.Rooms = map[string]map[string]map[string]any{}
			}
			if all.Rooms[string(room)] == nil {
				all.Rooms[string(room)] = map[string]map[string]any{"sessions": {}}
			}
			all.Rooms[string(room)]["sessions"][string(out.ID())] = forgedKey
			body, _ = json.Marshal(all)
		} else if strings.HasSuffix(r.URL.Path, string(out.ID())) {
			status, body = http.StatusOK, nil
			body, _ = json.Marshal(forgedKey)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})

	delivered := proxy.InjectTimeline(room, forgedMessage(t, proxy, room, out, bobDev,
		map[string]any{"msgtype": "m.text", "body": "words bob never wrote"}))
	catchUp(t, second)
	<-delivered
	if _, err := second.VerifyWithRecoveryKey(ctx, recoveryKey); err != nil {
		t.Fatal(err)
	}
	m := messageWith(t, second, room, "words bob never wrote")
	if m == nil {
		t.Fatalf("the server's key was not restored (the test shows nothing): %v", bodies(t, second, room))
	}
	if !m.Unauthenticated {
		t.Fatalf("a message opened by a key the server put in the backup is shown as bob's, unmarked: %+v", *m)
	}
	if real := messageWith(t, second, room, "first, from bob"); real == nil || !real.Unauthenticated {
		t.Fatalf("bob's real message, restored from the backup, is marked too: %+v", real)
	}

	// Then a device (anyone's: here mallory's) sends the session's key directly. mautrix would
	// promote the session from the backup to "came from its sender" without checking who sent
	// the key, and the forged message would lose its mark and show as bob's (sessionGuard).
	mallory := hstest.NewPerson(t, hs, "mallory", "Mallory").EnableCrypto(t)
	mach := mallory.Machine()
	dev, err := mach.GetOrFetchDevice(ctx, second.Me(), second.DeviceID())
	if err != nil {
		t.Fatal(err)
	}
	direct := &event.RoomKeyEventContent{Algorithm: id.AlgorithmMegolmV1, RoomID: room, SessionID: out.ID(), SessionKey: out.Key()}
	if err := mach.SendEncryptedToDevice(ctx, dev, event.ToDeviceRoomKey, event.Content{Parsed: direct}); err != nil {
		t.Fatal(err)
	}
	// A second key after it, for a session of its own: once it is in, the first was handled.
	marker, err := olm.NewOutboundGroupSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := mach.SendEncryptedToDevice(ctx, dev, event.ToDeviceRoomKey, event.Content{Parsed: &event.RoomKeyEventContent{
		Algorithm: id.AlgorithmMegolmV1, RoomID: room, SessionID: marker.ID(), SessionKey: marker.Key()}}); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		catchUp(t, second)
		if s, _ := second.crypt.Load().mach.CryptoStore.GetGroupSession(ctx, room, marker.ID()); s == nil {
			return "the direct keys have not arrived"
		}
		return ""
	})
	if _, _, err := second.redecryptAll(ctx); err != nil {
		t.Fatal(err)
	}
	if m := messageWith(t, second, room, "words bob never wrote"); m == nil || !m.Unauthenticated {
		t.Fatalf("a direct key from another device made the server's message bob's, unmarked: %+v", m)
	}
}

// An edit is no better than its key: the server puts an edit of bob's real message in the room,
// in bob's name, with a session of its own whose key it serves from the key backup when duet
// asks for it. The message shows the new text, but marked.
func TestEditWithAKeyOfUnprovenAuthenticityMarksTheMessage(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	proxy := hostile.Start(t, hs.URL)
	alice := newService(t, p, proxy.URL)
	catchUp(t, alice)
	if _, err := alice.SetUpRecovery(ctx, p.Password, ""); err != nil {
		t.Fatal(err)
	}
	bob, room := encryptedDMWithBob(t, alice)
	orig := messageWith(t, alice, room, "first, from bob")
	if orig == nil || orig.Unauthenticated {
		t.Fatalf("bob's message, with his own key: %+v", orig)
	}

	bobDev := bob.Machine().OwnIdentity()
	out, enc := forgedBackupSession(t, p.Client, bobDev)
	proxy.Handle(http.MethodGet, "/room_keys/keys/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/"+string(out.ID())) && !strings.HasSuffix(r.URL.Path, "/"+strings.ReplaceAll(string(out.ID()), "/", "%2F")) {
			status, body, _ := proxy.Forward(r)
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"first_message_index": 0, "forwarded_count": 0, "is_verified": true, "session_data": enc})
	})

	events := runLoop(t, alice)
	proxy.InjectTimeline(room, forgedMessage(t, proxy, room, out, bobDev, map[string]any{
		"msgtype": "m.text", "body": "* words bob never wrote",
		"m.new_content": map[string]any{"msgtype": "m.text", "body": "words bob never wrote"},
		"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": string(orig.EventID)},
	}))
	events("the edit decrypted with the server's key", func(e Event) bool {
		sa, ok := e.(SyncApplied)
		return ok && slices.Contains(sa.Redecrypted, room)
	})
	var edited *Message
	hstest.Eventually(t, 20*time.Second, func() string {
		msgs, err := alice.Messages(ctx, room, 50)
		if err != nil {
			t.Fatal(err)
		}
		for i := range msgs {
			if msgs[i].EventID == orig.EventID {
				edited = &msgs[i]
			}
		}
		if edited == nil || edited.Body != "words bob never wrote" {
			return fmt.Sprintf("the edit has not been applied: %+v", edited)
		}
		return ""
	})
	if !edited.Unauthenticated {
		t.Fatalf("bob's message, edited with a key the server gave, is shown unmarked: %+v", *edited)
	}
}

// forgedBackupSession is what a server can put in the key backup: a Megolm session of its own
// making that claims to be dev's, encrypted to the backup's public key (which anyone can read
// from the server). It returns the session, to encrypt with, and its backup entry.
func forgedBackupSession(t *testing.T, cli *mautrix.Client, dev *id.Device) (olm.OutboundGroupSession, *backup.EncryptedSessionData[backup.MegolmSessionData]) {
	t.Helper()
	version, err := cli.GetKeyBackupLatestVersion(hstest.Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	rawPub, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(string(version.AuthData.PublicKey), "="))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ecdh.X25519().NewPublicKey(rawPub)
	if err != nil {
		t.Fatal(err)
	}
	out, err := olm.NewOutboundGroupSession()
	if err != nil {
		t.Fatal(err)
	}
	in, err := olm.NewInboundGroupSession([]byte(out.Key()))
	if err != nil {
		t.Fatal(err)
	}
	exported, err := in.Export(0)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := backup.EncryptSessionDataWithPubkey(pub, backup.MegolmSessionData{
		Algorithm: id.AlgorithmMegolmV1, SenderKey: dev.IdentityKey,
		SenderClaimedKeys: backup.SenderClaimedKeys{Ed25519: dev.SigningKey}, SessionKey: string(exported),
		ForwardingKeyChain: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, enc
}

// backupScene is an account whose first device set up recovery and backed up bob's room key,
// and a second device of it that talks to the hostile server.
type backupScene struct {
	p           *hstest.Person
	recoveryKey string
	bob         *hstest.CryptoPerson
	room        id.RoomID
	proxy       *hostile.Proxy
	second      *Service
}

func newBackupScene(t *testing.T) backupScene {
	t.Helper()
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	first := newService(t, p, "")
	catchUp(t, first)
	recoveryKey, err := first.SetUpRecovery(ctx, p.Password, "")
	if err != nil {
		t.Fatal(err)
	}
	bob, room := encryptedDMWithBob(t, first)
	if err := first.BackUpKeys(ctx); err != nil {
		t.Fatal(err)
	}
	proxy := hostile.Start(t, hs.URL)
	second := newService(t, p, proxy.URL)
	catchUp(t, second)
	return backupScene{p: p, recoveryKey: recoveryKey, bob: bob, room: room, proxy: proxy, second: second}
}

// forgedMessage is what the server makes up as dev's message: content encrypted with a Megolm
// session of its own (out) as an m.room.encrypted event of room, its relation (if any) outside
// the ciphertext as clients send it.
func forgedMessage(t *testing.T, proxy *hostile.Proxy, room id.RoomID, out olm.OutboundGroupSession, dev *id.Device, content map[string]any) hostile.Event {
	t.Helper()
	plain, err := json.Marshal(map[string]any{"type": "m.room.message", "room_id": room, "content": content})
	if err != nil {
		t.Fatal(err)
	}
	ciphertext, err := out.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	outer := map[string]any{
		"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": string(ciphertext),
		"session_id": string(out.ID()), "sender_key": string(dev.IdentityKey), "device_id": string(dev.DeviceID),
	}
	if rel, ok := content["m.relates_to"]; ok {
		outer["m.relates_to"] = rel
	}
	return proxy.NewEvent(dev.UserID, "m.room.encrypted", outer)
}
