package sanitize

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Output is Text for what a command prints: line breaks and tabs are kept (duet's own columns
// use tabs), every other control character is shown as its stand-in.
func Output(s string) string {
	if !strings.ContainsRune(s, '\t') {
		return Text(s, true)
	}
	parts := strings.Split(s, "\t")
	for i, p := range parts {
		parts[i] = Text(p, true)
	}
	return strings.Join(parts, "\t")
}

// Writer passes everything written to it through Output: the one place a command's output
// is made safe, so that no field from the network, printed by whichever command, can carry an
// escape sequence to the terminal. A rune cut between two writes is held until its end comes
// (or Flush).
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte // the start of a rune whose end has not been written yet
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes p made safe; it reports all of p written when the text made of it was.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := p
	if len(w.pending) > 0 {
		buf = append(w.pending, p...)
		w.pending = nil
	}
	cut := len(buf)
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-utf8.UTFMax; i-- {
		if utf8.RuneStart(buf[i]) {
			if !utf8.FullRune(buf[i:]) {
				cut = i
			}
			break
		}
	}
	if cut < len(buf) {
		w.pending = bytes.Clone(buf[cut:])
	}
	if cut > 0 {
		if _, err := io.WriteString(w.w, Output(string(buf[:cut]))); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what is held of an unfinished rune (as U+FFFD: it never was one).
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return nil
	}
	s := Output(string(w.pending))
	w.pending = nil
	_, err := io.WriteString(w.w, s)
	return err
}

// JSON escapes, in JSON text made by encoding/json, the characters it leaves as they are but a
// terminal acts on: DEL, the C1 controls (U+009B is a CSI to some terminals) and the
// bidirectional controls. A JSON parser reads the same values; a terminal shows the text inert.
// encoding/json already escapes C0 controls and replaces invalid UTF-8, and these characters
// can only be inside strings, where \uXXXX means the same.
func JSON(b []byte) []byte {
	if !bytes.ContainsFunc(b, jsonUnsafe) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + 16)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if jsonUnsafe(r) && !(r == utf8.RuneError && size <= 1) {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.Write(b[:size])
		}
		b = b[size:]
	}
	return out.Bytes()
}

func jsonUnsafe(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidiControl(r)
}
