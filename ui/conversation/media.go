package conversation

import (
	"fmt"
	"image"
	"strings"

	"github.com/charmbracelet/colorprofile"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/imageview"
	"duet/ui/internal/kittyimg"
	"duet/ui/internal/textutil"
)

// Files in the timeline: a line with the file's name, kind and size; an image also gets its
// picture in block characters once it is fetched (the root fetches those in view).

// Picture bounds, in cells.
const (
	PictureCols = 48
	PictureRows = 12
)

// Kitty is a picture for terminals with the kitty graphics protocol: the escape sequence that
// sends it (made once, off the UI's path: it costs milliseconds) and the cells it was placed
// in; the timeline draws it with Unicode placeholders, which the renderer treats as text. The
// transmission goes in the frame, before the first row in view: Bubble Tea v2's renderer
// keeps an APC sequence with the cell that follows it and writes it whenever it paints that
// cell (after a clear too, which a terminal may take as leave to drop its pictures).
type Kitty struct {
	ID         uint32
	Transmit   string
	Cols, Rows int
}

// ShowImages turns drawing pictures of image messages on or off.
func (m *Model) ShowImages(on bool) { m.images = on }

// ImagesWanted returns the image messages in view whose pictures were not asked for yet, and
// marks them asked.
func (m *Model) ImagesWanted() []matrixsvc.Message {
	if !m.images || m.width <= 0 {
		return nil
	}
	var out []matrixsvc.Message
	need := m.textHeight()
	a, skip := m.bottom()
	for i := a; i >= 0 && need > 0; i-- {
		e := m.entries[i]
		if md := e.msg.Media; md != nil && !e.imgAsked && md.Kind == string(event.MsgImage) && e.msg.EventID != "" {
			e.imgAsked = true
			out = append(out, e.msg)
		}
		n := len(m.lines(i))
		if i == a {
			n -= skip
		}
		need -= n
	}
	return out
}

// SetImage gives an image message its picture (nil: it could not be fetched or read), and
// its kitty form when the terminal speaks that protocol (else nil).
func (m *Model) SetImage(evt id.EventID, img image.Image, kitty *Kitty) {
	e := m.byEvent[evt]
	if e == nil || img == nil {
		return
	}
	e.img, e.kitty = img, kitty
	e.invalidate()
	if !m.follow {
		m.clamp()
	}
}

// AddFileEcho shows a file we are sending, before the server has it.
func (m *Model) AddFileEcho(txn, name string, size int64, state State) {
	e := &entry{
		msg: matrixsvc.Message{Sender: m.me, Timestamp: m.now(), MsgType: string(event.MsgFile), Body: name,
			Media: &matrixsvc.Media{Kind: string(event.MsgFile), Name: name, Size: size}},
		txn: txn, state: state,
	}
	m.byTxn[txn] = e
	m.push(e)
	m.ScrollToBottom()
}

// mediaLine is what a file message shows: an icon by kind, the name, the type and the size.
func mediaLine(md *matrixsvc.Media) string {
	icon := "📎"
	switch event.MessageType(md.Kind) {
	case event.MsgImage:
		icon = "🖼"
	case event.MsgVideo:
		icon = "🎞"
	case event.MsgAudio:
		icon = "🎵"
	}
	name := strings.Join(strings.Fields(sanitize.Line(md.Name)), " ")
	if name == "" {
		name = "a file"
	}
	var about []string
	if md.MimeType != "" {
		about = append(about, sanitize.Line(md.MimeType))
	}
	if md.Size > 0 {
		about = append(about, textutil.Size(md.Size))
	}
	if md.Width > 0 && md.Height > 0 {
		about = append(about, fmt.Sprintf("%d×%d", md.Width, md.Height))
	}
	if md.Duration > 0 {
		about = append(about, md.Duration.Round(1e9).String())
	}
	if len(about) == 0 {
		return icon + " " + name
	}
	return icon + " " + name + " (" + strings.Join(about, ", ") + ")"
}

// PictureLimit is how many rows a picture may take: PictureRows, or half the window in a
// small terminal, so that one picture never fills the conversation. (A kitty picture is sized
// when it is fetched, by the limit then.)
func (m *Model) PictureLimit() int { return min(PictureRows, max(m.height/2, 3)) }

// pictureLines draws an entry's picture under its message, indented by pad.
func (m *Model) pictureLines(e *entry, pad string, w int) []string {
	if !m.images || e.img == nil {
		return nil
	}
	cols := min(w-len(pad), PictureCols)
	if cols < 4 {
		return nil
	}
	if k := e.kitty; k != nil && k.Cols <= cols {
		out := make([]string, 0, k.Rows)
		for i, l := range kittyimg.Placeholders(k.ID, k.Cols, k.Rows) {
			if i == 0 {
				l = k.Transmit + l // sent with the first row; View sends it with the first row in view
			}
			out = append(out, pad+l)
		}
		return out
	}
	var palette imageview.Palette
	switch m.styles.Terminal.Profile {
	case colorprofile.TrueColor:
		palette = imageview.TrueColor
	case colorprofile.ANSI256:
		palette = imageview.Colors256
	default:
		return nil // sixteen colours or none: the file's line says what it is
	}
	var out []string
	for _, l := range imageview.RenderIn(e.img, cols, m.PictureLimit(), palette) {
		out = append(out, pad+l)
	}
	return out
}
