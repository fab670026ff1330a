package newdm

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/ui/styles"
)

// users knows one user, Erin.
type users struct{}

func (users) CheckUser(_ context.Context, raw string) (id.UserID, string, error) {
	if raw == "@erin:example.org" {
		return id.UserID(raw), "Erin", nil
	}
	return "", "", errors.New(raw + " does not exist")
}

// notes is a host that takes notes of the status bar.
type notes struct{ errs, infos []string }

func (n *notes) Error(text string) { n.errs = append(n.errs, text) }
func (n *notes) Info(text string)  { n.infos = append(n.infos, text) }

func newPrompt() (*Model, *notes) {
	n := &notes{}
	p := New(users{}, n, Options{Styles: styles.Default()})
	p.SetWidth(60)
	return p, n
}

func typeIn(p *Model, text string) {
	for _, r := range text {
		p.HandleKey(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// The ID typed is checked on enter; a user that does not exist is said in the prompt, which
// stays open to fix it, and in the status bar. One that exists closes it.
func TestPromptChecksTheID(t *testing.T) {
	p, n := newPrompt()
	p.Open()
	p.Focus()
	typeIn(p, " @nobody:example.org ")
	cmd := p.HandleKey(tea.KeyPressMsg{Code: tea.KeyEnter})
	if !strings.Contains(p.View(), "checking…") || p.HandleKey(tea.KeyPressMsg{Code: tea.KeyEnter}) != nil {
		t.Fatalf("not busy while checking:\n%s", p.View())
	}
	if _, ok := p.Checked(cmd().(Msg)); ok || !p.Active() {
		t.Fatal("a user that does not exist was taken, or the prompt closed")
	}
	if !strings.Contains(p.View(), "@nobody:example.org does not exist") || len(n.errs) != 1 {
		t.Fatalf("the error is not said: %q\n%s", n.errs, p.View())
	}
	p.Open()
	typeIn(p, "@erin:example.org")
	u, ok := p.Checked(p.HandleKey(tea.KeyPressMsg{Code: tea.KeyEnter})().(Msg))
	if !ok || u.ID != "@erin:example.org" || u.Label() != "Erin" || p.Active() {
		t.Fatalf("checked %+v, %v; prompt open: %v", u, ok, p.Active())
	}
}

// An answer to a check that was cancelled (the prompt closed or opened again) or replaced by
// another is ignored.
func TestCancelledChecksAreIgnored(t *testing.T) {
	p, n := newPrompt()
	first := p.Check("@erin:example.org")
	if len(n.infos) != 1 || n.infos[0] != "checking @erin:example.org…" {
		t.Fatalf("status bar: %q", n.infos)
	}
	second := p.Check("@nobody:example.org")
	if _, ok := p.Checked(first().(Msg)); ok {
		t.Fatal("a replaced check was taken")
	}
	p.Open()
	if _, ok := p.Checked(second().(Msg)); ok || len(n.errs) != 0 {
		t.Fatalf("a cancelled check was answered: %q", n.errs)
	}
	third := p.Check("@erin:example.org")
	p.Close()
	if _, ok := p.Checked(third().(Msg)); ok {
		t.Fatal("a check answered after the prompt closed was taken")
	}
}

func TestLabel(t *testing.T) {
	if got := Label("@erin:example.org", "  "); got != "@erin:example.org" {
		t.Fatalf("no name: %q", got)
	}
	if got := Label("@erin:example.org", "Erin\x1b[31m"); strings.ContainsRune(got, 0x1b) || !strings.HasPrefix(got, "Erin") {
		t.Fatalf("name not sanitized: %q", got)
	}
}
