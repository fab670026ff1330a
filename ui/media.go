package ui

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/image/draw"
	"maunium.net/go/mautrix/id"

	"duet/internal/opener"
	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/internal/imageview"
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
	chat string
	evt  id.EventID
	img  image.Image
	err  error
}

// fetchPictures asks for the pictures of the open conversation's image messages in view.
func (m *Model) fetchPictures() tea.Cmd {
	c := m.openChat()
	if c == nil || !m.opts.InlineImages {
		return nil
	}
	var cmds []tea.Cmd
	for _, msg := range c.conv.ImagesWanted() {
		svc, md, chat, evt := m.svc, msg.Media, c.key, msg.EventID
		cmds = append(cmds, m.call(func(ctx context.Context) tea.Msg {
			data, err := svc.Download(ctx, md, maxPicture)
			if err != nil {
				return imageMsg{chat: chat, evt: evt, err: err}
			}
			img, err := imageview.Decode(data, maxPicturePixels)
			if err != nil {
				return imageMsg{chat: chat, evt: evt, err: err}
			}
			return imageMsg{chat: chat, evt: evt, img: shrink(img, pictureSide)}
		}))
	}
	return tea.Batch(cmds...)
}

// shrink keeps a picture small: the timeline draws it in a few dozen cells.
func shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	if w >= h {
		w, h = side, max(h*side/w, 1)
	} else {
		w, h = max(w*side/h, 1), side
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(out, out.Rect, img, b, draw.Src, nil)
	return out
}

func (m *Model) pictureCame(msg imageMsg) {
	if msg.err != nil {
		return // the message still says what the file is; o opens it
	}
	if c := m.chats[msg.chat]; c != nil {
		c.conv.SetImage(msg.evt, msg.img)
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
		path, err := svc.SaveMedia(ctx, md, dir)
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
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		// Said by the service, in its words: no such file, a folder, unreadable.
		svc, room := m.svc, c.room
		return m.call(func(ctx context.Context) tea.Msg {
			return uploadRefusedMsg{err: svc.EnqueueFile(ctx, room, target, path, "")}
		})
	}
	txn := m.newTxn()
	c.conv.AddFileEcho(txn, filepath.Base(path), st.Size(), conversation.Queued)
	svc, room := m.svc, c.room
	return m.call(func(ctx context.Context) tea.Msg {
		return enqueuedMsg{txn: txn, err: svc.EnqueueFile(ctx, room, target, path, txn)}
	})
}

// uploadRefusedMsg says why a file cannot be sent.
type uploadRefusedMsg struct{ err error }
