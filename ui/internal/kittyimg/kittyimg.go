// Package kittyimg shows pictures inline in terminals that speak the kitty graphics
// protocol, by its Unicode placeholder method
// (https://sw.kovidgoyal.net/kitty/graphics-protocol/#unicode-placeholders).
//
// The picture is sent once, in escape sequences that draw nothing ([Transmit]); it is then
// shown by ordinary text ([Placeholders]): cells of the character U+10EEEE whose foreground
// colour names the image and whose two combining marks say which of the picture's cells each
// one is. Because that text is one cell per column, a renderer that only compares, measures,
// truncates and rewrites lines of text (Bubble Tea's) moves, clips and erases the picture the
// way it does any other text.
//
// Image ids: the foreground colour carries 24 bits of the id, so ids are kept in 1..[MaxID];
// the protocol's third diacritic, for the id's most significant byte, is never written.
package kittyimg

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"math"
	"strconv"
	"strings"

	"duet/ui/internal/imageview"
)

const (
	// MaxID is the largest image id this package writes: placeholders carry the id in a
	// 24-bit colour. Id 0 is not an id (the protocol reserves it).
	MaxID = 1<<24 - 1

	// MaxCells is the most rows, and the most columns, a picture can span: one for each
	// diacritic of the specification's table.
	MaxCells = len(diacritics)

	// placeholder is the character the terminal replaces by a cell of a picture.
	placeholder = '\U0010EEEE'

	// chunkSize is the most base64 bytes one escape sequence may carry (the specification
	// says 4096, and every chunk but the last a multiple of 4).
	chunkSize = 4096

	// cellPxW and cellPxH bound the pixels Transmit sends per cell. The terminal scales the
	// picture to its cells anyway; these are a little more than a cell of a 12pt font at
	// 96 dpi (a HiDPI cell is about 18×36, where the picture shows slightly soft), and they
	// keep what a renderer may re-send with every redraw of the line to a few hundred KB
	// instead of a photo's megabytes.
	cellPxW, cellPxH = 12, 24

	// natPxW and natPxH are the pixels of a cell Fit assumes when it refuses to enlarge a
	// small picture: a cell of a 10-11pt font at 96 dpi.
	natPxW, natPxH = 8, 16
)

// Transmit returns the escape sequences that send img to the terminal as image id and make
// a virtual placement of it over cols×rows cells, for [Placeholders] of the same id and size
// to show. The picture is first brought down (never up) to at most 12×24 pixels a cell and
// encoded as PNG; the base64 of it goes in chunks of at most 4096 bytes, m=1 on all but the
// last. The control keys ride on the first chunk only; q=2 rides on every one (the
// specification allows it on later chunks), so the terminal never answers: an answer would
// reach the program as typed input. C=1 keeps the cursor where it is.
//
// The sequences take no cells: written at the start of a line, they leave the line's width
// and its truncation to the renderer. Sending the same id again replaces the picture.
// Encoding costs milliseconds: call it in a tea.Cmd and keep the result.
//
// cols and rows are bounded to 1..[MaxCells] as Placeholders bounds them. It returns "" for
// a nil or empty image and for an id outside 1..[MaxID].
func Transmit(id uint32, img image.Image, cols, rows int) string {
	if id == 0 || id > MaxID || img == nil {
		return ""
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return ""
	}
	cols, rows = bound(cols), bound(rows)
	var pngBuf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&pngBuf, imageview.Shrink(img, cols*cellPxW, rows*cellPxH)); err != nil {
		return ""
	}
	payload := base64.StdEncoding.EncodeToString(pngBuf.Bytes())

	var sb strings.Builder
	sb.Grow(len(payload) + (len(payload)/chunkSize+1)*24 + 64)
	for first := true; first || payload != ""; first = false {
		chunk := payload[:min(chunkSize, len(payload))]
		payload = payload[len(chunk):]
		sb.WriteString("\x1b_G")
		if first {
			sb.WriteString("a=T,q=2,f=100,U=1,C=1,i=")
			sb.WriteString(strconv.FormatUint(uint64(id), 10))
			sb.WriteString(",c=")
			sb.WriteString(strconv.Itoa(cols))
			sb.WriteString(",r=")
			sb.WriteString(strconv.Itoa(rows))
			sb.WriteByte(',')
		} else {
			sb.WriteString("q=2,")
		}
		if payload != "" {
			sb.WriteString("m=1;")
		} else {
			sb.WriteString("m=0;")
		}
		sb.WriteString(chunk)
		sb.WriteString("\x1b\\")
	}
	return sb.String()
}

// Placeholders returns rows lines of cols cells that show image id, placed by [Transmit]
// with the same size: each cell is U+10EEEE followed by the diacritic of its row and the one
// of its column; each line starts by setting the foreground to the id (24-bit colour,
// id = R<<16 | G<<8 | B) and ends by resetting it (SGR 39), so every line stands alone and
// any run of whole lines shows that part of the picture.
//
// cols and rows are bounded to 1..[MaxCells]. For an id outside 1..[MaxID] the lines are
// spaces, of the same size, so the layout holds.
func Placeholders(id uint32, cols, rows int) []string {
	cols, rows = bound(cols), bound(rows)
	lines := make([]string, rows)
	if id == 0 || id > MaxID {
		blank := strings.Repeat(" ", cols)
		for r := range lines {
			lines[r] = blank
		}
		return lines
	}
	fg := "\x1b[38;2;" + strconv.Itoa(int(id>>16&0xff)) + ";" +
		strconv.Itoa(int(id>>8&0xff)) + ";" + strconv.Itoa(int(id&0xff)) + "m"
	var sb strings.Builder
	for r := range lines {
		sb.Reset()
		sb.Grow(len(fg) + cols*12 + 5)
		sb.WriteString(fg)
		for c := range cols {
			sb.WriteRune(placeholder)
			sb.WriteRune(diacritics[r])
			sb.WriteRune(diacritics[c])
		}
		sb.WriteString("\x1b[39m")
		lines[r] = sb.String()
	}
	return lines
}

// Supported reports whether the terminal the environment describes shows pictures by
// Unicode placeholders: kitty (KITTY_WINDOW_ID set, or TERM=xterm-kitty) or Ghostty
// (TERM=xterm-ghostty or TERM_PROGRAM=ghostty), and not through tmux or GNU screen (TMUX or
// STY set, or TERM starting with "tmux" or "screen"), which do not pass the protocol on
// without configuration. DUET_IMAGES=kitty says yes and DUET_IMAGES=blocks says no, whatever
// the rest.
//
// WezTerm is not detected: it implements the kitty graphics protocol but not its Unicode
// placeholders (wezterm/wezterm#986, the open pull request #7924), so it would draw the
// picture at the cursor and show U+10EEEE as missing glyphs. DUET_IMAGES=kitty forces it.
func Supported(getenv func(string) string) bool {
	switch strings.ToLower(strings.TrimSpace(getenv("DUET_IMAGES"))) {
	case "kitty":
		return true
	case "blocks":
		return false
	}
	term := getenv("TERM")
	if getenv("TMUX") != "" || getenv("STY") != "" ||
		strings.HasPrefix(term, "tmux") || strings.HasPrefix(term, "screen") {
		return false
	}
	switch {
	case getenv("KITTY_WINDOW_ID") != "", term == "xterm-kitty":
		return true
	case term == "xterm-ghostty", strings.EqualFold(getenv("TERM_PROGRAM"), "ghostty"):
		return true
	}
	return false
}

// Fit returns the cells, at most maxCols×maxRows, a w×h pixel picture takes: its shape kept
// with a cell twice as tall as wide, and no larger than its own size in cells of 8×16
// pixels, so a small picture is not blown up. The larger side of the result is the one
// scaled; the other follows from it, rounded. Each is at least 1 and at most [MaxCells];
// zero or negative sizes give 0, 0.
func Fit(w, h, maxCols, maxRows int) (cols, rows int) {
	if w <= 0 || h <= 0 || maxCols <= 0 || maxRows <= 0 {
		return 0, 0
	}
	maxCols, maxRows = min(maxCols, MaxCells), min(maxRows, MaxCells)
	// The picture's own size in cells, then scaled down to fit.
	wc, hc := float64(w)/natPxW, float64(h)/natPxH
	s := min(float64(maxCols)/wc, float64(maxRows)/hc, 1)
	if wc >= hc {
		cols = clamp(int(math.Round(wc*s)), maxCols)
		rows = clamp(int(math.Round(float64(cols)*hc/wc)), maxRows)
	} else {
		rows = clamp(int(math.Round(hc*s)), maxRows)
		cols = clamp(int(math.Round(float64(rows)*wc/hc)), maxCols)
	}
	return cols, rows
}

// bound brings a count of cells into 1..MaxCells.
func bound(n int) int { return clamp(n, MaxCells) }

// clamp brings n into 1..hi.
func clamp(n, hi int) int { return max(1, min(n, hi)) }
