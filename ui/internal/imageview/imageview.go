// Package imageview draws pictures in a terminal with 24-bit colour: each cell is the
// upper-half block "▀", its foreground the upper pixel and its background the lower one, so
// a cell (about twice as tall as wide) shows two square pixels.
package imageview

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // the formats Decode reads
	_ "image/jpeg"
	_ "image/png"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// ErrTooLarge means an image has more pixels than the caller lets Decode take.
var ErrTooLarge = errors.New("the image is too large to show")

// Decode reads a PNG, JPEG, GIF (its first frame) or WebP image. It reads the header first and
// refuses an image of more than maxPixels pixels before decoding it: a small file can claim a
// huge picture (a decompression bomb).
func Decode(data []byte, maxPixels int) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a picture duet can show (PNG, JPEG, GIF or WebP): %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("the picture is %d×%d pixels: nothing to show", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%w: %d×%d pixels", ErrTooLarge, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the picture is damaged: %w", err)
	}
	return img, nil
}

// Render draws img into at most cols×rows cells, as large as fits without enlarging it and
// keeping its shape, and returns one string per row of cells: all of the same width, each
// ending in a reset of the colours. Transparent pixels are drawn over black. Zero or negative
// sizes, or an empty image, give nil.
func Render(img image.Image, cols, rows int) []string { return RenderIn(img, cols, rows, TrueColor) }

// Palette is the colours a terminal can show.
type Palette int

const (
	TrueColor Palette = iota // 24-bit colour
	Colors256                // the xterm 256-colour palette: the colour cube
)

// RenderIn is Render in the colours of palette p.
func RenderIn(img image.Image, cols, rows int, p Palette) []string {
	fgPrefix, bgPrefix := "\x1b[38;2;", "\x1b[48;2;"
	write := writeColour
	if p == Colors256 {
		fgPrefix, bgPrefix = "\x1b[38;5;", "\x1b[48;5;"
		write = writeCube
	}
	if img == nil || cols <= 0 || rows <= 0 {
		return nil
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	// A cell is one pixel wide and two tall: the picture gets cols × 2·rows square pixels.
	scale := min(float64(cols)/float64(w), float64(2*rows)/float64(h), 1)
	tw := min(cols, max(1, int(math.Round(float64(w)*scale))))
	th := min(2*rows, max(1, int(math.Round(float64(h)*scale))))
	px := image.NewRGBA(image.Rect(0, 0, tw, th))
	for i := 3; i < len(px.Pix); i += 4 {
		px.Pix[i] = 0xff // opaque black underneath
	}
	scaleInto(px, img)
	lines := make([]string, 0, (th+1)/2)
	var sb strings.Builder
	for y := 0; y < th; y += 2 {
		sb.Reset()
		sb.Grow(tw * 40)
		var fg, bg [3]uint8
		fgSet, bgSet := false, false
		for x := range tw {
			top := px.Pix[px.PixOffset(x, y):]
			if c := [3]uint8{top[0], top[1], top[2]}; !fgSet || c != fg {
				write(&sb, fgPrefix, c)
				fg, fgSet = c, true
			}
			if y+1 < th {
				low := px.Pix[px.PixOffset(x, y+1):]
				if c := [3]uint8{low[0], low[1], low[2]}; !bgSet || c != bg {
					write(&sb, bgPrefix, c)
					bg, bgSet = c, true
				}
			}
			sb.WriteString("▀")
		}
		sb.WriteString("\x1b[0m")
		lines = append(lines, sb.String())
	}
	return lines
}

// prescale is how much larger than the cells' pixels a picture is first brought down to,
// cheaply, before the fine scaling: Catmull-Rom straight from a photo costs about 50 ms.
const prescale = 4

// scaleInto draws img over what px holds, scaled to fit it exactly.
func scaleInto(px *image.RGBA, img image.Image) {
	b := img.Bounds()
	tw, th := px.Rect.Dx(), px.Rect.Dy()
	switch {
	case b.Dx() == tw && b.Dy() == th:
		draw.Draw(px, px.Rect, img, b.Min, draw.Over)
	case b.Dx() > prescale*tw || b.Dy() > prescale*th:
		mid := image.NewRGBA(image.Rect(0, 0, min(b.Dx(), prescale*tw), min(b.Dy(), prescale*th)))
		draw.ApproxBiLinear.Scale(mid, mid.Rect, img, b, draw.Src, nil)
		draw.CatmullRom.Scale(px, px.Rect, mid, mid.Rect, draw.Over, nil)
	default:
		draw.CatmullRom.Scale(px, px.Rect, img, b, draw.Over, nil)
	}
}

// writeColour writes the escape sequence that starts with prefix for colour c.
func writeColour(sb *strings.Builder, prefix string, c [3]uint8) {
	var buf [24]byte
	out := append(buf[:0], prefix...)
	out = strconv.AppendUint(out, uint64(c[0]), 10)
	out = append(out, ';')
	out = strconv.AppendUint(out, uint64(c[1]), 10)
	out = append(out, ';')
	out = strconv.AppendUint(out, uint64(c[2]), 10)
	out = append(out, 'm')
	sb.Write(out)
}

// writeCube writes the escape sequence that starts with prefix for the colour of the xterm
// 256-colour cube nearest to c.
func writeCube(sb *strings.Builder, prefix string, c [3]uint8) {
	level := func(v uint8) int {
		switch {
		case v < 48:
			return 0
		case v < 115:
			return 1
		}
		return (int(v) - 35) / 40
	}
	sb.WriteString(prefix)
	sb.WriteString(strconv.Itoa(16 + 36*level(c[0]) + 6*level(c[1]) + level(c[2])))
	sb.WriteByte('m')
}

// Shrink returns img brought down to fit maxW×maxH pixels, its shape kept, or img itself
// when it already fits.
func Shrink(img image.Image, maxW, maxH int) image.Image {
	b := img.Bounds()
	s := min(float64(maxW)/float64(b.Dx()), float64(maxH)/float64(b.Dy()))
	if s >= 1 {
		return img
	}
	tw := max(1, int(math.Round(float64(b.Dx())*s)))
	th := max(1, int(math.Round(float64(b.Dy())*s)))
	dst := image.NewNRGBA(image.Rect(0, 0, tw, th))
	draw.ApproxBiLinear.Scale(dst, dst.Rect, img, b, draw.Src, nil)
	return dst
}
