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

	var txn string
	me := app.Svc.Me()
	if accept && who == me {
		fmt.Fprintln(env.Stderr, "Waiting for a verification request: start one on your other device (Ctrl+C stops).")
	} else if accept {
		fmt.Fprintf(env.Stderr, "Waiting for a verification request from %s: ask them to start one (Ctrl+C stops).\n", sanitize.Line(string(who)))
	} else {
		t, err := app.Svc.StartVerification(ctx, who)
		if err != nil {
			return err
		}
		txn = t
		if who == app.Svc.Me() {
			fmt.Fprintln(env.Stderr, "Asked your other devices to verify: accept there.")
		} else {
			fmt.Fprintf(env.Stderr, "Asked %s to verify: they accept on their device.\n", sanitize.Line(string(who)))
		}
	}
	answers := bufio.NewReader(env.Stdin)
	for {
		var evt matrixsvc.Event
		select {
		case <-ctx.Done():
			if txn != "" {
				_ = app.Svc.CancelVerification(context.WithoutCancel(ctx), txn, false)
			}
			return errors.New("verification stopped: no answer in time")
		case evt = <-events:
		}
		v, ok := evt.(matrixsvc.Verification)
		if !ok {
			continue
		}
		if txn == "" && v.Stage == matrixsvc.VerifyRequested {
			from, device := sanitize.Line(string(v.User)), sanitize.Line(string(v.Device))
			if v.User != who {
				waiting := "one of your own devices"
				if who != me {
					waiting = sanitize.Line(string(who))
				}
				fmt.Fprintf(env.Stderr, "Refused a verification request from %s (device %s): waiting for %s.\n", from, device, waiting)
				if err := app.Svc.RefuseVerification(ctx, v.Txn, "not the verification this device is waiting for"); err != nil {
					fmt.Fprintf(env.Stderr, "Could not tell them: %s\n", sanitize.Line(err.Error()))
				}
				continue
			}
			if who == me {
				fmt.Fprintf(env.Stderr, "Your device %s asks to verify; accepting.\n", device)
			} else {
				fmt.Fprintf(env.Stderr, "%s (device %s) asks to verify; accepting.\n", from, device)
			}
			if err := app.Svc.AcceptVerification(ctx, v.Txn); err != nil {
				return err
			}
			txn = v.Txn
			continue
		}
		if v.Txn != txn {
			continue
		}
		switch v.Stage {
		case matrixsvc.VerifyEmoji:
			fmt.Fprintln(env.Stdout, "Compare these emoji with the other screen:")
			fmt.Fprintln(env.Stdout)
			for _, e := range v.Emoji {
				fmt.Fprintf(env.Stdout, "  %s  %s\n", e.Emoji, e.Name)
			}
			fmt.Fprint(env.Stdout, "\nDo they match, in the same order? [y/N] ")
			line, _ := answers.ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
				if err := app.Svc.ConfirmVerification(ctx, txn); err != nil {
					return err
				}
				fmt.Fprintln(env.Stderr, "Waiting for the other side to confirm…")
			} else {
				_ = app.Svc.CancelVerification(ctx, txn, true)
				return errors.New("verification cancelled: the emoji did not match")
			}
		case matrixsvc.VerifyDone:
			if v.Device != "" {
				fmt.Fprintf(env.Stdout, "Verified %s (device %s).\n", sanitize.Line(string(v.User)), sanitize.Line(string(v.Device)))
			} else {
				fmt.Fprintf(env.Stdout, "Verified %s.\n", sanitize.Line(string(v.User)))
			}
			return nil
		case matrixsvc.VerifyCancelled:
			// The reason may be the other side's own words.
			return fmt.Errorf("verification cancelled: %s", sanitize.Line(v.Reason))
		}
	}
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
