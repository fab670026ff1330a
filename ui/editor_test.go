package ui

import (
	"os"
	"path/filepath"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// withEditor makes a stand-in $EDITOR, a sh script written here, the editor of h's UI. It
// runs for real (the harness runs tea.ExecProcess's command), with the draft's path as "$1".
func withEditor(t *testing.T, h *harness, body string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ed.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.m.opts.Getenv = func(name string) string {
		if name == "EDITOR" {
			return path
		}
		return "" // no $VISUAL: $EDITOR is used
	}
}

func ctrlE(h *harness) { h.send(tea.KeyPressMsg{Code: 'e', Mod: tea.ModCtrl}) }

// ctrl+e hands the typed draft to the editor; what it saves is the draft, ready to send, and
// nothing is sent until enter.
func TestEditorWritesTheDraft(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 100, 30)
	openAlice(h)
	withEditor(t, h, `printf '%s and more\n' "$(cat "$1")" > "$1.new" && mv "$1.new" "$1"`)
	h.typeText("see you")
	ctrlE(h)
	if h.execs != 1 {
		t.Fatalf("the editor ran %d times", h.execs)
	}
	if got := h.m.composer.Value(); got != "see you and more" {
		t.Fatalf("composer holds %q", got)
	}
	if len(svc.sends) != 0 || len(svc.edits) != 0 {
		t.Fatalf("something was sent: %+v %+v", svc.sends, svc.edits)
	}
	requireContains(t, h.view(), "› see you and more")
	h.key(tea.KeyEnter)
	if len(svc.sends) != 1 || svc.sends[0].Body != "see you and more" {
		t.Fatalf("sent: %+v", svc.sends)
	}
}

// While editing one of our messages, the editor edits that text; enter sends the edit.
func TestEditorEditsAMessage(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 100, 30)
	openAlice(h)
	withEditor(t, h, `sed -i 's/10/11/' "$1"`)
	h.key(tea.KeyUp)
	ctrlE(h)
	if got := h.m.composer.Value(); got != "Yes, 11 o'clock at the station." {
		t.Fatalf("composer holds %q", got)
	}
	if c := h.m.openChat(); !c.Editing() || len(svc.edits) != 0 {
		t.Fatalf("editing %v, edits sent %+v", c.Editing(), svc.edits)
	}
	h.key(tea.KeyEnter)
	if len(svc.edits) != 1 || svc.edits[0].Body != "Yes, 11 o'clock at the station." || len(svc.sends) != 0 {
		t.Fatalf("edits %+v, sends %+v", svc.edits, svc.sends)
	}
}

// An empty file, a non-zero exit or an editor that cannot start leave the draft as it was,
// and the status bar says why.
func TestEditorKeepsTheDraft(t *testing.T) {
	for _, c := range []struct{ name, script, says string }{
		{"empty", `: > "$1"`, "Editor: the file was empty; the draft is as it was"},
		{"exit 3", `echo changed > "$1"; exit 3`, "exited with status 3; the draft is as it was"},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc := fixture()
			h := newHarness(t, svc, 120, 30)
			openAlice(h)
			withEditor(t, h, c.script)
			h.typeText("my draft")
			ctrlE(h)
			if h.execs != 1 || h.m.composer.Value() != "my draft" {
				t.Fatalf("ran %d, composer holds %q", h.execs, h.m.composer.Value())
			}
			requireContains(t, h.view(), c.says, "› my draft")
			if len(svc.sends) != 0 {
				t.Fatalf("sent: %+v", svc.sends)
			}
		})
	}
	t.Run("cannot start", func(t *testing.T) {
		svc := fixture()
		h := newHarness(t, svc, 120, 30)
		openAlice(h)
		missing := filepath.Join(t.TempDir(), "no-editor")
		h.m.opts.Getenv = func(name string) string { return map[string]string{"VISUAL": missing + " --wait"}[name] }
		h.typeText("my draft")
		ctrlE(h)
		if h.m.composer.Value() != "my draft" {
			t.Fatalf("composer holds %q", h.m.composer.Value())
		}
		requireContains(t, h.view(), "could not run", "the draft is as it was")
	})
}
