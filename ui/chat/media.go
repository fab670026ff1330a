package chat

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/browser"
	"duet/internal/opener"
	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/conversation"
	"duet/ui/internal/imageview"
	"duet/ui/internal/kittyimg"
	"duet/ui/internal/textutil"
)

// Files and links of messages: the pictures of images in view, o and s on a picked message
// (open or save its file, open its web link), y (copy its text).

const (
	maxPicture       = 20 << 20   // bytes fetched to draw an image in the timeline
	maxPicturePixels = 50_000_000 // pixels decoded to draw one (a decompression bomb is refused)
	pictureSide      = 128        // pixels kept of a picture: enough for its cells
)

type (
	// imageMsg brings the picture of an image message.
	imageMsg struct {
		to
		evt   id.EventID
		img   image.Image
		kitty *conversation.Kitty // its kitty graphics form, when the terminal has the protocol
		err   error
	}
	// mediaDoneMsg says where a file was saved, or opened from.
	mediaDoneMsg struct {
		to
		path   string
		opened bool
		err    error
	}
	// linkOpenedMsg is the browser's start for a link.
	linkOpenedMsg struct {
		to
		url string
		err error
	}
)

// lastLink is the link of a message o opened last: o on it again opens the next one.
type lastLink struct {
	event id.EventID
	index int
}

// FetchPictures asks for the pictures of the image messages in view.
func (c *Model) FetchPictures() tea.Cmd {
	if !c.opts.Images {
		return nil
	}
	var cmds []tea.Cmd
	limit := c.conv.PictureLimit()
	for _, msg := range c.conv.ImagesWanted() {
		var kittyID uint32
		if c.opts.Kitty {
			kittyID = c.host.ImageID()
		}
		svc, md, key, evt := c.svc, msg.Media, c.key, msg.EventID
		cmds = append(cmds, c.call(func(ctx context.Context) tea.Msg {
			out := imageMsg{to: to{key}, evt: evt}
			out.img, out.kitty, out.err = fetchPicture(ctx, svc, md, kittyID, limit)
			return out
		}))
	}
	return tea.Batch(cmds...)
}

// fetchPicture downloads and decodes a picture, shrunk for block characters and, with a kitty
// image id, also as the kitty graphics protocol draws it (from the full picture: the terminal
// draws pixels).
func fetchPicture(ctx context.Context, svc History, md *matrixsvc.Media, kittyID uint32, limit int) (image.Image, *conversation.Kitty, error) {
	data, err := svc.Download(ctx, md, maxPicture)
	if err != nil {
		return nil, nil, err
	}
	img, err := imageview.Decode(data, maxPicturePixels)
	if err != nil {
		return nil, nil, err
	}
	var kitty *conversation.Kitty
	if kittyID != 0 {
		b := img.Bounds()
		cols, rows := kittyimg.Fit(b.Dx(), b.Dy(), conversation.PictureCols, limit)
		kitty = &conversation.Kitty{ID: kittyID, Cols: cols, Rows: rows,
			Transmit: kittyimg.Transmit(kittyID, img, cols, rows)}
	}
	return imageview.Shrink(img, pictureSide, pictureSide), kitty, nil
}

func (c *Model) pictureCame(msg imageMsg) {
	if msg.err != nil {
		return // the message still says what the file is; o opens it
	}
	c.each(func(t *conversation.Model) { t.SetImage(msg.evt, msg.img, msg.kitty) })
}

// mediaAction opens (o) or saves (s) the file of a picked message.
func (c *Model) mediaAction(msg matrixsvc.Message, open bool) tea.Cmd {
	if msg.Media == nil || msg.Redacted || msg.EventID == "" {
		c.host.Error("that message has no file")
		return nil
	}
	dir := c.opts.Downloads
	if open {
		dir = c.opts.OpenDir
	}
	if dir == "" {
		c.host.Error("no folder to put the file in: set XDG_DOWNLOAD_DIR")
		return nil
	}
	c.host.Info("fetching " + msg.Media.Name + "…")
	svc, md, key := c.svc, msg.Media, c.key
	return c.call(func(ctx context.Context) tea.Msg {
		save := svc.SaveMedia
		if open {
			save = svc.OpenMedia // fetched once, however often it is opened
		}
		path, err := save(ctx, md, dir)
		if err == nil && open {
			err = opener.Open(path)
		}
		return mediaDoneMsg{to: to{key}, path: path, opened: open, err: err}
	})
}

func (c *Model) mediaDone(msg mediaDoneMsg) {
	switch {
	case msg.err != nil && errors.Is(msg.err, opener.ErrNoOpener):
		c.host.Error(textutil.Explain(msg.err) + " (the file is in " + msg.path + ")")
	case msg.err != nil:
		c.host.Error(textutil.Explain(msg.err))
	case msg.opened:
		c.host.Info("opened " + filepath.Base(msg.path))
	default:
		c.host.Info("saved to " + msg.path)
	}
}

// copyText puts a picked message's text on the clipboard.
func (c *Model) copyText(msg matrixsvc.Message) tea.Cmd {
	if msg.Redacted || msg.Encrypted {
		c.host.Error("that message has no text to copy")
		return nil
	}
	// What is pasted must not be able to act on the terminal or the shell it is pasted into
	// (an ESC[201~ in the text would end a bracketed paste and run the rest): control
	// characters go as their visible stand-ins, as on screen.
	text := sanitize.Text(matrixsvc.PlainText(msg.Body, msg.HTML), true)
	c.host.Info(fmt.Sprintf("copied %d characters to the clipboard (if the terminal allows OSC 52)", len([]rune(text))))
	return c.host.Copy(text)
}

// openLink opens a picked message's web link; on the same message again, its next one.
func (c *Model) openLink(msg matrixsvc.Message) tea.Cmd {
	var links []string
	if !msg.Redacted && !msg.Encrypted {
		if l := msg.Location; l != nil && l.MapURL() != "" {
			links = append(links, l.MapURL()) // a shared place opens on a map
		}
		links = append(links, matrixsvc.Links(msg.Body, msg.HTML)...)
	}
	if len(links) == 0 {
		c.host.Error("that message has no file or web link to open")
		return nil
	}
	i := 0
	if c.link.event == msg.EventID && msg.EventID != "" {
		i = (c.link.index + 1) % len(links)
	}
	c.link = lastLink{event: msg.EventID, index: i}
	url := links[i]
	more := ""
	if len(links) > 1 {
		more = fmt.Sprintf(" (link %d of %d: o again for the next)", i+1, len(links))
	}
	if !browser.Available(os.Getenv) {
		// Over SSH or on a console: the link goes where the person's browser is.
		c.host.Info("no browser here: copied " + textutil.Cut(sanitize.Line(url), 50) + " to the clipboard" + more)
		return c.host.Copy(url)
	}
	c.host.Info("opening " + textutil.Cut(sanitize.Line(url), 60) + more)
	key := c.key
	return c.call(func(context.Context) tea.Msg {
		return linkOpenedMsg{to: to{key}, url: url, err: browser.Open(os.Getenv, url)}
	})
}

func (c *Model) linkOpened(msg linkOpenedMsg) {
	if msg.err != nil {
		c.host.Error("could not open " + textutil.Cut(sanitize.Line(msg.url), 40) + ": " + textutil.Explain(msg.err))
	}
}
