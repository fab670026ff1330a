package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"duet/ui/keys"
)

// ManTree is the command tree as the man pages show it (internal/cli/mangen writes them with
// cobra/doc): the same definitions as the command line, and duet(1) adds a summary of the
// commands, the keys of the UI (from the default keymap) and the files.
func ManTree() *cobra.Command {
	inv := &invocation{}
	root := newRoot(inv)
	var b strings.Builder
	b.WriteString(root.Long)
	b.WriteString("\n\n# COMMANDS\n")
	for _, c := range root.Commands() {
		if c.Hidden {
			continue
		}
		fmt.Fprintf(&b, "\n**duet %s**\n: %s; see **duet-%s**(1).\n", mdEscape(c.Use), mdEscape(c.Short), c.Name())
	}
	b.WriteString("\n# KEYS IN THE UI\n\n" +
		"The default keys; each can be changed in config.toml under [keys] by the action name shown in " +
		"parentheses. In the UI, ? shows every key.\n")
	km := keys.DefaultKeyMap()
	for _, action := range km.Actions() {
		h := km.Bindings()[action].Help()
		if h.Key == "" {
			continue
		}
		fmt.Fprintf(&b, "\n**%s**\n: %s (%s)\n", mdEscape(h.Key), mdEscape(h.Desc), action)
	}
	b.WriteString(`
# FILES

*$XDG_CONFIG_HOME/duet/config.toml*
: settings and keys (~/.config when XDG_CONFIG_HOME is unset).

*$XDG_DATA_HOME/duet/PROFILE/session.json*
: the session: access token and device, readable by you alone.

*$XDG_DATA_HOME/duet/PROFILE/duet.db*
: the local cache of rooms and messages, and the messages queued to be sent (**--reset-cache** rebuilds it).

*$XDG_DATA_HOME/duet/PROFILE/crypto.db*
: this device's end-to-end encryption keys: not a cache.

*$XDG_STATE_HOME/duet/PROFILE/duet.log*
: the log.

PROFILE is *default* unless **--profile** names another.

# EXIT STATUS

0 success, 1 failure (one line on standard error says why), 2 bad usage.
`)
	root.Long = b.String()
	root.DisableAutoGenTag = true
	return root
}

// mdEscape keeps text literal in the Markdown the man page is made from.
func mdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `[`, `\[`, `]`, `\]`, `<`, `\<`).Replace(s)
}
