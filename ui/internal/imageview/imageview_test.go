package imageview

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x * 255 / max(w-1, 1)), G: uint8(y * 255 / max(h-1, 1)), B: 90, A: 255})
		}
	}
	return img
}

// Every line has the same printable width, the picture fits the cells given, and its shape
// is kept (a cell shows two square pixels, one above the other).
func TestRenderSizes(t *testing.T) {
	for _, c := range []struct {
		w, h, cols, rows   int
		wantCols, wantRows int
	}{
		{100, 50, 40, 40, 40, 10},    // wide: the width decides
		{50, 100, 40, 40, 40, 40},    // tall: 40×80 pixels
		{50, 100, 80, 10, 10, 10},    // the height decides
		{1920, 1080, 80, 24, 80, 23}, // 80×45 pixels
		{7, 3, 80, 24, 7, 2},         // never enlarged; an odd last pixel row has a cell of its own
		{1, 1, 1, 1, 1, 1},
		{3000, 2, 10, 10, 10, 1}, // a sliver stays one cell high
		{2, 3000, 10, 10, 1, 10},
	} {
		lines := Render(gradient(c.w, c.h), c.cols, c.rows)
		if len(lines) != c.wantRows {
			t.Errorf("%d×%d into %d×%d: %d rows, want %d", c.w, c.h, c.cols, c.rows, len(lines), c.wantRows)
		}
		for i, l := range lines {
			if got := ansi.StringWidth(l); got != c.wantCols {
				t.Errorf("%d×%d into %d×%d: row %d is %d wide, want %d", c.w, c.h, c.cols, c.rows, i, got, c.wantCols)
			}
			if !strings.HasSuffix(l, "\x1b[0m") || strings.Count(l, "▀") != c.wantCols {
				t.Errorf("%d×%d into %d×%d: row %d is %q", c.w, c.h, c.cols, c.rows, i, l)
			}
		}
	}
}

func TestRenderNothing(t *testing.T) {
	img := gradient(4, 4)
	for _, c := range []struct {
		img        image.Image
		cols, rows int
	}{
		{img, 0, 5}, {img, 5, 0}, {img, -1, 5}, {img, 5, -3}, {nil, 5, 5}, {image.NewRGBA(image.Rect(0, 0, 0, 7)), 5, 5},
	} {
		if got := Render(c.img, c.cols, c.rows); got != nil {
			t.Errorf("Render(%d×%d) = %q, want nil", c.cols, c.rows, got)
		}
	}
}

// Each cell's foreground is its upper pixel and its background the lower one; transparency is
// drawn over black.
func TestRenderColours(t *testing.T) {
	img := image.NewNRGBA(image.Rect(10, 20, 12, 22)) // bounds need not start at 0
	img.SetNRGBA(10, 20, color.NRGBA{255, 0, 0, 255})
	img.SetNRGBA(11, 20, color.NRGBA{0, 255, 0, 255})
	img.SetNRGBA(10, 21, color.NRGBA{0, 0, 255, 255})
	img.SetNRGBA(11, 21, color.NRGBA{255, 255, 255, 0}) // transparent
	want := "\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[38;2;0;255;0m\x1b[48;2;0;0;0m▀\x1b[0m"
	if got := Render(img, 80, 24); len(got) != 1 || got[0] != want {
		t.Fatalf("2×2:\n got %q\nwant %q", got, want)
	}

	// Half-transparent white over black is grey; the same colour twice is said once; an odd
	// last pixel row leaves the lower halves to the terminal's background.
	col := image.NewNRGBA(image.Rect(0, 0, 2, 3))
	for x := range 2 {
		col.SetNRGBA(x, 0, color.NRGBA{255, 255, 255, 128})
		col.SetNRGBA(x, 1, color.NRGBA{10, 20, 30, 255})
		col.SetNRGBA(x, 2, color.NRGBA{40, 50, 60, 255})
	}
	got := Render(col, 80, 24)
	wantRows := []string{
		"\x1b[38;2;128;128;128m\x1b[48;2;10;20;30m▀▀\x1b[0m",
		"\x1b[38;2;40;50;60m▀▀\x1b[0m",
	}
	if strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Fatalf("2×3:\n got %q\nwant %q", got, wantRows)
	}
}

// Scaled down, a picture keeps its colours where they are: a left half red and a right half
// blue stay so.
func TestRenderScaledKeepsColours(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 400, 200))
	for y := range 200 {
		for x := range 400 {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= 200 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	lines := Render(img, 20, 20)
	if len(lines) != 5 {
		t.Fatalf("%d rows", len(lines))
	}
	if !strings.HasPrefix(lines[2], "\x1b[38;2;255;0;0m\x1b[48;2;255;0;0m▀") || !strings.HasSuffix(lines[2], "\x1b[38;2;0;0;255m\x1b[48;2;0;0;255m▀▀▀▀▀▀▀▀▀\x1b[0m") {
		t.Fatalf("middle row: %q", lines[2])
	}
}

func encode(t *testing.T, enc func(*bytes.Buffer, image.Image) error, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngClaiming is a PNG whose header says w×h pixels (with a valid checksum) and whose data is
// that of a 1×1 picture: small to send, huge to decode.
func pngClaiming(t *testing.T, w, h uint32) []byte {
	data := encode(t, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) }, gradient(1, 1))
	data = bytes.Clone(data)
	// signature (8), IHDR length (4), "IHDR" (4), width (4), height (4) ..., CRC after 13 bytes
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

// webpClaiming is the start of an extended WebP file whose header says w×h pixels.
func webpClaiming(w, h int) []byte {
	chunk := []byte("VP8X")
	chunk = binary.LittleEndian.AppendUint32(chunk, 10)
	chunk = append(chunk, 0, 0, 0, 0)
	chunk = append(chunk, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(4+len(chunk)))
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}

func TestDecode(t *testing.T) {
	img := gradient(6, 4)
	for name, data := range map[string][]byte{
		"png":  encode(t, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) }, img),
		"jpeg": encode(t, func(b *bytes.Buffer, i image.Image) error { return jpeg.Encode(b, i, nil) }, img),
		"gif":  encode(t, func(b *bytes.Buffer, i image.Image) error { return gif.Encode(b, i, nil) }, img),
	} {
		got, err := Decode(data, 24)
		if err != nil || got.Bounds().Dx() != 6 || got.Bounds().Dy() != 4 {
			t.Errorf("%s: %v, %v", name, got, err)
		}
		if _, err := Decode(data, 23); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s with one pixel too many: %v", name, err)
		}
	}

	// Bombs: refused from the header, before anything is decoded.
	for name, data := range map[string][]byte{
		"png":  pngClaiming(t, 100000, 100000),
		"webp": webpClaiming(16000, 16000),
	} {
		_, err := Decode(data, 50_000_000)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "pixels") {
			t.Errorf("a %s claiming a huge picture: %v", name, err)
		}
	}
	if _, err := Decode(webpClaiming(10, 10), 1000); err == nil || errors.Is(err, ErrTooLarge) {
		t.Errorf("a WebP header without a picture: %v", err) // read as WebP, then found damaged
	}
	if _, err := Decode([]byte("this is not a picture"), 1000); err == nil || !strings.Contains(err.Error(), "not a picture") {
		t.Errorf("text: %v", err)
	}
}

func BenchmarkRender(b *testing.B) {
	rgba := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 7)
	}
	ycbcr := image.NewYCbCr(image.Rect(0, 0, 1920, 1080), image.YCbCrSubsampleRatio420)
	for i := range ycbcr.Y {
		ycbcr.Y[i] = uint8(i * 3)
	}
	for name, img := range map[string]image.Image{"rgba": rgba, "ycbcr(jpeg)": ycbcr} {
		b.Run(fmt.Sprintf("1920x1080_to_80x24_%s", name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if lines := Render(img, 80, 24); len(lines) != 23 {
					b.Fatal(len(lines))
				}
			}
		})
	}
}

// In 256 colours a picture is drawn with the nearest colours of the xterm cube.
func TestRenderIn256Colours(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+3] = 255, 255 // red
	}
	lines := RenderIn(img, 2, 1, Colors256)
	if len(lines) != 1 || !strings.Contains(lines[0], "\x1b[38;5;196m") || !strings.Contains(lines[0], "\x1b[48;5;196m") || strings.Contains(lines[0], "38;2;") {
		t.Fatalf("%q", lines)
	}
}
