package matrixsvc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/backup"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/crypto/verificationhelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// ErrNoCrypto means this service runs without a crypto store (a test or fixture that did not
// ask for one), so encrypted rooms can be neither read nor written.
var ErrNoCrypto = errors.New("end-to-end encryption is not set up for this session")

// NewPickleKey makes the key that encrypts a device's keys in its crypto store. It is created
// once per login and kept in the session file.
func NewPickleKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// e2ee is the end-to-end encryption state of a service: mautrix's crypto helper with its Olm
// machine, fed by duet's own sync loop through a dispatcher.
type e2ee struct {
	helper *cryptohelper.CryptoHelper
	mach   *crypto.OlmMachine
	disp   *dispatcher
	verify *verificationhelper.VerificationHelper

	// op serializes work with the Olm machine and the verification helper: mautrix's machine
	// is not safe for every concurrent use (its cross-signing key cache, a verification's
	// state between the sync loop and a confirmation).
	op sync.Mutex

	vstore *verificationhelper.InMemoryVerificationStore

	mu            sync.Mutex
	arrived       map[id.SessionID]id.RoomID // keys that came since the last look: their events are decrypted again
	requested     map[id.SessionID]time.Time // keys asked for, so each is asked for once a while
	backupKey     *backup.MegolmBackupKey    // the key backup's private key, once known
	backupVersion id.KeyBackupVersion        // the backup in use, once looked up
}

// cryptoReady returns the encryption state, setting it up on first use: opening the crypto
// store and, for a new device, uploading its keys. Only the first call does network I/O.
func (s *Service) cryptoReady(ctx context.Context) (*e2ee, error) {
	s.cryptoMu.Lock()
	defer s.cryptoMu.Unlock()
	if s.crypt.Load() != nil {
		return s.crypt.Load(), nil
	}
	if s.cryptoPath == "" || s.pickleKey == "" {
		return nil, ErrNoCrypto
	}
	key, err := base64.StdEncoding.DecodeString(s.pickleKey)
	if err != nil || len(key) == 0 {
		return nil, errors.New("the session's pickle key is damaged: run `duet login` again")
	}
	db, err := s.openCryptoStore()
	if err != nil {
		return nil, err
	}
	disp := newDispatcher()
	s.cli.Syncer = disp
	helper, err := cryptohelper.NewCryptoHelper(s.cli, key, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("set up encryption: %w", err)
	}
	if err := helper.Init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("set up encryption: %w", s.wrap(err))
	}
	s.cli.Crypto = helper
	e := &e2ee{
		helper:    helper,
		mach:      helper.Machine(),
		disp:      disp,
		arrived:   make(map[id.SessionID]id.RoomID),
		requested: make(map[id.SessionID]time.Time),
	}
	s.configureMachine(e)
	e.vstore = verificationhelper.NewInMemoryVerificationStore()
	e.verify = verificationhelper.NewVerificationHelper(s.cli, e.mach, e.vstore, s.verifyCB, false, false, true)
	if err := e.verify.Init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("set up verification: %w", err)
	}
	s.crypt.Store(e)
	s.log.Info().Stringer("device_id", s.cli.DeviceID).Msg("end-to-end encryption ready")
	return e, nil
}

// openCryptoStore opens the SQLite database of mautrix's crypto store, creating its file
// private first.
func (s *Service) openCryptoStore() (*dbutil.Database, error) {
	// The file is created private before SQLite opens it; its -wal and -shm files inherit that.
	f, err := os.OpenFile(s.cryptoPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open crypto store: %w", err)
	}
	f.Close()
	_ = os.Chmod(s.cryptoPath, 0o600)
	db, err := dbutil.NewWithDialect("file:"+s.cryptoPath+"?_txlock=immediate&_busy_timeout=10000", "sqlite3-fk-wal")
	if err != nil {
		return nil, fmt.Errorf("open crypto store: %w", err)
	}
	db.Log = dbutil.ZeroLogger(s.log.With().Str("component", "cryptodb").Logger())
	return db, nil
}

// configureMachine sets duet's rules on e's olm machine: the sessions it stores are guarded,
// a room key that arrives is checked and noted for the messages it decrypts, and keys are
// shared on request with our own verified devices only.
func (s *Service) configureMachine(e *e2ee) {
	if sql, ok := e.mach.CryptoStore.(*crypto.SQLCryptoStore); ok {
		e.mach.CryptoStore = &sessionGuard{Store: sql, sql: sql, log: s.log}
	}
	e.mach.SessionReceived = func(ctx context.Context, room id.RoomID, session id.SessionID, _ uint32) {
		if s.refuseForeignForward(ctx, e, room, session) {
			return
		}
		e.mu.Lock()
		e.arrived[session] = room
		e.mu.Unlock()
		s.wakeKeys()
	}
	// New room keys go to every device of the people in a DM that is not blacklisted (the
	// header tells whether they are verified: mautrix's SendKeysMinTrust stays unset). Answering
	// a key request is another matter: requests come in the clear, so any device on our own
	// account could ask for every session we hold, and the homeserver can add such a device.
	// Only our own devices that we verified (cross-signed by our verified identity) get keys on
	// request; others are told the key is withheld because they are unverified.
	e.mach.ShareKeysMinTrust = id.TrustStateCrossSignedVerified
}

// refuseForeignForward drops a room key that was forwarded by someone other than us or the
// session's own sending device, and reports whether it did. mautrix takes forwarded keys from
// any device, asked for or not; a key made up by another person (or a device the server added)
// in the sender's name would open messages the server forges as the sender's
// (CVE-2022-39246's class). Keys from our own other devices that we verified are kept (marked
// when used), and so are keys the sending device forwards itself, which its Olm session
// authenticates.
func (s *Service) refuseForeignForward(ctx context.Context, e *e2ee, room id.RoomID, session id.SessionID) bool {
	igs, err := e.mach.CryptoStore.GetGroupSession(ctx, room, session)
	if err != nil || igs == nil || igs.KeySource != id.KeySourceForward {
		return false
	}
	chain := igs.ForwardingChains
	if len(chain) == 1 && chain[0] == igs.SenderKey.String() {
		return false
	}
	// From our own account, only a device we verified: one the server added could otherwise
	// plant a session in anyone's name (and mautrix would later take a direct key for it as
	// proof of the sender). The same rule as for answering key requests.
	if igs.SourceUser == s.me && len(chain) > 0 {
		dev, err := e.mach.GetOrFetchDeviceByKey(ctx, s.me, id.IdentityKey(chain[len(chain)-1]))
		if err == nil && dev != nil {
			if trust, err := e.mach.ResolveTrustContext(ctx, dev); err == nil && trust >= id.TrustStateCrossSignedVerified {
				return false
			}
		}
	}
	s.log.Warn().Stringer("room_id", room).Stringer("session_id", session).Stringer("forwarded_by", igs.SourceUser).
		Msg("refused a room key forwarded by someone who is neither us nor its sender")
	if err := e.mach.CryptoStore.RedactGroupSession(ctx, room, session, "forwarded by another user"); err != nil {
		s.log.Warn().Err(err).Stringer("session_id", session).Msg("could not drop a refused room key")
	}
	return true
}

// wakeKeys tells the key worker that something arrived (or is wanted).
func (s *Service) wakeKeys() {
	select {
	case s.keysWake <- struct{}{}:
	default:
	}
}

// takeArrived returns and forgets the sessions whose keys came since the last call.
func (e *e2ee) takeArrived() map[id.SessionID]id.RoomID {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.arrived
	e.arrived = make(map[id.SessionID]id.RoomID)
	return out
}

// Close releases the crypto store. The service is not used afterwards.
func (s *Service) Close() {
	// The list shown last, drawn first at the next start (lastlist.go). Bounded: closing
	// must not hang on a busy database.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := s.saveLastList(ctx); err != nil {
		s.log.Warn().Err(err).Msg("could not keep the contacts list for the next start")
	}
	cancel()
	s.cryptoMu.Lock()
	defer s.cryptoMu.Unlock()
	if s.crypt.Load() != nil {
		_ = s.crypt.Load().helper.Close()
		s.crypt.Store(nil)
	}
}

// processCrypto hands a /sync response's to-device events, device list changes and key counts
// to the Olm machine. It runs before the rooms are applied, so that room keys that came in the
// same response decrypt its messages.
//
// It returns the devices of 1:1 contacts that the key query after a device list change found
// new (issue 19): the conversation says so where it happened.
func (s *Service) processCrypto(ctx context.Context, resp *mautrix.RespSync, since string) []newDevice {
	e := s.crypt.Load()
	if e == nil {
		return nil
	}
	e.op.Lock()
	defer e.op.Unlock()
	before := s.deviceSnapshot(ctx, e, resp.DeviceLists.Changed)
	for _, cb := range e.disp.syncHandlers() {
		cb(ctx, resp, since)
	}
	added := s.devicesAdded(ctx, e, before)
	for _, evt := range resp.ToDevice.Events {
		evt.Type.Class = event.ToDeviceEventType
		if evt.Content.Parsed == nil {
			_ = evt.Content.ParseRaw(evt.Type)
		}
		e.disp.dispatch(ctx, evt)
	}
	return added
}

// decryptReason says in a few words why an event could not be decrypted.
func decryptReason(err error) string {
	var withheld *event.RoomKeyWithheldEventContent
	switch {
	case errors.Is(err, crypto.ErrNoSessionFound):
		return "waiting for the key"
	case errors.As(err, &withheld):
		if withheld.Reason != "" {
			return "key withheld: " + withheld.Reason
		}
		return "key withheld (" + string(withheld.Code) + ")"
	case errors.Is(err, crypto.ErrDuplicateMessageIndex):
		return "replayed message (rejected)"
	case errors.Is(err, crypto.ErrDeviceKeyMismatch):
		return "sent from a device whose keys do not match"
	case errors.Is(err, ErrNoCrypto):
		return "encryption is not set up"
	default:
		return "cannot decrypt: " + err.Error()
	}
}

// trustWarning describes a decrypted message's sender device when it is worth a mark. A device
// that its owner did not sign while the owner has a cross-signing identity is one the server
// may have added to their account (mautrix resolves it to "unset", as it does a device of
// someone without cross-signing, who gets no mark: there is nothing to compare with).
func (s *Service) trustWarning(ctx context.Context, e *e2ee, dec *event.Event) string {
	switch dec.Mautrix.TrustState {
	case id.TrustStateUnknownDevice:
		return "from an unknown device"
	case id.TrustStateDeviceKeyMismatch:
		return "device keys do not match"
	case id.TrustStateBlacklisted:
		return "from a blocked device"
	case id.TrustStateCrossSignedUntrusted:
		return "their identity changed since first seen: verify them again"
	case id.TrustStateUnset:
		if keys, err := e.mach.CryptoStore.GetCrossSigningKeys(ctx, dec.Sender); err == nil && keys[id.XSUsageMaster].Key != "" {
			return "from a device its owner has not verified"
		}
	}
	return ""
}

// message turns a timeline event into a Message, decrypting it when it is encrypted. An event
// that cannot be decrypted yet is kept (with the reason) to be decrypted when its key comes.
func (s *Service) message(ctx context.Context, evt *event.Event) (Message, bool) {
	msg, _, ok := s.messageFrom(ctx, evt)
	return msg, ok
}

// messageFrom is message, also returning the event the message was read from: the decrypted
// event when evt could be decrypted, else evt itself (the push rules look at it).
func (s *Service) messageFrom(ctx context.Context, evt *event.Event) (Message, *event.Event, bool) {
	if evt.Type != event.EventEncrypted {
		msg, ok := toMessage(evt)
		if !ok {
			s.noteMalformed(evt)
		}
		return msg, evt, ok // marked "not encrypted" with its batch, if the room is (markPlain)
	}
	if evt.Unsigned.RedactedBecause != nil { // deleted before we saw it: nothing to decrypt
		msg, _ := toMessage(evt)
		msg.Encrypted, msg.Redacted = false, true
		return msg, evt, true
	}
	if evt.Content.Parsed == nil {
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			return undecrypted(evt, "malformed encrypted event", ""), evt, true
		}
	}
	content, ok := evt.Content.Parsed.(*event.EncryptedEventContent)
	if !ok {
		return undecrypted(evt, "malformed encrypted event", ""), evt, true
	}
	e := s.crypt.Load()
	if e == nil {
		return undecrypted(evt, decryptReason(ErrNoCrypto), string(content.SessionID)), evt, true
	}
	dec, err := s.decrypt(ctx, e, evt)
	if err != nil {
		if errors.Is(err, crypto.ErrNoSessionFound) {
			s.wantKey(evt.RoomID, evt.Sender, content)
		} else {
			s.log.Warn().Err(err).Stringer("event_id", evt.ID).Msg("could not decrypt")
		}
		return undecrypted(evt, decryptReason(err), string(content.SessionID)), evt, true
	}
	out, ok := s.decryptedMessage(ctx, e, dec)
	return out, dec, ok
}

// undecrypted is the message of an encrypted event not decrypted (yet), with why (reason) and
// the session whose key it waits for. The event itself is kept, to be decrypted when its key
// comes. It is encoded only then, not for every message that decrypts.
func undecrypted(evt *event.Event, reason, session string) Message {
	msg, _ := toMessage(evt)
	msg.DecryptError, msg.sessionID = reason, session
	if raw, err := json.Marshal(evt); err == nil {
		msg.raw = string(raw)
	}
	return msg
}

// decrypt decrypts evt with e's olm machine, handing a decrypted event that is a step of a
// verification (not our own echo) to the verification handlers.
func (s *Service) decrypt(ctx context.Context, e *e2ee, evt *event.Event) (*event.Event, error) {
	evt.Type.Class = event.MessageEventType // the decrypted event keeps it: handlers match on it
	e.op.Lock()
	dec, err := e.mach.DecryptMegolmEvent(ctx, evt)
	if err == nil && e.disp.wants(dec.Type) && !s.ownVerificationEcho(dec) {
		dec.Mautrix.EventSource |= event.SourceDecrypted
		e.disp.dispatch(ctx, dec)
	}
	e.op.Unlock()
	return dec, err
}

// decryptedMessage is the message of a decrypted event, marked end-to-end encrypted, with any
// warning about the sending device and whether the key proves who sent it; ok as toMessage's.
func (s *Service) decryptedMessage(ctx context.Context, e *e2ee, dec *event.Event) (Message, bool) {
	out, ok := toMessage(dec)
	if !ok {
		s.noteMalformed(dec)
	}
	out.E2E = true
	if out.change != nil {
		out.change.E2E = true
	}
	out.Trust = s.trustWarning(ctx, e, dec)
	if unauthenticatedKey(dec) {
		// For good: such a session is never promoted to "from its sender" (sessionGuard).
		out.Unauthenticated = true
		if out.change != nil {
			out.change.Unauthenticated = true // an edit: the message it changes is marked
		}
	}
	return out, ok
}

// unauthenticatedKey reports whether a decrypted event's room key came from somewhere other than
// the sender's device itself: the key backup or a key import (mautrix gives those the trust
// state "backup"), or a forward through another device (whose trust state is then that of the
// forwarding device, which may well be verified). Such a key proves nothing about who wrote the
// message: the server can encrypt any key to the backup's public key, and a forwarding device
// can make up a session in anyone's name.
func unauthenticatedKey(dec *event.Event) bool {
	return dec.Mautrix.TrustState == id.TrustStateBackup || dec.Mautrix.TrustState == id.TrustStateForwarded ||
		dec.Mautrix.ForwardedKeys
}

// wantKey remembers a missing Megolm session so that the key worker asks for it: from key
// backup when we have its key, and from the sender's and our own other devices.
func (s *Service) wantKey(room id.RoomID, sender id.UserID, content *event.EncryptedEventContent) {
	e := s.crypt.Load()
	if e == nil {
		return
	}
	e.mu.Lock()
	t, asked := e.requested[content.SessionID]
	e.mu.Unlock()
	if asked && time.Since(t) < 10*time.Minute {
		return
	}
	s.pendingKeys.Store(content.SessionID, keyWant{room: room, sender: sender, senderKey: content.SenderKey, device: content.DeviceID})
	s.wakeKeys()
}

type keyWant struct {
	room      id.RoomID
	sender    id.UserID
	senderKey id.SenderKey
	device    id.DeviceID
}

// redecrypt decrypts stored events whose keys have arrived and reports the rooms that changed.
func (s *Service) redecrypt(ctx context.Context, arrived map[id.SessionID]id.RoomID) ([]id.RoomID, error) {
	evts, err := s.undecryptedEvents(ctx, arrived)
	if err != nil {
		return nil, err
	}
	changed := make(map[id.RoomID]bool)
	for i := range evts {
		ok, err := s.retryDecrypt(ctx, &evts[i])
		if err != nil {
			return nil, err
		}
		if ok {
			changed[evts[i].Room] = true
		}
	}
	return s.refreshPreviews(ctx, changed)
}

// undecryptedEvents are the stored events waiting for the keys of arrived (session to its
// room), or for any key when arrived is nil.
func (s *Service) undecryptedEvents(ctx context.Context, arrived map[id.SessionID]id.RoomID) ([]store.Event, error) {
	if arrived == nil {
		return s.store.AllUndecrypted(ctx)
	}
	var evts []store.Event
	for session, room := range arrived {
		found, err := s.store.Undecrypted(ctx, room, string(session))
		if err != nil {
			return nil, err
		}
		evts = append(evts, found...)
	}
	return evts, nil
}

// retryDecrypt tries to decrypt a stored event again and stores what it is now: a message, or
// the edit or reaction it turned out to be. changed is false when it stays as it was.
func (s *Service) retryDecrypt(ctx context.Context, stored *store.Event) (changed bool, err error) {
	var evt event.Event
	if err := json.Unmarshal([]byte(stored.Raw), &evt); err != nil {
		return false, nil
	}
	evt.RoomID = stored.Room
	msg, ok := s.message(ctx, &evt)
	switch {
	case !ok:
		// It decrypted to something that is not shown as a message (an edit, a reaction).
		if err := s.store.DeleteEvent(ctx, stored.Room, stored.ID); err != nil {
			return false, err
		}
		if msg.change != nil {
			if _, err := s.store.RecordChanges(ctx, stored.Room, []store.Change{*msg.change}); err != nil {
				return false, err
			}
		}
	case msg.Encrypted && msg.DecryptError == stored.DecryptError:
		return false, nil // still not decryptable, for the same reason
	default:
		upd := toStored([]Message{msg})[0]
		upd.Room, upd.ID = stored.Room, stored.ID
		if err := s.store.ReplaceEvent(ctx, &upd); err != nil {
			return false, err
		}
		if msg.change != nil { // a poll end: its poll changed too
			if _, err := s.store.RecordChanges(ctx, stored.Room, []store.Change{*msg.change}); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// refreshPreviews sets the preview of each changed room again and returns the rooms: the
// newest message may be one that can be read now, and the contacts list shows it.
func (s *Service) refreshPreviews(ctx context.Context, changed map[id.RoomID]bool) ([]id.RoomID, error) {
	rooms := make([]id.RoomID, 0, len(changed))
	for room := range changed {
		rooms = append(rooms, room)
		r, err := s.store.Room(ctx, room)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if err := s.previewNow(ctx, r); err != nil {
			return nil, err
		}
		if err := s.store.PutRoom(ctx, r); err != nil {
			return nil, err
		}
	}
	return rooms, nil
}

// cryptoForSync sets up encryption before a sync when this session has it. A failure that may
// pass (the network) fails the sync so that it is retried; any other is logged once and the
// sync goes on without encryption, showing encrypted messages as not decryptable.
// SetUpEncryption readies end-to-end encryption as a sync does first: the device's keys are
// uploaded. A command that answers without a sync (dms on a new device) calls it.
func (s *Service) SetUpEncryption(ctx context.Context) error { return s.cryptoForSync(ctx) }

func (s *Service) cryptoForSync(ctx context.Context) error {
	if s.cryptoPath == "" || s.crypt.Load() != nil || s.cryptoFailed != nil {
		return nil
	}
	_, err := s.cryptoReady(ctx)
	if err == nil {
		return nil
	}
	if Temporary(err) || IsLoggedOut(err) || ctx.Err() != nil {
		return err
	}
	s.cryptoFailed = err
	s.log.Error().Err(err).Msg("end-to-end encryption could not be set up; encrypted messages stay unreadable")
	return nil
}

// dispatchTimeline hands in-room verification events to the verification helper.
func (s *Service) dispatchTimeline(ctx context.Context, evt *event.Event) {
	e := s.crypt.Load()
	if e == nil || evt.Type == event.EventEncrypted {
		return
	}
	evt.Type.Class = event.MessageEventType
	if !e.disp.wants(evt.Type) || s.ownVerificationEcho(evt) {
		return
	}
	if evt.Type == event.EventMessage && gjson.GetBytes(evt.Content.VeryRaw, "msgtype").Str != string(event.MsgVerificationRequest) {
		return // every message would otherwise be decoded twice
	}
	// In an encrypted room a verification goes encrypted (messageFrom dispatches it once
	// decrypted): a plain step there is anyone's, the server's included.
	if enc, err := s.store.State.IsEncrypted(ctx, evt.RoomID); err != nil || enc {
		if err == nil {
			s.log.Warn().Stringer("room_id", evt.RoomID).Stringer("sender", evt.Sender).Str("type", evt.Type.Type).
				Msg("ignored a verification step sent in plain text in an encrypted room")
		}
		return
	}
	if evt.Content.Parsed == nil {
		_ = evt.Content.ParseRaw(evt.Type)
	}
	e.op.Lock()
	defer e.op.Unlock()
	e.disp.dispatch(ctx, evt)
}

// shouldEncrypt is R10's test for a new DM with x: encryption is on here, the homeserver's
// .well-known does not turn it off, and x has at least one device to share keys with. A
// conversation with x that was encrypted before goes on encrypted whatever the server says
// (its .well-known, or x's device list), and a device list that cannot be had counts as a
// device: the server must not be able to steer a new DM into plain text.
func (s *Service) shouldEncrypt(ctx context.Context, x id.UserID) bool {
	if s.cryptoPath == "" {
		return false
	}
	if s.conversationEncrypted(ctx, x) {
		return true
	}
	if !s.cfg.Encryption || s.wellKnownE2EEOff(ctx) {
		return false
	}
	resp, err := s.cli.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{x: mautrix.DeviceIDList{}}})
	if err != nil {
		s.log.Warn().Err(err).Stringer("user_id", x).Msg("could not look up devices; creating the DM encrypted")
		return true
	}
	return len(resp.DeviceKeys[x]) > 0
}

// wellKnownE2EEOff reads io.element.e2ee.default from the homeserver's .well-known/matrix/client
// (asked once per run; an unreachable or absent file leaves encryption on).
func (s *Service) wellKnownE2EEOff(ctx context.Context) bool {
	s.wellKnownOnce.Do(func() {
		_, server, _ := s.me.Parse()
		for _, base := range []string{"https://" + server, s.cli.HomeserverURL.String()} {
			off, ok := fetchE2EEDefaultOff(ctx, strings.TrimRight(base, "/")+"/.well-known/matrix/client")
			if ok {
				s.wellKnownOff = off
				return
			}
		}
	})
	return s.wellKnownOff
}

func fetchE2EEDefaultOff(ctx context.Context, url string) (off, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, false
	}
	resp, err := discoveryClient.Do(req)
	if err != nil {
		return false, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || !gjson.ValidBytes(body) {
		return false, false
	}
	v := gjson.GetBytes(body, `io\.element\.e2ee.default`)
	return v.Type == gjson.False, true
}

// ownVerificationEcho is an in-room verification step we sent, coming back through sync: the
// helper would take it for the other side's. A request in a room from ourselves is dropped too:
// ours go to the other person, and our own devices are asked by to-device messages, so one
// addressed to us is the server's making, which would be offered as from one of our devices.
func (s *Service) ownVerificationEcho(evt *event.Event) bool {
	if evt.Sender != s.me {
		return false
	}
	return strings.HasPrefix(evt.Type.Type, "m.key.verification.") ||
		evt.Type == event.EventMessage && gjson.GetBytes(evt.Content.VeryRaw, "msgtype").Str == string(event.MsgVerificationRequest)
}

// roomEncrypted reports whether a room is encrypted now, as the store remembers it (a later
// state event cannot turn that off).
func (s *Service) roomEncrypted(ctx context.Context, room id.RoomID) bool {
	enc, err := s.store.State.IsEncrypted(ctx, room)
	return err == nil && enc
}
