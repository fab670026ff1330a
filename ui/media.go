package ui

import (
	"context"
	"errors"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"maunium.net/go/mautrix/id"

	"duet/internal/opener"
	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/internal/imageview"
	"duet/ui/internal/kittyimg"
)

// Files: /upload sends one, o opens the picked message's file with the system's program, s
// saves it in the downloads folder, and images in view get their pictures.

const (
	maxPicture       = 20 << 20   // bytes fetched to draw an image in the timeline
	maxPicturePixels = 50_000_000 // pixels decoded to draw one (a decompression bomb is refused)
	pictureSide      = 128        // pixels kept of a picture: enough for its cells
)

// imageMsg brings the picture of an image message.
type imageMsg struct {
	chat  string
	evt   id.EventID
	img   image.Image
	kitty *conversation.Kitty // its kitty graphics form, when the terminal has the protocol
	err   error
}

// KittyGraphics reports whether the terminal draws pictures with the kitty graphics protocol's
// Unicode placeholders (kitty, Ghostty; not inside tmux or screen). DUET_IMAGES=kitty or
// =blocks decides instead.
func KittyGraphics(getenv func(string) string) bool { return kittyimg.Supported(getenv) }

// nextImageID is a fresh id for a picture sent with the kitty graphics protocol: from a random
// start, so that two duets in one terminal do not replace each other's pictures.
func (m *Model) nextImageID() uint32 {
	if *m.imageSeq == 0 {
		*m.imageSeq = 1 + rand.Uint32N(kittyimg.MaxID/2)
	}
	*m.imageSeq++
	if *m.imageSeq > kittyimg.MaxID {
		*m.imageSeq = 1
	}
	return *m.imageSeq
}

// fetchPictures asks for the pictures of the open conversation's image messages in view.
func (m *Model) fetchPictures() tea.Cmd {
	c := m.openChat()
	if c == nil || !m.opts.InlineImages {
		return nil
	}
	var cmds []tea.Cmd
	limit := c.conv.PictureLimit()
	for _, msg := range c.conv.ImagesWanted() {
		svc, md, chat, evt := m.svc, msg.Media, c.key, msg.EventID
		var kittyID uint32
		if m.opts.KittyImages {
			kittyID = m.nextImageID()
		}
		cmds = append(cmds, m.call(func(ctx context.Context) tea.Msg {
			data, err := svc.Download(ctx, md, maxPicture)
			if err != nil {
				return imageMsg{chat: chat, evt: evt, err: err}
			}
			img, err := imageview.Decode(data, maxPicturePixels)
			if err != nil {
				return imageMsg{chat: chat, evt: evt, err: err}
			}
			out := imageMsg{chat: chat, evt: evt, img: imageview.Shrink(img, pictureSide, pictureSide)}
			if kittyID != 0 {
				b := img.Bounds()
				cols, rows := kittyimg.Fit(b.Dx(), b.Dy(), conversation.PictureCols, limit)
				// From the full picture: the terminal draws pixels (Transmit sizes it to the cells).
				out.kitty = &conversation.Kitty{ID: kittyID, Cols: cols, Rows: rows,
					Transmit: kittyimg.Transmit(kittyID, img, cols, rows)}
			}
			return out
		}))
	}
	return tea.Batch(cmds...)
}

func (m *Model) pictureCame(msg imageMsg) {
	if msg.err != nil {
		return // the message still says what the file is; o opens it
	}
	if c := m.chats[msg.chat]; c != nil {
		c.conv.SetImage(msg.evt, msg.img, msg.kitty)
	}
}

// mediaDoneMsg says where a file was saved, or opened from.
type mediaDoneMsg struct {
	path   string
	opened bool
	err    error
}

// mediaAction opens (o) or saves (s) the file of a picked message.
func (m *Model) mediaAction(c *chat, msg matrixsvc.Message, open bool) tea.Cmd {
	if msg.Media == nil || msg.Redacted || msg.EventID == "" {
		m.status.SetError("that message has no file")
		return nil
	}
	dir := m.opts.Downloads
	if open {
		dir = m.opts.OpenDir
	}
	if dir == "" {
		m.status.SetError("no folder to put the file in: set XDG_DOWNLOAD_DIR")
		return nil
	}
	m.status.SetInfo("fetching " + msg.Media.Name + "…")
	svc, md := m.svc, msg.Media
	return m.call(func(ctx context.Context) tea.Msg {
		save := svc.SaveMedia
		if open {
			save = svc.OpenMedia // fetched once, however often it is opened
		}
		path, err := save(ctx, md, dir)
		if err == nil && open {
			err = opener.Open(path)
		}
		return mediaDoneMsg{path: path, opened: open, err: err}
	})
}

func (m *Model) mediaDone(msg mediaDoneMsg) {
	switch {
	case msg.err != nil && errors.Is(msg.err, opener.ErrNoOpener):
		m.status.SetError(explain(msg.err) + " (the file is in " + msg.path + ")")
	case msg.err != nil:
		m.status.SetError(explain(msg.err))
	case msg.opened:
		m.status.SetInfo("opened " + filepath.Base(msg.path))
	default:
		m.status.SetInfo("saved to " + msg.path)
	}
}

// upload sends a file (/upload PATH): shown at once, sent by the outbox.
func (m *Model) upload(arg string) tea.Cmd {
	path := strings.TrimSpace(arg)
	if path == "" {
		m.status.SetError("/upload needs a file: /upload ~/Pictures/cat.png")
		return nil
	}
	if home, err := os.UserHomeDir(); err == nil && (path == "~" || strings.HasPrefix(path, "~/")) {
		path = filepath.Join(home, path[1:])
	}
	c := m.openChat()
	if c == nil || c.item.Pending {
		m.status.SetError("open a conversation first")
		return nil
	}
	var target id.UserID
	if c.item.Kind == contacts.KindContact {
		target = c.item.UserID
	} else if c.room == "" {
		m.status.SetError("this conversation has no room to send to")
		return nil
	}
	size, err := matrixsvc.CheckFile(path) // a local look: no such file, a folder, empty, unreadable
	if err != nil {
		m.status.SetError(explain(err))
		return nil
	}
	txn := m.newTxn()
	c.conv.AddFileEcho(txn, filepath.Base(path), size, conversation.Queued)
	return m.enqueueFile(c.room, target, path, txn)
}
