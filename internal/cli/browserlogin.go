package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"
	"maunium.net/go/mautrix/id"

	"duet/internal/browser"
	"duet/internal/paths"
	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/store"
)

// ssoFlags are login's flags for a login in the browser.
type ssoFlags struct {
	on    bool   // --sso
	paste bool   // --paste: the browser is elsewhere; paste the address it ends on
	port  int    // --port: listen for the browser on this loopback port (an SSH tunnel)
	idp   string // --idp: the identity provider of the legacy single sign-on
}

func (f *ssoFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.on, "sso", false, "log in in the browser: OAuth 2.0 or single sign-on")
	fs.BoolVar(&f.paste, "paste", false, "the browser is on another machine (SSH): paste the address it ends on")
	fs.IntVar(&f.port, "port", 0, "listen for the browser on this loopback port `N` (an SSH tunnel)")
	fs.StringVar(&f.idp, "idp", "", "the identity provider `ID` of a single sign-on")
}

func (f ssoFlags) used() bool { return f.on || f.paste || f.port != 0 || f.idp != "" }

const ssoUsage = "duet login --homeserver URL --sso [--user USER] [--paste] [--port N] [--idp ID]"

// cmdLoginBrowser is `duet login --sso`: OAuth 2.0 or the legacy single sign-on in the browser.
func cmdLoginBrowser(ctx context.Context, env Env, prof paths.Profile, homeserver, user string, fromStdin bool, f ssoFlags) error {
	switch {
	case !f.on:
		return usagef("--paste, --port and --idp go with --sso (usage: %s)", ssoUsage)
	case fromStdin:
		return usagef("--password-stdin does not go with --sso: the password, if any, is typed in the browser")
	case f.paste && f.port != 0:
		return usagef("--paste and --port do not go together: --paste listens on no port")
	case f.port < 0 || f.port > 65535:
		return usagef("--port must be a port number (1-65535)")
	case homeserver == "" && !(strings.HasPrefix(user, "@") && strings.Contains(user, ":")):
		return usagef("--sso needs --homeserver URL (or --user @you:server to find it) (usage: %s)", ssoUsage)
	}
	log, logFile, err := openLog(prof)
	if err != nil {
		return err
	}
	defer logFile.Close()
	in := bufio.NewReader(env.Stdin)
	opts := browserLoginOpts{homeserver: homeserver, user: user, flags: f, tell: func(p matrixsvc.BrowserPrompt) {
		for _, line := range promptLines(p, true) {
			fmt.Fprintln(env.Stderr, line)
		}
	}}
	if f.paste {
		opts.paste = func() (string, error) { return readLine(in) }
	}
	if env.ReadPassword != nil { // a terminal: the person can choose among identity providers
		opts.pick = func(idps []matrixsvc.IdentityProvider) (string, error) { return pickProvider(env, in, idps) }
	}
	sess, err := browserLogin(ctx, env, prof, log, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Logged in as %s (device %s) on %s.\n", sess.UserID, sess.DeviceID, sess.Homeserver)
	return nil
}

type browserLoginOpts struct {
	homeserver, user string
	flags            ssoFlags
	tell             func(matrixsvc.BrowserPrompt)
	paste            func() (string, error)
	pasteNoBrowser   func() (string, error) // the UI's paste field, when no browser opens here
	pick             func([]matrixsvc.IdentityProvider) (string, error)
}

// browserLogin logs in in the browser and saves the session (and the OAuth 2.0 client ID for
// the next login at the same homeserver). Nothing is saved when it fails.
func browserLogin(ctx context.Context, env Env, prof paths.Profile, log zerolog.Logger, o browserLoginOpts) (*store.Session, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	old, _ := store.LoadSession(prof.SessionFile())
	clients := loadClientIDs(prof)
	p := matrixsvc.BrowserLoginParams{
		Homeserver:  o.homeserver,
		User:        o.user,
		DeviceID:    reusableDeviceSSO(prof, old, o.homeserver, o.user),
		KnownClient: func(hs string) string { return clients[hs] },
		Provider:    o.flags.idp,
		Paste:       o.paste,
		Port:        o.flags.port,

		PasteWithoutBrowser: o.pasteNoBrowser,
		Tell:                o.tell,
		Timeout:             env.LoginTimeout,
	}
	if o.pick != nil {
		p.PickProvider = o.pick
	}
	if browser.Available(getenv) {
		p.Browser = func(url string) error { return browser.Open(getenv, url) }
	}
	sess, err := matrixsvc.LoginWithBrowser(ctx, p, log)
	if err != nil {
		log.Warn().Str("error", oneLine(err)).Msg("login in the browser failed")
		return nil, err
	}
	if err := adoptSession(prof, old, sess); err != nil {
		return nil, err
	}
	if sess.OAuthClientID != "" && clients[sess.Homeserver] != sess.OAuthClientID {
		clients[sess.Homeserver] = sess.OAuthClientID
		if err := saveClientIDs(prof, clients); err != nil {
			log.Warn().Err(err).Msg("could not keep the OAuth client ID")
		}
	}
	method := "single sign-on"
	if sess.RefreshToken != "" || sess.OAuthClientID != "" {
		method = "OAuth 2.0"
	}
	log.Info().Stringer("user_id", sess.UserID).Stringer("device_id", sess.DeviceID).Str("method", method).Msg("logged in")
	return sess, nil
}

// reusableDeviceSSO is the device to log in to again: with a user given, as for a password;
// without one, this profile's device when it was on the same homeserver (a different account
// gets its own keys in adoptSession anyway).
func reusableDeviceSSO(prof paths.Profile, old *store.Session, homeserver, user string) id.DeviceID {
	if user != "" {
		return reusableDevice(prof, old, user)
	}
	if old == nil || old.DeviceID == "" || old.PickleKey == "" || homeserver == "" {
		return ""
	}
	if _, err := os.Stat(prof.CryptoDatabase()); err != nil {
		return ""
	}
	if strings.TrimRight(old.Homeserver, "/") == strings.TrimRight(homeserver, "/") {
		return old.DeviceID
	}
	return ""
}

// promptLines says what the person has to do, the address always alone on its own line.
// cli is false for the UI's login screen, which has no --paste.
func promptLines(p matrixsvc.BrowserPrompt, cli bool) []string {
	p.URL, p.UserCode = sanitize.Line(p.URL), sanitize.Line(p.UserCode) // from the server
	via := "OAuth 2.0"
	if p.SingleLogin {
		via = "single sign-on"
		if p.Provider != "" {
			via += " with " + sanitize.Line(p.Provider)
		}
	}
	switch {
	case p.UserCode != "":
		return []string{
			fmt.Sprintf("duet: no browser can be opened here: on any device, open this address and enter the code %s to log in (%s):", p.UserCode, via),
			p.URL,
		}
	case p.Paste:
		return []string{
			fmt.Sprintf("duet: open this address in a browser on any machine and log in (%s):", via),
			p.URL,
			"duet: the browser then goes to an address starting with http://127.0.0.1/ that does not load: copy it from the address bar, paste it here and press enter:",
		}
	case p.BrowserErr != nil:
		return []string{fmt.Sprintf("duet: could not open a browser (%s): open the address above yourself", oneLine(p.BrowserErr))}
	case p.Opening:
		return []string{
			fmt.Sprintf("duet: log in in the browser that opens (%s); if none does, open this address:", via),
			p.URL,
		}
	default:
		hint := "; from SSH, use --paste"
		if !cli {
			hint = ""
		}
		return []string{
			fmt.Sprintf("duet: no browser can be opened here: open this address in a browser on this machine to log in (%s)%s:", via, hint),
			p.URL,
		}
	}
}

// readLine reads one line (the pasted address) from standard input.
func readLine(in *bufio.Reader) (string, error) {
	line, err := in.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("standard input ended before an address was pasted")
		}
		return "", err
	}
	if len(line) > 16<<10 {
		return "", errors.New("that is too long to be the address the browser ended on")
	}
	return strings.TrimSpace(line), nil
}

// pickProvider asks which identity provider to log in with.
func pickProvider(env Env, in *bufio.Reader, idps []matrixsvc.IdentityProvider) (string, error) {
	fmt.Fprintln(env.Stderr, "duet: the homeserver offers several ways to sign in:")
	for i, p := range idps {
		name := p.Name
		if name == "" {
			name = p.ID
		}
		fmt.Fprintf(env.Stderr, "  %d. %s (--idp %s)\n", i+1, sanitize.Line(name), sanitize.Line(p.ID))
	}
	fmt.Fprintf(env.Stderr, "duet: choose one [1-%d]: ", len(idps))
	line, err := readLine(in)
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(line)
	if err != nil || n < 1 || n > len(idps) {
		return "", fmt.Errorf("%q is not one of 1-%d: run the login again, or choose with --idp ID", line, len(idps))
	}
	return idps[n-1].ID, nil
}

// clientIDsFile keeps the OAuth 2.0 client ID duet registered at each homeserver, so that a
// login again (after logout) is the same client there.
func clientIDsFile(prof paths.Profile) string { return filepath.Join(prof.Data, "oauth-clients.json") }

func loadClientIDs(prof paths.Profile) map[string]string {
	ids := map[string]string{}
	if data, err := os.ReadFile(clientIDsFile(prof)); err == nil {
		_ = json.Unmarshal(data, &ids) // a damaged file only means registering again
	}
	return ids
}

func saveClientIDs(prof paths.Profile, ids map[string]string) error {
	if err := paths.EnsurePrivate(prof.Data); err != nil {
		return err
	}
	data, err := json.MarshalIndent(ids, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(clientIDsFile(prof), data, 0o600)
}

// loginBrowserAndOpen is `duet login --sso` for the UI's login screen: tell gets each line to
// show (the UI owns the terminal).
func loginBrowserAndOpen(ctx context.Context, env Env, prof paths.Profile, homeserver, user string, tell func(text string, paste bool), paste func() (string, error)) (*App, error) {
	if homeserver == "" && !(strings.HasPrefix(user, "@") && strings.Contains(user, ":")) {
		return nil, errors.New("enter the homeserver (or your full user ID, @name:server) to log in with single sign-on")
	}
	log, logFile, err := openLog(prof)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	_, err = browserLogin(ctx, env, prof, log, browserLoginOpts{homeserver: homeserver, user: user, tell: func(p matrixsvc.BrowserPrompt) {
		tell(strings.Join(promptLines(p, false), "\n"), p.Paste)
	}, pasteNoBrowser: paste})
	if err != nil {
		return nil, err
	}
	return OpenApp(ctx, env, prof)
}
