package cli

import (
	"github.com/spf13/cobra"
)

// completionShells are the shells `duet completion` writes a script for.
var completionShells = []string{"bash", "zsh", "fish"}

// completionCommand is `duet completion bash|zsh|fish`: the script that makes the shell ask
// duet (its hidden __complete command) for the candidates of whatever is being typed. It
// replaces cobra's own completion command, whose bad usage would not be exit 2.
func completionCommand(inv *invocation) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "print the shell completion script for bash, zsh or fish",
		Long: "Print the script that completes duet's commands, options and arguments in bash, zsh or\n" +
			"fish. Load it in the current shell, or install it where the shell looks for it.",
		Annotations: map[string]string{"args": "  bash|zsh|fish  the shell to complete in"},
		Example: "  source <(duet completion bash)      # bash, this shell (or in ~/.bashrc)\n" +
			"  duet completion zsh > \"${fpath[1]}/_duet\"    # zsh, where compinit finds it\n" +
			"  duet completion fish > ~/.config/fish/completions/duet.fish",
		DisableFlagsInUseLine: true,
		ValidArgs:             completionShells,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("wrong number of arguments (usage: duet completion bash|zsh|fish)")
			}
			for _, s := range completionShells {
				if args[0] == s {
					return nil
				}
			}
			return usagef("no completion for %q: bash, zsh or fish", args[0])
		},
		RunE: inv.wrap(func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), inv.env.Stdout
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			default:
				return root.GenFishCompletion(w, true)
			}
		}),
	}
}
