package matrixsvc

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// pngFile writes a w×h PNG of distinct colours to a fresh folder and returns its path and bytes.
func pngFile(t *testing.T, name string, w, h int) (string, []byte) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: uint8(x * 40), G: uint8(y * 40), B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

// withMedia finds a message with a file.
func withMedia(m Message) bool { return m.Media != nil }

// An image sent through the outbox into a plain DM, against Dendrite: bob's client gets an
// m.image with the spec's fields and can download the same bytes; duet's own copy of the
// message knows the file.
func TestSendImageInAPlainDM(t *testing.T) {
	t.Parallel()
	svc, _, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	path, data := pngFile(t, "dot.png", 5, 3)
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindFile, Room: room, Target: bob.ID, File: path}); err != nil {
		t.Fatal(err)
	}
	if queued, _ := svc.Outbox(ctx); len(queued) != 1 || queued[0].File != path || queued[0].Body != "dot.png" {
		t.Fatalf("the outbox holds %+v", queued)
	}
	flush(t, svc, 1)
	var raw []byte
	var evtID id.EventID
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := bob.Client.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 20)
		if err != nil {
			return err.Error()
		}
		for _, evt := range resp.Chunk {
			if evt.Type == event.EventMessage && gjson.GetBytes(evt.Content.VeryRaw, "msgtype").Str == "m.image" {
				raw, evtID = evt.Content.VeryRaw, evt.ID
				return ""
			}
		}
		return "bob has no image yet"
	})
	f := gjson.GetManyBytes(raw, "body", "filename", "url", "info.mimetype", "info.size", "info.w", "info.h", "file")
	if f[0].Str != "dot.png" || f[1].Str != "dot.png" || !strings.HasPrefix(f[2].Str, "mxc://") || f[3].Str != "image/png" ||
		f[4].Int() != int64(len(data)) || f[5].Int() != 5 || f[6].Int() != 3 || f[7].Exists() {
		t.Fatalf("the image as bob gets it: %s", raw)
	}
	got, err := bob.Client.DownloadBytes(ctx, id.ContentURIString(f[2].Str).ParseOrIgnore())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("bob downloads %d bytes (%v), want the %d sent", len(got), err, len(data))
	}
	var own *Media
	waitForCopy(t, svc, room, byID(evtID), func(m Message) string {
		want := Media{Kind: "m.image", Name: "dot.png", MimeType: "image/png", Size: int64(len(data)), Width: 5, Height: 3, URL: id.ContentURIString(f[2].Str)}
		if m.Media == nil || *m.Media != want || m.Body != "dot.png" {
			return fmt.Sprintf("our copy: %+v, media %+v", m, m.Media)
		}
		own = m.Media
		return ""
	})
	if got, err := svc.Download(ctx, own, 1<<20); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("we download %d bytes (%v)", len(got), err)
	}
	if queued, _ := svc.Outbox(ctx); len(queued) != 0 {
		t.Fatalf("the outbox after sending: %+v", queued)
	}
}

// Between two duets in an encrypted DM: the server holds an encrypted event and ciphertext
// only; bob's duet reads the image, downloads and decrypts it, saves it without replacing
// anything, and refuses a file whose hash does not match.
func TestSendImageInAnEncryptedDM(t *testing.T) {
	t.Parallel()
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bobP := hstest.NewPerson(t, hs, "bob", "Bob")
	bob := newService(t, bobP, "")
	catchUp(t, alice, bob)
	room := sharedDM(t, alice, bob)
	path, data := pngFile(t, "secret.png", 4, 6)
	if err := alice.Enqueue(ctx, Outgoing{Kind: KindFile, Room: room, Target: bob.Me(), File: path}); err != nil {
		t.Fatal(err)
	}
	flush(t, alice, 1)
	var media *Media
	waitForCopy(t, bob, room, withMedia, func(m Message) string {
		d := m.Media
		if !m.E2E || d.Kind != "m.image" || d.Name != "secret.png" || d.MimeType != "image/png" || d.Size != int64(len(data)) ||
			d.Width != 4 || d.Height != 6 || d.URL != "" || d.File == nil || d.File.Hashes.SHA256 == "" {
			return fmt.Sprintf("bob's copy: %+v, media %+v", m, d)
		}
		media = d
		return ""
	})
	if types := serverEventTypes(t, bobP.Client, room); slices.Contains(types, event.EventMessage.Type) {
		t.Fatalf("the homeserver holds a plain message: %v", types)
	}
	cipher, err := bobP.Client.DownloadBytes(ctx, media.File.URL.ParseOrIgnore())
	if err != nil || len(cipher) != len(data) || bytes.Equal(cipher, data) || bytes.Contains(cipher, []byte("IHDR")) {
		t.Fatalf("the homeserver holds %d bytes (%v): want ciphertext as long as the %d sent", len(cipher), err, len(data))
	}
	if got, err := bob.Download(ctx, media, 1<<20); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("bob downloads %d bytes (%v), want the %d sent", len(got), err, len(data))
	}

	dir := filepath.Join(t.TempDir(), "Downloads")
	for i, want := range []string{"secret.png", "secret (1).png"} {
		saved, err := bob.SaveMedia(ctx, media, dir)
		if err != nil || saved != filepath.Join(dir, want) {
			t.Fatalf("save %d: %q, %v; want %s", i, saved, err, want)
		}
		got, err := os.ReadFile(saved)
		fi, _ := os.Stat(saved)
		if err != nil || !bytes.Equal(got, data) || fi.Mode().Perm() != 0o600 {
			t.Fatalf("saved %s: %d bytes, mode %v, %v", saved, len(got), fi.Mode(), err)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the folder made for it: %v, %v", fi, err)
	}

	// To be opened it is fetched once, into a folder of its own, however often it is opened.
	openDir := filepath.Join(t.TempDir(), "open")
	first, err := bob.OpenMedia(ctx, media, openDir)
	if err != nil || filepath.Base(first) != "secret.png" {
		t.Fatalf("open: %q, %v", first, err)
	}
	if got, err := os.ReadFile(first); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("opened %s: %d bytes, %v", first, len(got), err)
	}
	if err := os.WriteFile(first, []byte("marked"), 0o600); err != nil { // a second fetch would undo this
		t.Fatal(err)
	}
	again, err := bob.OpenMedia(ctx, media, openDir)
	if got, _ := os.ReadFile(again); err != nil || again != first || string(got) != "marked" {
		t.Fatalf("opened again: %q (%q), %v; want %s, not fetched again", again, got, err, first)
	}
	if entries, _ := os.ReadDir(openDir); len(entries) != 1 {
		t.Fatalf("the open folder holds %d entries, want the file's folder alone", len(entries))
	}

	// Another hash than the sender's: the file is not the one sent.
	forged := *media
	file := *media.File
	sum := sha256.Sum256([]byte("something else"))
	file.Hashes.SHA256 = base64.RawStdEncoding.EncodeToString(sum[:])
	forged.File = &file
	if _, err := bob.Download(ctx, &forged, 1<<20); !errors.Is(err, ErrHashMismatch) || !strings.Contains(err.Error(), "tampered") {
		t.Fatalf("a forged hash: %v", err)
	}
	if _, err := bob.SaveMedia(ctx, &forged, dir); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("saving a forged file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("after a refused save the folder holds %d files, want the 2 saved", len(entries))
	}
	if _, err := bob.OpenMedia(ctx, &forged, openDir); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("opening a forged file: %v", err)
	}
	if entries, _ := os.ReadDir(openDir); len(entries) != 1 {
		t.Fatalf("after a refused open the open folder holds %d entries, want 1", len(entries))
	}
}

// Files sent by another client are read from their content: filename over body, the info
// fields, and a file message without a usable file is still shown, by its body.
func TestFilesFromAnotherClient(t *testing.T) {
	t.Parallel()
	svc, _, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	data := []byte("milk\neggs\nbread\n")
	up, err := bob.Client.UploadBytesWithName(ctx, data, "text/plain", "list.txt")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := bob.Client.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgFile, Body: "the shopping list", FileName: "list.txt", URL: up.ContentURI.CUString(),
		Info: &event.FileInfo{MimeType: "text/plain", Size: len(data)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		`{"msgtype":"m.image","body":"no-address.png"}`,
		`{"msgtype":"m.file","body":"number.txt","url":42}`,
		`{"msgtype":"m.video","body":"bad-info.mp4","url":"` + string(up.ContentURI.CUString()) + `","info":{"size":"lots"}}`,
		`{"msgtype":"m.audio","body":"not-mxc.ogg","url":"https://example.org/a.ogg"}`,
	} {
		if _, err := bob.Client.SendMessageEvent(ctx, room, event.EventMessage, json.RawMessage(raw)); err != nil {
			t.Fatal(err)
		}
	}
	waitForCopy(t, svc, room, byID(sent.EventID), func(m Message) string {
		want := Media{Kind: "m.file", Name: "list.txt", MimeType: "text/plain", Size: int64(len(data)), URL: up.ContentURI.CUString()}
		if m.Media == nil || *m.Media != want || m.Body != "the shopping list" {
			return fmt.Sprintf("the file: %+v, media %+v", m, m.Media)
		}
		return ""
	})
	for _, body := range []string{"no-address.png", "number.txt", "bad-info.mp4", "not-mxc.ogg"} {
		waitForCopy(t, svc, room, func(m Message) bool { return m.Body == body }, func(m Message) string {
			if m.Media != nil {
				return fmt.Sprintf("%s has a file: %+v", body, m.Media)
			}
			return ""
		})
	}
	msgs, _, err := svc.History(ctx, room, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(msgs, func(m Message) bool { return m.EventID == sent.EventID })
	if got, err := svc.Download(ctx, msgs[i].Media, 1<<20); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download: %q, %v", got, err)
	}
}

// What cannot be sent is said at once and never queued.
func TestEnqueueFileRefusesWhatCannotBeSent(t *testing.T) {
	t.Parallel()
	svc := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	ctx := hstest.Ctx(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, says string }{
		{filepath.Join(dir, "nothing-here.png"), "no such file: " + filepath.Join(dir, "nothing-here.png")},
		{dir, dir + " is a directory"},
		{empty, empty + " is empty"},
	} {
		err := svc.Enqueue(ctx, Outgoing{Kind: KindFile, Room: "!room:localhost", File: c.path})
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("EnqueueFile(%s): %v, want %q", c.path, err, c.says)
		}
	}
	if queued, _ := svc.Outbox(ctx); len(queued) != 0 {
		t.Fatalf("queued: %+v", queued)
	}
}

// A file that is gone by the time it is sent fails with the reason, once: it is not tried
// again by itself, and the messages after it go.
func TestQueuedFileThatDisappearsFails(t *testing.T) {
	t.Parallel()
	svc, _, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	path, _ := pngFile(t, "gone.png", 2, 2)
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindFile, Room: room, Target: bob.ID, File: path}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Target: bob.ID, Body: "after the file"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second flush does not try it again
		flush(t, svc, 1)
		queued, err := svc.Outbox(ctx)
		if err != nil || len(queued) != 1 || queued[0].File != path ||
			!strings.Contains(queued[0].Failed, path+": the file was moved or deleted before it was sent") {
			t.Fatalf("the outbox: %+v, %v", queued, err)
		}
		if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Target: bob.ID, Body: "after the file"}); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, svc, 1)
}

// A file larger than the homeserver takes fails before anything is uploaded, saying the limit.
func TestFileOverTheUploadLimitFails(t *testing.T) {
	t.Parallel()
	svc, _, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	limit, err := svc.uploadLimit(ctx)
	if err != nil || limit <= 0 {
		t.Fatalf("the test homeserver's upload limit: %d, %v", limit, err)
	}
	path := filepath.Join(t.TempDir(), "huge.bin")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, limit+1); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindFile, Room: room, Target: bob.ID, File: path}); err != nil {
		t.Fatal(err)
	}
	flush(t, svc, 0)
	queued, _ := svc.Outbox(ctx)
	if len(queued) != 1 || !strings.Contains(queued[0].Failed, "the homeserver accepts files up to "+humanSize(limit)) {
		t.Fatalf("the outbox: %+v", queued)
	}
}

// A message whose event the server refused is sent again without uploading its file again.
func TestRetriedFileIsNotUploadedAgain(t *testing.T) {
	t.Parallel()
	target, _ := url.Parse(hs.URL)
	f := &faulty{}
	var uploads atomic.Int32
	next := f.handler(target)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/media/v3/upload") {
			uploads.Add(1)
		}
		next.ServeHTTP(w, r)
	})}
	ln := listen(t)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "http://"+ln.Addr().String())
	room := dmWith(t, svc, bob)
	ctx := hstest.Ctx(t)
	path, _ := pngFile(t, "again.png", 3, 3)
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindFile, Room: room, Target: bob.ID, File: path}); err != nil {
		t.Fatal(err)
	}
	f.inject(1, matrixError(403, "M_FORBIDDEN", "Not now", ""))
	flush(t, svc, 0)
	queued, _ := svc.Outbox(ctx)
	if len(queued) != 1 || !strings.Contains(queued[0].Failed, "Not now") {
		t.Fatalf("the outbox after the refusal: %+v", queued)
	}
	if err := svc.RetryOutgoing(ctx, queued[0].TxnID); err != nil {
		t.Fatal(err)
	}
	flush(t, svc, 1)
	if n := uploads.Load(); n != 1 {
		t.Fatalf("the file was uploaded %d times", n)
	}
}

// Download refuses more than it is asked to take, whatever the message says and whether or
// not the server says the length; a homeserver without authenticated media is asked the old
// way.
func TestDownloadLimitAndOldMediaAPI(t *testing.T) {
	t.Parallel()
	target, _ := url.Parse(hs.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(r *http.Response) error {
		if strings.Contains(r.Request.URL.Path, "/download/") {
			r.Header.Del("Content-Length") // sent chunked: only reading tells the size
			r.ContentLength = -1
		}
		return nil
	}
	var v1, legacy atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/_matrix/client/v1/media/"):
			v1.Add(1)
			matrixError(404, "M_UNRECOGNIZED", "Unrecognized request", "")(w, r, rp)
			return
		case strings.HasPrefix(r.URL.Path, "/_matrix/media/v3/download/"), strings.HasPrefix(r.URL.Path, "/_matrix/media/v3/config"):
			legacy.Add(1)
		}
		rp.ServeHTTP(w, r)
	})}
	ln := listen(t)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	ctx := hstest.Ctx(t)
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	old := newService(t, alice, "http://"+ln.Addr().String())
	direct := newService(t, alice, "")
	data := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4 KiB
	up, err := alice.Client.UploadBytes(ctx, data, "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	small := &Media{Kind: "m.file", Name: "data.bin", Size: 10, URL: up.ContentURI.CUString()} // it lies about its size
	for _, svc := range []*Service{direct, old} {
		if _, err := svc.Download(ctx, small, 1000); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("a 4 KiB file with a limit of 1000 bytes: %v", err)
		}
		if got, err := svc.Download(ctx, small, int64(len(data))); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("a 4 KiB file with a limit of 4 KiB: %d bytes, %v", len(got), err)
		}
	}
	if v1.Load() == 0 || legacy.Load() < 2 {
		t.Fatalf("authenticated media asked %d times, the old API %d times", v1.Load(), legacy.Load())
	}
	oldLimit, err := old.uploadLimit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if limit, err := direct.uploadLimit(ctx); err != nil || limit != oldLimit || limit <= 0 {
		t.Fatalf("the upload limit the old way %d, the new %d (%v)", oldLimit, limit, err)
	}
	missing := &Media{Kind: "m.file", Name: "missing.bin", URL: id.ContentURIString("mxc://" + up.ContentURI.Homeserver + "/nosuchfile")}
	if _, err := direct.Download(ctx, missing, 1000); err == nil || !strings.Contains(err.Error(), "download missing.bin") {
		t.Fatalf("a file the server does not have: %v", err)
	}
}

// Media of a message, from a parsed content (decrypted events) and from raw JSON (the rest):
// the same result, or nil for content that has no usable file.
func TestMediaFromContent(t *testing.T) {
	file := `{"url":"mxc://hs/enc","v":"v2","key":{"k":"abc","alg":"A256CTR","ext":true,"kty":"oct","key_ops":["decrypt"]},"iv":"x","hashes":{"sha256":"y"}}`
	for _, c := range []struct {
		raw  string
		want *Media
	}{
		{`{"msgtype":"m.image","body":"cat","filename":"cat.jpg","url":"mxc://hs/a","info":{"mimetype":"image/jpeg","size":1234,"w":40,"h":30}}`,
			&Media{Kind: "m.image", Name: "cat.jpg", MimeType: "image/jpeg", Size: 1234, Width: 40, Height: 30, URL: "mxc://hs/a"}},
		{`{"msgtype":"m.audio","body":"voice.ogg","url":"mxc://hs/b","info":{"duration":61500,"size":"99"}}`,
			&Media{Kind: "m.audio", Name: "voice.ogg", Size: 99, Duration: 61500 * time.Millisecond, URL: "mxc://hs/b"}},
		{`{"msgtype":"m.file","body":"secret.pdf","file":` + file + `}`, &Media{Kind: "m.file", Name: "secret.pdf"}},
		{`{"msgtype":"m.video","body":"v","url":"mxc://hs/c","info":{"w":-5}}`, &Media{Kind: "m.video", Name: "v", URL: "mxc://hs/c"}},
		{`{"msgtype":"m.text","body":"hi","url":"mxc://hs/d"}`, nil},
		{`{"msgtype":"m.image","body":"no file"}`, nil},
		{`{"msgtype":"m.image","body":"x","url":"mxc://hs/../../etc"}`, nil},
		{`{"msgtype":"m.image","body":"x","url":"mxc://hs/a","info":"big"}`, nil},
		{`{"msgtype":"m.image","body":"x","url":"mxc://hs/a","filename":7}`, nil},
		{`{"msgtype":"m.file","body":"x","file":"mxc://hs/a"}`, nil},
	} {
		var got *Media // as toMessage does: only file messages are looked at
		if msgtype := gjson.Get(c.raw, "msgtype").Str; isMediaType(msgtype) {
			got = mediaFromJSON(msgtype, gjson.Get(c.raw, "body").Str, []byte(c.raw))
		}
		var parsed event.MessageEventContent
		var fromParsed *Media
		if json.Unmarshal([]byte(c.raw), &parsed) == nil {
			fromParsed = mediaOf(&parsed)
		}
		for which, m := range map[string]*Media{"json": got, "parsed": fromParsed} {
			if which == "parsed" && fromParsed == nil && c.want != nil {
				t.Errorf("%s: mautrix cannot parse it", c.raw)
				continue
			}
			if (m == nil) != (c.want == nil) {
				t.Errorf("%s from %s: %+v, want %+v", c.raw, which, m, c.want)
				continue
			}
			if m == nil {
				continue
			}
			if c.want.URL == "" && (m.File == nil || m.File.URL != "mxc://hs/enc" || m.File.Key.Key != "abc") {
				t.Errorf("%s from %s: the encrypted file %+v", c.raw, which, m.File)
			}
			cp := *m
			cp.File = nil
			if cp != *c.want {
				t.Errorf("%s from %s: %+v, want %+v", c.raw, which, cp, *c.want)
			}
			if back := storedMedia(mediaJSON(m)); back == nil || mediaJSON(back) != mediaJSON(m) {
				t.Errorf("%s: stored and read back as %+v", c.raw, back)
			}
		}
	}
}

func TestSafeFileName(t *testing.T) {
	long := strings.Repeat("é", 80) + ".jpeg" // 165 bytes
	for _, c := range []struct{ name, mime, want string }{
		{"photo.png", "", "photo.png"},
		{"../../etc/passwd", "", "_.._etc_passwd"},
		{`..\..\boot.ini`, "", `_.._boot.ini`},
		{".bashrc", "", "bashrc"},
		{"  report\x00\x1b[31m.pdf ", "", "report[31m.pdf"},
		{"evil\u202egnp.exe", "", "evilgnp.exe"},
		{"", "image/png", "file.png"},
		{"...", "", "file"},
		{"line\nbreak.txt", "", "line break.txt"},
		{long, "", strings.Repeat("é", 47) + ".jpeg"},
	} {
		got := SafeFileName(c.name, c.mime)
		if got != c.want {
			t.Errorf("SafeFileName(%q, %q) = %q, want %q", c.name, c.mime, got, c.want)
		}
		if len(got) > maxNameBytes || !filepath.IsLocal(got) || strings.ContainsAny(got, `/\`) {
			t.Errorf("SafeFileName(%q) = %q is not one safe name", c.name, got)
		}
	}
}
