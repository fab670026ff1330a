package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
)

// readSecret reads a key, password or passphrase: the first line of standard input with
// --stdin, else a prompt without echo on the terminal.
func readSecret(env Env, prompt string, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(env.Stdin, 64<<10)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", errors.New("nothing on standard input")
		}
		return line, nil
	}
	if env.ReadPassword == nil {
		return "", usagef("standard input is not a terminal: pass --stdin and pipe it in")
	}
	s, err := env.ReadPassword(prompt)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", errors.New("nothing entered")
	}
	return s, nil
}

func cmdVerify(ctx context.Context, env Env, app *App, o *opts) error {
	modes := 0
	// --accept @user answers only @user: the two go together.
	for _, on := range []bool{o.recovery, o.setup, o.accept || len(o.pos) > 0} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return usagef("choose one of --recovery-key, --setup, --accept [@user] or @user")
	}
	switch {
	case o.recovery:
		return verifyRecovery(ctx, env, app, o)
	case o.setup:
		return setUpRecovery(ctx, env, app, o)
	}
	who := app.Svc.Me()
	if len(o.pos) == 1 {
		u, err := parseUser(app, o.pos[0])
		if err != nil {
			return err
		}
		who = u
	}
	return verifyInteractively(ctx, env, app, who, o.accept)
}

func verifyRecovery(ctx context.Context, env Env, app *App, o *opts) error {
	key, err := readSecret(env, "Recovery key or passphrase: ", o.secretStdin)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, "Checking the recovery key and restoring from key backup…")
	res, err := app.Svc.VerifyWithRecoveryKey(ctx, key)
	switch {
	case errors.Is(err, matrixsvc.ErrNoRecovery):
		return fmt.Errorf("%w: make one with `duet verify --setup`", err)
	case err != nil:
		return err
	}
	fmt.Fprintln(env.Stdout, "This device is verified.")
	if !res.BackupFound {
		fmt.Fprintln(env.Stdout, "The account has no key backup: older messages stay unreadable here.")
		return nil
	}
	fmt.Fprintf(env.Stdout, "Restored %d room key(s) from key backup; %d stored message(s) decrypted.\n", res.Restored, res.Decrypted)
	return nil
}

func setUpRecovery(ctx context.Context, env Env, app *App, o *opts) error {
	has, err := app.Svc.HasRecovery(ctx)
	if err != nil {
		return err
	}
	if has {
		return errors.New("this account already has a recovery key: use `duet verify --recovery-key`")
	}
	password, err := readSecret(env, fmt.Sprintf("Password for %s (to confirm new cross-signing keys): ", app.Svc.Me()), o.secretStdin)
	if err != nil {
		return err
	}
	key, err := app.Svc.SetUpRecovery(ctx, password, "")
	if key == "" && err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Your recovery key (shown once; keep it somewhere safe, it opens your message history):\n\n    %s\n\n", key)
	fmt.Fprintln(env.Stdout, "This device is verified, and room keys are backed up from now on.")
	return err
}

// verifyInteractively runs an emoji verification in the terminal: started here with who, or
// (accept) answering one that who started: one of our own devices when who is us. A request
// from anyone else is refused, said on stderr, and the wait goes on: whoever the server lets
// send one (CVE-2022-39250's setting, Albrecht et al. 2023) must not get an answer nobody asked
// for.
func verifyInteractively(ctx context.Context, env Env, app *App, who id.UserID, accept bool) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	events := app.Svc.Events()
	done := make(chan struct{})
	runCtx, stop := context.WithCancel(ctx)
	go func() { defer close(done); app.Svc.Run(runCtx) }()
	defer func() { stop(); <-done }()

	t := &terminalVerification{env: env, app: app, who: who, me: app.Svc.Me()}
	if err := t.begin(ctx, accept); err != nil {
		return err
	}
	t.answers = bufio.NewReader(env.Stdin)
	for {
		var evt matrixsvc.Event
		select {
		case <-ctx.Done():
			if t.txn != "" {
				_ = app.Svc.CancelVerification(context.WithoutCancel(ctx), t.txn, false)
			}
			return errors.New("verification stopped: no answer in time")
		case evt = <-events:
		}
		v, ok := evt.(matrixsvc.Verification)
		if !ok {
			continue
		}
		if t.txn == "" && v.Stage == matrixsvc.VerifyRequested {
			if err := t.answerRequest(ctx, v); err != nil {
				return err
			}
			continue
		}
		if v.Txn != t.txn {
			continue
		}
		if finished, err := t.step(ctx, v); finished || err != nil {
			return err
		}
	}
}

// terminalVerification is one verifyInteractively: with whom, and the verification's
// transaction once there is one.
type terminalVerification struct {
	env     Env
	app     *App
	who, me id.UserID
	txn     string
	answers *bufio.Reader // stdin, where the emoji comparison is answered
}

// begin says what is awaited, starting the verification unless it is one to accept.
func (t *terminalVerification) begin(ctx context.Context, accept bool) error {
	who := sanitize.Line(string(t.who))
	switch {
	case accept && t.who == t.me:
		fmt.Fprintln(t.env.Stderr, "Waiting for a verification request: start one on your other device (Ctrl+C stops).")
	case accept:
		fmt.Fprintf(t.env.Stderr, "Waiting for a verification request from %s: ask them to start one (Ctrl+C stops).\n", who)
	default:
		txn, err := t.app.Svc.StartVerification(ctx, t.who)
		if err != nil {
			return err
		}
		t.txn = txn
		if t.who == t.me {
			fmt.Fprintln(t.env.Stderr, "Asked your other devices to verify: accept there.")
		} else {
			fmt.Fprintf(t.env.Stderr, "Asked %s to verify: they accept on their device.\n", who)
		}
	}
	return nil
}

// answerRequest accepts a request from whom we wait for, and refuses (saying so) anyone
// else's.
func (t *terminalVerification) answerRequest(ctx context.Context, v matrixsvc.Verification) error {
	from, device := sanitize.Line(string(v.User)), sanitize.Line(string(v.Device))
	if v.User != t.who {
		waiting := "one of your own devices"
		if t.who != t.me {
			waiting = sanitize.Line(string(t.who))
		}
		fmt.Fprintf(t.env.Stderr, "Refused a verification request from %s (device %s): waiting for %s.\n", from, device, waiting)
		if err := t.app.Svc.RefuseVerification(ctx, v.Txn, "not the verification this device is waiting for"); err != nil {
			fmt.Fprintf(t.env.Stderr, "Could not tell them: %s\n", sanitize.Line(err.Error()))
		}
		return nil
	}
	if t.who == t.me {
		fmt.Fprintf(t.env.Stderr, "Your device %s asks to verify; accepting.\n", device)
	} else {
		fmt.Fprintf(t.env.Stderr, "%s (device %s) asks to verify; accepting.\n", from, device)
	}
	if err := t.app.Svc.AcceptVerification(ctx, v.Txn); err != nil {
		return err
	}
	t.txn = v.Txn
	return nil
}

// step follows the verification to its next stage: the emoji to compare, or its end (finished),
// verified or cancelled.
func (t *terminalVerification) step(ctx context.Context, v matrixsvc.Verification) (finished bool, err error) {
	switch v.Stage {
	case matrixsvc.VerifyEmoji:
		return false, t.compare(ctx, v.Emoji)
	case matrixsvc.VerifyDone:
		if v.Device != "" {
			fmt.Fprintf(t.env.Stdout, "Verified %s (device %s).\n", sanitize.Line(string(v.User)), sanitize.Line(string(v.Device)))
		} else {
			fmt.Fprintf(t.env.Stdout, "Verified %s.\n", sanitize.Line(string(v.User)))
		}
		return true, nil
	case matrixsvc.VerifyCancelled:
		// The reason may be the other side's own words.
		return true, fmt.Errorf("verification cancelled: %s", sanitize.Line(v.Reason))
	}
	return false, nil
}

// compare shows the emoji and asks whether they match the other screen: yes confirms, anything
// else cancels the verification.
func (t *terminalVerification) compare(ctx context.Context, emoji []matrixsvc.SASEmoji) error {
	out := t.env.Stdout
	fmt.Fprintln(out, "Compare these emoji with the other screen:")
	fmt.Fprintln(out)
	for _, e := range emoji {
		fmt.Fprintf(out, "  %s  %s\n", e.Emoji, e.Name)
	}
	fmt.Fprint(out, "\nDo they match, in the same order? [y/N] ")
	line, _ := t.answers.ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		_ = t.app.Svc.CancelVerification(ctx, t.txn, true)
		return errors.New("verification cancelled: the emoji did not match")
	}
	if err := t.app.Svc.ConfirmVerification(ctx, t.txn); err != nil {
		return err
	}
	fmt.Fprintln(t.env.Stderr, "Waiting for the other side to confirm…")
	return nil
}

func cmdKeys(ctx context.Context, env Env, app *App, o *opts) error {
	file := o.pos[1]
	switch o.pos[0] {
	case "export":
		pass, err := readSecret(env, "Passphrase to protect the exported keys: ", o.secretStdin)
		if err != nil {
			return err
		}
		if !o.secretStdin && env.ReadPassword != nil {
			again, err := env.ReadPassword("The same passphrase again: ")
			if err != nil {
				return err
			}
			if again != pass {
				return errors.New("the passphrases differ: nothing exported")
			}
		}
		data, n, err := app.Svc.ExportKeys(ctx, pass)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("write %s: %w (an existing file is never overwritten)", file, err)
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", file, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", file, err)
		}
		fmt.Fprintf(env.Stdout, "Exported %d room key(s) to %s.\n", n, file)
		return nil
	case "import":
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		pass, err := readSecret(env, "Passphrase of the key file: ", o.secretStdin)
		if err != nil {
			return err
		}
		imported, total, err := app.Svc.ImportKeys(ctx, pass, data)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Imported %d new room key(s) of %d in %s.\n", imported, total, file)
		return nil
	}
	return usagef("keys takes export or import (usage: duet keys export|import FILE [--stdin])")
}
