package matrixsvc

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mau.fi/util/jsontime"
	"maunium.net/go/mautrix/crypto/verificationhelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// VerifyStage is where an interactive (emoji) verification is.
type VerifyStage int

const (
	VerifyRequested VerifyStage = iota // someone asks us to verify; Accept or Cancel
	VerifyReady                        // both sides agreed; the emoji come next
	VerifyEmoji                        // compare Emoji with the other screen; Confirm or Cancel
	VerifyDone                         // verified
	VerifyCancelled                    // Reason says why
)

// Verification is the state of an emoji verification, published whenever it changes.
type Verification struct {
	Txn    string
	User   id.UserID   // the other side (ourselves for our own devices)
	Device id.DeviceID // their device, when known
	Stage  VerifyStage
	Emoji  []SASEmoji // at VerifyEmoji: the seven emoji to compare
	Reason string     // at VerifyCancelled
	Ours   bool       // we started it
}

// SASEmoji is one of the seven emoji of a verification with its English name.
type SASEmoji struct {
	Emoji string
	Name  string
}

func (Verification) isEvent() {}

// verifyCallbacks receives mautrix's verification helper callbacks and publishes them.
type verifyCallbacks struct {
	s    *Service
	mu   sync.Mutex
	ours map[id.VerificationTransactionID]id.UserID
	last map[id.VerificationTransactionID]Verification

	pending    []Verification // published in order by one goroutine at a time
	publishing bool
}

func (c *verifyCallbacks) update(_ context.Context, txn id.VerificationTransactionID, f func(v *Verification)) {
	c.mu.Lock()
	if c.last == nil {
		c.last = make(map[id.VerificationTransactionID]Verification)
	}
	v := c.last[txn]
	v.Txn = string(txn)
	if u, ok := c.ours[txn]; ok {
		v.Ours, v.User = true, u
	}
	f(&v)
	c.last[txn] = v
	c.mu.Unlock()
	// Handed to one publishing goroutine, in order: the helper calls back holding its own
	// lock, and whoever reads the event may call back into the helper.
	c.queue(v)
}

func (c *verifyCallbacks) VerificationRequested(ctx context.Context, txn id.VerificationTransactionID, from id.UserID, fromDevice id.DeviceID) {
	c.update(ctx, txn, func(v *Verification) {
		v.User, v.Device, v.Stage = from, fromDevice, VerifyRequested
	})
}

func (c *verifyCallbacks) VerificationReady(ctx context.Context, txn id.VerificationTransactionID, otherDevice id.DeviceID, supportsSAS, _ bool, _ *verificationhelper.QRCode) {
	c.update(ctx, txn, func(v *Verification) {
		v.Device, v.Stage = otherDevice, VerifyReady
	})
	c.mu.Lock()
	_, ours := c.ours[txn]
	c.mu.Unlock()
	if !ours {
		return
	}
	if !supportsSAS {
		go func() {
			_ = c.s.CancelVerification(c.s.log.WithContext(context.Background()), string(txn), false)
		}()
		return
	}
	// We asked: we start the emoji exchange. Not from here: the helper holds its lock.
	go func() {
		// A fresh context: the callback's may carry the sync's database transaction, which is
		// over by the time this runs.
		ctx := c.s.log.WithContext(context.Background())
		if e := c.s.crypt.Load(); e != nil {
			e.op.Lock()
			err := e.verify.StartSAS(ctx, txn)
			e.op.Unlock()
			if err != nil {
				c.s.log.Warn().Err(err).Msg("could not start the emoji verification")
				c.update(ctx, txn, func(v *Verification) { v.Stage, v.Reason = VerifyCancelled, "could not start: "+err.Error() })
			}
		}
	}()
}

func (c *verifyCallbacks) VerificationCancelled(ctx context.Context, txn id.VerificationTransactionID, code event.VerificationCancelCode, reason string) {
	c.update(ctx, txn, func(v *Verification) {
		v.Stage, v.Reason = VerifyCancelled, cancelReason(code, reason)
	})
}

func (c *verifyCallbacks) VerificationDone(ctx context.Context, txn id.VerificationTransactionID, _ event.VerificationMethod) {
	c.update(ctx, txn, func(v *Verification) { v.Stage = VerifyDone })
}

func (c *verifyCallbacks) ShowSAS(ctx context.Context, txn id.VerificationTransactionID, emojis []rune, names []string, _ []int) {
	out := make([]SASEmoji, len(emojis))
	for i, e := range emojis {
		out[i] = SASEmoji{Emoji: string(e)}
		if i < len(names) {
			out[i].Name = names[i]
		}
	}
	c.update(ctx, txn, func(v *Verification) { v.Stage, v.Emoji = VerifyEmoji, out })
}

func cancelReason(code event.VerificationCancelCode, reason string) string {
	switch code {
	case event.VerificationCancelCodeUser:
		return "cancelled"
	case event.VerificationCancelCodeSASMismatch, event.VerificationCancelCodeKeyMismatch:
		return "the emoji did not match: the other device may not be who it claims"
	case event.VerificationCancelCodeTimeout:
		return "timed out"
	case event.VerificationCancelCodeAccepted:
		return "answered on another device"
	}
	if reason != "" {
		return reason
	}
	return string(code)
}

// queue publishes v after the updates before it, without waiting for a reader.
func (c *verifyCallbacks) queue(v Verification) {
	c.mu.Lock()
	c.pending = append(c.pending, v)
	start := !c.publishing
	c.publishing = true
	c.mu.Unlock()
	if !start {
		return
	}
	go func() {
		for {
			c.mu.Lock()
			if len(c.pending) == 0 {
				c.publishing = false
				c.mu.Unlock()
				return
			}
			v := c.pending[0]
			c.pending = c.pending[1:]
			c.mu.Unlock()
			if c.s.listening.Load() {
				c.s.publish(context.Background(), v)
			}
		}
	}()
}

// StartVerification asks user to verify with emoji: ourselves (our other devices) or the
// person of a DM. Progress comes as Verification events.
func (s *Service) StartVerification(ctx context.Context, user id.UserID) (string, error) {
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return "", err
	}
	// The request goes to every device the helper knows of: ask the server for the current
	// list first, so that a device added a moment ago is asked too.
	e.op.Lock()
	defer e.op.Unlock()
	if _, err := e.mach.FetchKeys(ctx, []id.UserID{user}, true); err != nil {
		return "", fmt.Errorf("look up the devices of %s: %w", user, s.wrap(err))
	}
	var txn id.VerificationTransactionID
	if user == s.me {
		txn, err = e.verify.StartVerification(ctx, user)
	} else {
		// Another person is verified in the DM, as Element does it (it does not answer
		// to-device requests from other people).
		room, found, ferr := s.FindDM(ctx, user)
		switch {
		case ferr != nil:
			return "", ferr
		case !found:
			return "", fmt.Errorf("no DM with %s to verify in: send them a message first", user)
		}
		txn, err = s.requestInRoom(ctx, e, room, user)
	}
	if err != nil {
		return "", fmt.Errorf("start verification: %w", s.wrap(err))
	}
	cb := s.verifyCB
	cb.mu.Lock()
	if cb.ours == nil {
		cb.ours = make(map[id.VerificationTransactionID]id.UserID)
	}
	cb.ours[txn] = user
	cb.mu.Unlock()
	return string(txn), nil
}

// AcceptVerification answers a verification request someone else started.
func (s *Service) AcceptVerification(ctx context.Context, txn string) error {
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return err
	}
	e.op.Lock()
	defer e.op.Unlock()
	if err := e.verify.AcceptVerification(ctx, id.VerificationTransactionID(txn)); err != nil {
		return fmt.Errorf("accept verification: %w", s.wrap(err))
	}
	return nil
}

// ConfirmVerification says the emoji match.
func (s *Service) ConfirmVerification(ctx context.Context, txn string) error {
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return err
	}
	e.op.Lock()
	defer e.op.Unlock()
	// Their keys as the server has them now: a stale master key would fail the check.
	if v, ok := s.verifyCB.get(txn); ok && v.User != "" && v.User != s.me {
		if _, err := e.mach.FetchKeys(ctx, []id.UserID{v.User}, true); err != nil {
			return fmt.Errorf("look up the keys of %s: %w", v.User, s.wrap(err))
		}
	}
	if err := e.verify.ConfirmSAS(ctx, id.VerificationTransactionID(txn)); err != nil {
		return fmt.Errorf("confirm verification: %w", s.wrap(err))
	}
	return nil
}

// CancelVerification stops a verification; mismatch says the emoji differed.
func (s *Service) CancelVerification(ctx context.Context, txn string, mismatch bool) error {
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return err
	}
	code, reason := event.VerificationCancelCodeUser, "cancelled by the user"
	if mismatch {
		code, reason = event.VerificationCancelCodeSASMismatch, "the emoji did not match"
	}
	e.op.Lock()
	defer e.op.Unlock()
	if err := e.verify.CancelVerification(ctx, id.VerificationTransactionID(txn), code, reason); err != nil {
		return fmt.Errorf("cancel verification: %w", s.wrap(err))
	}
	return nil
}

// RefuseVerification cancels a verification request we do not want to answer (it is not from
// the person we wait for), telling the other side why.
func (s *Service) RefuseVerification(ctx context.Context, txn, reason string) error {
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return err
	}
	e.op.Lock()
	defer e.op.Unlock()
	if err := e.verify.CancelVerification(ctx, id.VerificationTransactionID(txn), event.VerificationCancelCodeUser, reason); err != nil {
		return fmt.Errorf("refuse verification: %w", s.wrap(err))
	}
	return nil
}

// PeerTrust is what is known about a person's devices (or our own).
type PeerTrust struct {
	Verified   bool          // verified by cross-signing, or one of their devices verified by emoji
	Devices    int           // devices with encryption keys (our current device not counted)
	Unverified []id.DeviceID // devices not verified; for a verified person, each is a warning
}

// PeerTrust reports whether user is verified and which of their devices are not. For our own
// user it is about our other devices, and Verified says this device is cross-signed.
func (s *Service) PeerTrust(ctx context.Context, user id.UserID) (PeerTrust, error) {
	var out PeerTrust
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return out, err
	}
	e.op.Lock()
	defer e.op.Unlock()
	devices, err := e.mach.CryptoStore.GetDevices(ctx, user)
	if err != nil {
		return out, err
	}
	if len(devices) == 0 {
		fetched, err := e.mach.FetchKeys(ctx, []id.UserID{user}, true)
		if err != nil {
			return out, s.wrap(err)
		}
		devices = fetched[user]
	}
	userTrusted, err := e.mach.IsUserTrusted(ctx, user)
	if err != nil {
		return out, err
	}
	someLocal := false
	for devID, dev := range devices {
		if user == s.me && devID == s.cli.DeviceID {
			continue
		}
		out.Devices++
		if !e.mach.IsDeviceTrusted(ctx, dev) {
			out.Unverified = append(out.Unverified, devID)
		} else if dev.Trust == id.TrustStateVerified {
			someLocal = true
		}
	}
	slices.Sort(out.Unverified)
	// Someone whose device we compared emoji with is verified, and a device they add later
	// without verifying it is a warning, not a reason to forget that.
	out.Verified = userTrusted || someLocal
	return out, nil
}

func (c *verifyCallbacks) get(txn string) (Verification, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.last[id.VerificationTransactionID(txn)]
	return v, ok
}

// requestInRoom sends a verification request into a DM. mautrix's StartInRoomVerification
// encrypts the request twice in an encrypted room (its client encrypts what it was handed
// already encrypted), which no other client can read; this sends it once, encrypted by the
// client like every other message, and registers the transaction with the helper the same way.
func (s *Service) requestInRoom(ctx context.Context, e *e2ee, room id.RoomID, to id.UserID) (id.VerificationTransactionID, error) {
	content := &event.MessageEventContent{
		MsgType: event.MsgVerificationRequest,
		Body: fmt.Sprintf("%s is requesting to verify your device, but your client does not support verification, "+
			"so you may need to use a different verification method.", s.me),
		FromDevice: s.cli.DeviceID,
		Methods:    []event.VerificationMethod{event.VerificationMethodSAS},
		To:         to,
	}
	resp, err := s.cli.SendMessageEvent(ctx, room, event.EventMessage, content)
	if err != nil {
		return "", err
	}
	txn := id.VerificationTransactionID(resp.EventID)
	err = e.vstore.SaveVerificationTransaction(ctx, verificationhelper.VerificationTransaction{
		ExpirationTime:    jsontime.UnixMilli{Time: time.Now().Add(10 * time.Minute)},
		RoomID:            room,
		VerificationState: verificationhelper.VerificationStateRequested,
		TransactionID:     txn,
		TheirUserID:       to,
	})
	return txn, err
}
