package kittyimg

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/kitty"
)

// noise is a w×h picture of random opaque colours: it compresses badly, so its PNG needs
// many chunks.
func noise(w, h int) *image.NRGBA {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] =
			uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(r.UintN(256)), 0xff
	}
	return img
}

// apc matches one graphics command: its control data and its payload.
var apc = regexp.MustCompile("\x1b_G([^;\x1b]*);([^\x1b]*)\x1b\\\\")

type command struct{ control, payload string }

// parse splits s into graphics commands and fails if anything else is in it.
func parse(t *testing.T, s string) []command {
	t.Helper()
	var cmds []command
	rest := s
	for rest != "" {
		m := apc.FindStringSubmatchIndex(rest)
		if m == nil || m[0] != 0 {
			t.Fatalf("not a graphics command at %q", rest[:min(len(rest), 40)])
		}
		cmds = append(cmds, command{rest[m[2]:m[3]], rest[m[4]:m[5]]})
		rest = rest[m[1]:]
	}
	return cmds
}

// decodePNG joins the payloads, base64-decodes them and decodes the PNG.
func decodePNG(t *testing.T, cmds []command) image.Image {
	t.Helper()
	var b64 strings.Builder
	for _, c := range cmds {
		b64.WriteString(c.payload)
	}
	raw, err := base64.StdEncoding.DecodeString(b64.String())
	if err != nil {
		t.Fatalf("payload is not base64: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("payload is not a PNG: %v", err)
	}
	return img
}

func TestTransmitChunks(t *testing.T) {
	src := noise(150, 120) // fits 20×10 cells at 12×24 px a cell: sent as is
	out := Transmit(42, src, 20, 10)
	cmds := parse(t, out)
	if len(cmds) < 3 {
		t.Fatalf("a noisy 150×120 picture went in %d chunk(s); want several", len(cmds))
	}
	if want := "a=T,q=2,f=100,U=1,C=1,i=42,c=20,r=10,m=1"; cmds[0].control != want {
		t.Errorf("first control = %q, want %q", cmds[0].control, want)
	}
	for i, c := range cmds {
		if len(c.payload) > 4096 {
			t.Errorf("chunk %d carries %d bytes, more than 4096", i, len(c.payload))
		}
		last := i == len(cmds)-1
		if !last && len(c.payload)%4 != 0 {
			t.Errorf("chunk %d carries %d bytes, not a multiple of 4", i, len(c.payload))
		}
		if i == 0 {
			continue
		}
		want := "q=2,m=1"
		if last {
			want = "q=2,m=0"
		}
		if c.control != want {
			t.Errorf("chunk %d control = %q, want %q", i, c.control, want)
		}
	}
	got := decodePNG(t, cmds)
	if got.Bounds() != src.Bounds() {
		t.Fatalf("decoded bounds %v, want %v", got.Bounds(), src.Bounds())
	}
	for y := range 120 {
		for x := range 150 {
			if g, w := color.NRGBAModel.Convert(got.At(x, y)), src.NRGBAAt(x, y); g != w {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

func TestTransmitOneChunk(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	src.SetNRGBA(1, 1, color.NRGBA{R: 200, A: 255})
	cmds := parse(t, Transmit(7, src, 2, 1))
	if len(cmds) != 1 {
		t.Fatalf("a tiny picture went in %d chunks, want 1", len(cmds))
	}
	if want := "a=T,q=2,f=100,U=1,C=1,i=7,c=2,r=1,m=0"; cmds[0].control != want {
		t.Errorf("control = %q, want %q", cmds[0].control, want)
	}
	if got := color.NRGBAModel.Convert(decodePNG(t, cmds).At(1, 1)); got != (color.NRGBA{R: 200, A: 255}) {
		t.Errorf("pixel (1,1) = %v", got)
	}
}

func TestTransmitShrinksLargePictures(t *testing.T) {
	// 10×2 cells allow 120×48 pixels; a 4000×1000 picture comes down to 120×30.
	img := decodePNG(t, parse(t, Transmit(9, noise(4000, 1000), 10, 2)))
	if got := img.Bounds().Size(); got != image.Pt(120, 30) {
		t.Errorf("sent %v pixels, want 120×30", got)
	}
}

func TestTransmitBoundsCells(t *testing.T) {
	cmds := parse(t, Transmit(3, noise(2, 2), 0, 10000))
	if want := fmt.Sprintf("a=T,q=2,f=100,U=1,C=1,i=3,c=1,r=%d,m=0", MaxCells); cmds[0].control != want {
		t.Errorf("control = %q, want %q", cmds[0].control, want)
	}
}

func TestTransmitRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		id  uint32
		img image.Image
	}{
		"id 0":          {0, noise(2, 2)},
		"id over 2^24":  {MaxID + 1, noise(2, 2)},
		"nil image":     {1, nil},
		"empty picture": {1, image.NewNRGBA(image.Rect(0, 0, 0, 5))},
	} {
		if got := Transmit(tc.id, tc.img, 4, 4); got != "" {
			t.Errorf("%s: Transmit = %q, want \"\"", name, got[:min(len(got), 40)])
		}
	}
	if Transmit(MaxID, noise(2, 2), 1, 1) == "" {
		t.Error("Transmit refused MaxID")
	}
}

func TestDiacriticsTable(t *testing.T) {
	if len(diacritics) != 297 {
		t.Errorf("the table has %d diacritics, the specification's has 297", len(diacritics))
	}
	// The specification's own example: U+0305 is 0, U+030D is 1, U+030E is 2.
	if diacritics[0] != 0x0305 || diacritics[1] != 0x030D || diacritics[2] != 0x030E {
		t.Errorf("the table starts %U %U %U", diacritics[0], diacritics[1], diacritics[2])
	}
	for i := 1; i < len(diacritics); i++ {
		if diacritics[i] <= diacritics[i-1] {
			t.Errorf("diacritics[%d] = %U does not follow %U", i, diacritics[i], diacritics[i-1])
		}
	}
	// A second transcription of the same table, made independently by charmbracelet/x/ansi.
	for i, d := range diacritics {
		if k := kitty.Diacritic(i); k != d {
			t.Errorf("diacritics[%d] = %U, x/ansi/kitty has %U", i, d, k)
		}
	}
}

// cell is a decoded placeholder cell.
type cell struct{ row, col int }

// decodeLine checks a placeholder line's frame and returns the id its colour names and its
// cells.
func decodeLine(t *testing.T, line string) (uint32, []cell) {
	t.Helper()
	index := make(map[rune]int, len(diacritics))
	for i, d := range diacritics {
		index[d] = i
	}
	m := regexp.MustCompile(`^\x1b\[38;2;(\d+);(\d+);(\d+)m(.*)\x1b\[39m$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("line %q is not a foreground colour, cells, a reset", line)
	}
	var rgb [3]uint32
	for i := range 3 {
		v, _ := strconv.Atoi(m[i+1])
		if v > 255 {
			t.Fatalf("colour component %d in %q", v, line)
		}
		rgb[i] = uint32(v)
	}
	runes := []rune(m[4])
	if len(runes)%3 != 0 {
		t.Fatalf("%d runes between the colours, not cells of three", len(runes))
	}
	var cells []cell
	for i := 0; i < len(runes); i += 3 {
		r, okR := index[runes[i+1]]
		c, okC := index[runes[i+2]]
		if runes[i] != 0x10EEEE || !okR || !okC {
			t.Fatalf("cell %d is %U %U %U", i/3, runes[i], runes[i+1], runes[i+2])
		}
		cells = append(cells, cell{r, c})
	}
	return rgb[0]<<16 | rgb[1]<<8 | rgb[2], cells
}

func TestPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		id                 uint32
		cols, rows         int
		wantCols, wantRows int
	}{
		{42, 2, 2, 2, 2},
		{0x123456, 7, 3, 7, 3},
		{MaxID, 1, 1, 1, 1},
		{1, 0, -3, 1, 1},
		{0xABCDEF, MaxCells + 50, 2, MaxCells, 2},
	} {
		t.Run(fmt.Sprintf("%#x_%dx%d", tc.id, tc.cols, tc.rows), func(t *testing.T) {
			lines := Placeholders(tc.id, tc.cols, tc.rows)
			if len(lines) != tc.wantRows {
				t.Fatalf("%d lines, want %d", len(lines), tc.wantRows)
			}
			for r, line := range lines {
				if w := ansi.StringWidth(line); w != tc.wantCols {
					t.Errorf("line %d: ansi.StringWidth = %d, want %d", r, w, tc.wantCols)
				}
				if w := lipgloss.Width(line); w != tc.wantCols {
					t.Errorf("line %d: lipgloss.Width = %d, want %d", r, w, tc.wantCols)
				}
				id, cells := decodeLine(t, line)
				if id != tc.id {
					t.Errorf("line %d: colour names id %#x, want %#x", r, id, tc.id)
				}
				if len(cells) != tc.wantCols {
					t.Fatalf("line %d: %d cells, want %d", r, len(cells), tc.wantCols)
				}
				for c, got := range cells {
					if got != (cell{r, c}) {
						t.Errorf("line %d cell %d says row %d column %d", r, c, got.row, got.col)
					}
				}
			}
		})
	}
}

func TestPlaceholdersSpecExample(t *testing.T) {
	// The specification prints a 2×2 placeholder with U+0305 for 0 and U+030D for 1.
	lines := Placeholders(42, 2, 2)
	want := []string{
		"\x1b[38;2;0;0;42m\U0010EEEE\u0305\u0305\U0010EEEE\u0305\u030D\x1b[39m",
		"\x1b[38;2;0;0;42m\U0010EEEE\u030D\u0305\U0010EEEE\u030D\u030D\x1b[39m",
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
}

func TestPlaceholdersBadIDKeepsLayout(t *testing.T) {
	for _, id := range []uint32{0, MaxID + 1} {
		lines := Placeholders(id, 5, 3)
		if len(lines) != 3 {
			t.Fatalf("id %#x: %d lines, want 3", id, len(lines))
		}
		for _, l := range lines {
			if l != "     " {
				t.Errorf("id %#x: line %q, want five spaces", id, l)
			}
		}
	}
}

// TestTruncateKeepsTransmit checks what Bubble Tea's standard renderer does to a line that
// starts with the Transmit sequences: it measures the line with ansi.StringWidth and cuts
// it with ansi.Truncate(line, width, "") when it is wider than the terminal.
func TestTruncateKeepsTransmit(t *testing.T) {
	const cols, rows = 12, 3
	tx := Transmit(77, noise(120, 60), cols, rows)
	if len(parse(t, tx)) < 2 {
		t.Fatal("the test needs a picture sent in several chunks")
	}
	line := tx + Placeholders(77, cols, rows)[1]
	if w := ansi.StringWidth(line); w != cols {
		t.Fatalf("ansi.StringWidth of the line = %d, want %d: the sequences take cells", w, cols)
	}
	if w := lipgloss.Width(line); w != cols {
		t.Fatalf("lipgloss.Width of the line = %d, want %d", w, cols)
	}
	for _, width := range []int{cols + 10, cols, cols - 1, 5, 1, 0} {
		out := ansi.Truncate(line, width, "")
		if !strings.HasPrefix(out, tx) {
			t.Errorf("width %d: the transmit sequences did not survive truncation", width)
			continue
		}
		rest := out[len(tx):]
		want := min(width, cols)
		if got := ansi.StringWidth(rest); got != want {
			t.Errorf("width %d: %d cells left, want %d", width, got, want)
		}
		// Every cell kept is whole: the placeholder and both its diacritics.
		body := strings.TrimPrefix(rest, "\x1b[38;2;0;0;77m")
		body = strings.TrimSuffix(body, "\x1b[39m")
		if n := utf8.RuneCountInString(body); n != 3*want {
			t.Errorf("width %d: %d runes in %d cells: a cell was split", width, n, want)
		}
		if want > 0 && !strings.HasSuffix(rest, "\x1b[39m") {
			t.Errorf("width %d: the colour reset was dropped", width)
		}
	}
}

// TestTruncateKeepsTransmitAfterTheCut checks a line whose text reaches past the width
// before the sequences: they are still written, whole, though nothing after the cut shows.
func TestTruncateKeepsTransmitAfterTheCut(t *testing.T) {
	tx := Transmit(5, noise(40, 40), 4, 2)
	line := "0123456789" + tx + Placeholders(5, 4, 2)[0]
	out := ansi.Truncate(line, 6, "")
	if !strings.Contains(out, tx) {
		t.Fatal("sequences after the cut were dropped or broken")
	}
	if got := ansi.Strip(out); got != "012345" {
		t.Errorf("visible text %q, want %q", got, "012345")
	}
}

func TestSupported(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing", map[string]string{}, false},
		{"xterm", map[string]string{"TERM": "xterm-256color"}, false},
		{"kitty by TERM", map[string]string{"TERM": "xterm-kitty"}, true},
		{"kitty by window id", map[string]string{"TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"}, true},
		{"ghostty by TERM", map[string]string{"TERM": "xterm-ghostty"}, true},
		{"ghostty by TERM_PROGRAM", map[string]string{"TERM": "xterm-256color", "TERM_PROGRAM": "ghostty"}, true},
		{"wezterm has no placeholders", map[string]string{"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, false},
		{"iTerm2", map[string]string{"TERM_PROGRAM": "iTerm.app"}, false},
		{"kitty inside tmux", map[string]string{"TERM": "tmux-256color", "KITTY_WINDOW_ID": "1", "TMUX": "/tmp/tmux-0/default,1,0"}, false},
		{"tmux by TERM alone", map[string]string{"TERM": "tmux-256color", "KITTY_WINDOW_ID": "1"}, false},
		{"ghostty inside screen", map[string]string{"TERM": "screen-256color", "TERM_PROGRAM": "ghostty"}, false},
		{"screen by STY", map[string]string{"TERM": "xterm-kitty", "STY": "1234.pts-0.host"}, false},
		{"forced on", map[string]string{"DUET_IMAGES": "kitty", "TERM": "dumb"}, true},
		{"forced on inside tmux", map[string]string{"DUET_IMAGES": "kitty", "TMUX": "x"}, true},
		{"forced on, any case", map[string]string{"DUET_IMAGES": " Kitty "}, true},
		{"forced off", map[string]string{"DUET_IMAGES": "blocks", "TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"}, false},
		{"other value detects", map[string]string{"DUET_IMAGES": "auto", "TERM": "xterm-ghostty"}, true},
	} {
		getenv := func(k string) string { return tc.env[k] }
		if got := Supported(getenv); got != tc.want {
			t.Errorf("%s: Supported = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		w, h, maxCols, maxRows int
		cols, rows             int
	}{
		{800, 600, 60, 20, 53, 20},                             // height binds: 20 rows, 4:3 at 1:2 cells ≈ 53 columns
		{800, 600, 30, 40, 30, 11},                             // width binds
		{1600, 800, 80, 80, 80, 20},                            // 2:1 picture: 80 columns, 20 rows
		{64, 64, 60, 20, 8, 4},                                 // small: its own size, 8×16 px a cell
		{8, 16, 60, 20, 1, 1},                                  // one cell
		{1000, 10, 40, 10, 40, 1},                              // a thin strip still has a row
		{10, 4000, 40, 30, 1, 30},                              // a thin column still has a column
		{1 << 20, 1 << 19, 1000, 1000, MaxCells, MaxCells / 4}, // bounded by the table
		{0, 10, 10, 10, 0, 0},
		{10, 10, 0, 10, 0, 0},
		{10, -1, 10, 10, 0, 0},
	} {
		cols, rows := Fit(tc.w, tc.h, tc.maxCols, tc.maxRows)
		if cols != tc.cols || rows != tc.rows {
			t.Errorf("Fit(%d, %d, %d, %d) = %d×%d, want %d×%d",
				tc.w, tc.h, tc.maxCols, tc.maxRows, cols, rows, tc.cols, tc.rows)
		}
	}
}

// TestFitKeepsAspect checks, over many sizes, that the cells stay in bounds and that the
// smaller side is the larger one times the picture's shape (a cell being twice as tall as
// wide), rounded.
func TestFitKeepsAspect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		w, h := 1+r.IntN(5000), 1+r.IntN(5000)
		mc, mr := 1+r.IntN(400), 1+r.IntN(400)
		cols, rows := Fit(w, h, mc, mr)
		if cols < 1 || rows < 1 || cols > min(mc, MaxCells) || rows > min(mr, MaxCells) {
			t.Fatalf("Fit(%d, %d, %d, %d) = %d×%d: out of bounds", w, h, mc, mr, cols, rows)
		}
		if cols > int(math.Ceil(float64(w)/8)) || rows > int(math.Ceil(float64(h)/16)) {
			t.Fatalf("Fit(%d, %d, %d, %d) = %d×%d: enlarged", w, h, mc, mr, cols, rows)
		}
		// Shape in cells: columns per row.
		shape := (float64(w) / 8) / (float64(h) / 16)
		var off float64
		if shape >= 1 {
			off = math.Abs(float64(rows) - float64(cols)/shape)
			if rows == 1 || rows == min(mr, MaxCells) { // clamped
				continue
			}
		} else {
			off = math.Abs(float64(cols) - float64(rows)*shape)
			if cols == 1 || cols == min(mc, MaxCells) {
				continue
			}
		}
		if off > 0.5+1e-9 {
			t.Fatalf("Fit(%d, %d, %d, %d) = %d×%d: off the picture's shape by %.2f cells",
				w, h, mc, mr, cols, rows, off)
		}
	}
}
