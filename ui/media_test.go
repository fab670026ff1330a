package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
)

func pngOf(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Files in the timeline: an image from alice shows its name, type and size and then its
// picture; picked, s saves it in the downloads folder and o opens it with the system's
// program; /upload sends one of ours, shown at once, and a missing file is said plainly.
func TestFilesInTheTimeline(t *testing.T) {
	termtest.SetProfile(3) // pictures need colours: 24-bit here
	t.Cleanup(termtest.Plain)
	svc := fixture()
	data := pngOf(t, 40, 20, color.RGBA{R: 250, G: 20, B: 20, A: 255})
	svc.media = map[string][]byte{"mxc://example.org/cat": data}
	h := newHarness(t, svc, 100, 40)
	downloads, open := t.TempDir(), t.TempDir()
	h.m.opts.InlineImages, h.m.opts.Downloads, h.m.opts.OpenDir = true, downloads, open
	openAlice(h)
	img := msg(aliceRoom, "$img", alice, testNow.Add(-time.Minute), "cat.png")
	img.MsgType = "m.image"
	img.Media = &matrixsvc.Media{Kind: "m.image", Name: "cat.png", MimeType: "image/png", Size: int64(len(data)), Width: 40, Height: 20, URL: "mxc://example.org/cat"}
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{img}}}})
	v := h.view()
	requireContains(t, ansi.Strip(v), "Alice: 🖼 cat.png (image/png, ", "40×20)")
	if !strings.Contains(v, "▀") || !strings.Contains(v, "38;2;250;20;20") {
		t.Fatalf("no picture drawn:\n%s", v)
	}
	requireFits(t, v, 100, 40)
	// The rest reads the text (the colours do not matter here).

	h.send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModShift})
	h.typeText("s")
	saved := filepath.Join(downloads, "cat.png")
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("saved file: %v", err)
	}
	requireContains(t, ansi.Strip(h.view()), "saved to "+saved)
	// The opener gets the file fetched into the private folder.
	script := filepath.Join(t.TempDir(), "opener")
	log := filepath.Join(t.TempDir(), "opened")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" > "+log+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DUET_OPENER", script)
	h.typeText("o")
	requireContains(t, ansi.Strip(h.view()), "opened cat.png")
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := os.ReadFile(log)
		if strings.TrimSpace(string(got)) == filepath.Join(open, "cat.png") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the opener got %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A text message has no file.
	h.key(tea.KeyUp)
	h.typeText("s")
	requireContains(t, ansi.Strip(h.view()), "that message has no file")
	h.key(tea.KeyEscape)

	// Sending a file.
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("twelve bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.typeText("/upload " + file)
	h.key(tea.KeyEnter)
	if len(svc.files) != 1 || svc.files[0].Body != file || svc.files[0].Target != alice {
		t.Fatalf("files sent: %+v", svc.files)
	}
	requireContains(t, ansi.Strip(h.view()), "you: 📎 notes.txt (12 B)")
	h.typeText("/upload /no/such/file.png")
	h.key(tea.KeyEnter)
	requireContains(t, ansi.Strip(h.view()), "no such file: /no/such/file.png")
}

// In a terminal with the kitty graphics protocol the picture goes as an image (a=T, quiet,
// a virtual placement) drawn with Unicode placeholders; DUET_IMAGES decides over the terminal.
func TestKittyPicturesInTheUI(t *testing.T) {
	svc := fixture()
	svc.media = map[string][]byte{"mxc://example.org/cat": pngOf(t, 64, 32, color.RGBA{G: 200, A: 255})}
	h := newHarness(t, svc, 100, 40)
	h.m.opts.InlineImages, h.m.opts.KittyImages = true, true
	openAlice(h)
	img := msg(aliceRoom, "$img", alice, testNow.Add(-time.Minute), "cat.png")
	img.MsgType = "m.image"
	img.Media = &matrixsvc.Media{Kind: "m.image", Name: "cat.png", MimeType: "image/png", Size: 100, URL: "mxc://example.org/cat"}
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{img}}}})
	v := h.view()
	if !strings.Contains(v, "\x1b_Ga=T,q=2,f=100,U=1") || !strings.Contains(v, "\U0010EEEE") {
		t.Fatalf("no kitty picture:\n%q", v)
	}
	requireFits(t, v, 100, 40)
	for env, want := range map[string]bool{"kitty": true, "blocks": false} {
		if got := KittyGraphics(func(k string) string {
			if k == "DUET_IMAGES" {
				return env
			}
			return ""
		}); got != want {
			t.Errorf("DUET_IMAGES=%s: %v", env, got)
		}
	}
}
