package matrixsvc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // image sizes of what is sent
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"github.com/tidwall/gjson"
	_ "golang.org/x/image/webp"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// Media is the file of a file message (an image, a video, a sound or any file): where it is,
// and what the message says about it. The sizes are the sender's word, not checked.
type Media struct {
	Kind     string                   `json:"kind"` // m.image, m.video, m.audio or m.file
	Name     string                   `json:"name,omitempty"`
	MimeType string                   `json:"mimetype,omitempty"`
	Size     int64                    `json:"size,omitempty"`
	Width    int                      `json:"w,omitempty"`
	Height   int                      `json:"h,omitempty"`
	Duration time.Duration            `json:"duration,omitempty"` // audio and video, when given
	URL      id.ContentURIString      `json:"url,omitempty"`      // a file sent in the clear
	File     *event.EncryptedFileInfo `json:"file,omitempty"`     // an encrypted attachment
}

// isMediaType reports whether messages of msgtype carry a file.
func isMediaType(msgtype string) bool {
	switch event.MessageType(msgtype) {
	case event.MsgImage, event.MsgVideo, event.MsgAudio, event.MsgFile:
		return true
	}
	return false
}

// source is the mxc:// URI of the file (the ciphertext's, for an encrypted one).
func (m *Media) source() (id.ContentURI, error) {
	raw := m.URL
	if m.File != nil {
		raw = m.File.URL
	}
	uri, err := raw.Parse()
	if err != nil || !uri.IsValid() {
		return id.ContentURI{}, fmt.Errorf("the file's address %q is not a valid mxc:// URI", raw)
	}
	return uri, nil
}

// mediaOf reads the file of a parsed message, nil when it has none or it is not well-formed.
func mediaOf(c *event.MessageEventContent) *Media {
	if !isMediaType(string(c.MsgType)) {
		return nil
	}
	m := &Media{Kind: string(c.MsgType), Name: c.Body, URL: c.URL}
	if c.FileName != "" {
		m.Name = c.FileName
	}
	if c.File != nil {
		file := *c.File
		m.File, m.URL = &file, ""
	}
	if i := c.Info; i != nil {
		m.MimeType, m.Size, m.Width, m.Height = i.MimeType, int64(i.Size), i.Width, i.Height
		m.Duration = time.Duration(i.Duration) * time.Millisecond
	}
	return m.checked()
}

// mediaFromJSON reads the file of a message of type kind from its raw content; only file
// messages come here, so text messages never pay for it.
func mediaFromJSON(kind, body string, raw []byte) *Media {
	f := gjson.GetManyBytes(raw, "url", "file", "filename", "info")
	m := &Media{Kind: kind, Name: body}
	switch {
	case f[1].Exists():
		if !f[1].IsObject() {
			return nil
		}
		var file event.EncryptedFileInfo
		if json.Unmarshal([]byte(f[1].Raw), &file) != nil {
			return nil
		}
		m.File = &file
	case f[0].Type == gjson.String:
		m.URL = id.ContentURIString(f[0].Str)
	default:
		return nil
	}
	if f[2].Exists() {
		if f[2].Type != gjson.String {
			return nil
		}
		if f[2].Str != "" {
			m.Name = f[2].Str
		}
	}
	if f[3].Exists() {
		if !f[3].IsObject() {
			return nil
		}
		i := gjson.GetMany(f[3].Raw, "mimetype", "size", "w", "h", "duration")
		if i[0].Exists() && i[0].Type != gjson.String {
			return nil
		}
		m.MimeType = i[0].Str
		var nums [4]int64
		for k, r := range i[1:] {
			n, ok := number(r)
			if !ok {
				return nil
			}
			nums[k] = n
		}
		m.Size, m.Width, m.Height = nums[0], int(min(nums[1], 1<<31-1)), int(min(nums[2], 1<<31-1))
		m.Duration = time.Duration(min(nums[3], int64(1)<<40)) * time.Millisecond
	}
	return m.checked()
}

// number reads a non-negative count (a number, or a number in a string as some clients send);
// absent is 0, anything else is not ok.
func number(r gjson.Result) (int64, bool) {
	var v float64
	switch r.Type {
	case gjson.Null: // absent, or null
		return 0, true
	case gjson.Number:
		v = r.Num
	case gjson.String:
		f, err := strconv.ParseFloat(r.Str, 64)
		if err != nil {
			return 0, false
		}
		v = f
	default:
		return 0, false
	}
	if v <= 0 || math.IsNaN(v) {
		return 0, true
	}
	return int64(min(v, 1<<53)), true
}

// checked is m when its file has a usable address, else nil: a message without one is shown
// by its body alone.
func (m *Media) checked() *Media {
	if _, err := m.source(); err != nil {
		return nil
	}
	m.Size = max(m.Size, 0)
	m.Width, m.Height = max(m.Width, 0), max(m.Height, 0)
	m.Duration = max(m.Duration, 0)
	return m
}

// mediaJSON is how a message's file is stored (store.Event.Media).
func mediaJSON(m *Media) string {
	if m == nil {
		return ""
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return string(raw)
}

// storedMedia reads a stored message's file back; nil when there is none.
func storedMedia(raw string) *Media {
	if raw == "" {
		return nil
	}
	var m Media
	if json.Unmarshal([]byte(raw), &m) != nil {
		return nil
	}
	return m.checked()
}

// CheckFile says whether the file at path can be sent (as Enqueue checks a KindFile), in words
// when not, and how large it is.
func CheckFile(path string) (int64, error) {
	f, err := openToSend(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// openToSend opens a file to send, saying in words why it cannot be.
func openToSend(path string) (*os.File, error) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &saidError{msg: "no such file: " + path, err: err}
	case errors.Is(err, fs.ErrPermission):
		return nil, &saidError{msg: "cannot read " + path + ": permission denied", err: err}
	case err != nil:
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		err = fmt.Errorf("cannot read %s: %w", path, err)
	case fi.IsDir():
		err = fmt.Errorf("%s is a directory: only files can be sent", path)
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("%s is not a regular file: only files can be sent", path)
	case fi.Size() == 0:
		err = fmt.Errorf("%s is empty: there is nothing to send", path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// uploadTime is how much longer than sendTimeout an attempt to send the file at path may take:
// its upload at 100 KiB/s, a slow connection.
func uploadTime(path string) time.Duration {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return time.Duration(fi.Size()/(100<<10)) * time.Second
}

// sendFile sends the file of an outbox entry: uploaded first (once: the message content is
// saved before the event is sent, so a retry does not upload it again), then the message.
func (s *Service) sendFile(ctx context.Context, o *store.Outgoing) (id.EventID, error) {
	var content event.MessageEventContent
	if o.Media != "" {
		if err := json.Unmarshal([]byte(o.Media), &content); err != nil {
			return "", fmt.Errorf("the uploaded file's message is unreadable: %w", err)
		}
	} else {
		c, err := s.upload(ctx, o.Room, o.File)
		if err != nil {
			return "", err
		}
		raw, err := json.Marshal(c)
		if err != nil {
			return "", err
		}
		if err := s.store.SetOutgoingMedia(ctx, o.TxnID, string(raw)); err != nil {
			return "", err
		}
		o.Media, content = string(raw), *c
	}
	if o.Thread != "" {
		return s.sendContent(ctx, o.Room, s.inThread(ctx, o.Room, &content, o.Thread, ""), o.TxnID)
	}
	return s.sendContent(ctx, o.Room, &content, o.TxnID)
}

// errFileGone is a queued file that is not there any more: the message fails, as a refusal.
var errFileGone = errors.New("the file was moved or deleted before it was sent")

// upload uploads the file at path for room (encrypted for an encrypted room) and returns the
// message that sends it.
func (s *Service) upload(ctx context.Context, room id.RoomID, path string) (*event.MessageEventContent, error) {
	f, err := openToSend(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, errFileGone)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	name, size := filepath.Base(path), fi.Size()
	limit, err := s.uploadLimit(ctx)
	if err != nil {
		return nil, err
	}
	if limit > 0 && size > limit {
		return nil, fmt.Errorf("%s is %s: the homeserver accepts files up to %s", name, humanSize(size), humanSize(limit))
	}
	mimeType := detectType(f, name)
	content := &event.MessageEventContent{MsgType: msgTypeOf(mimeType), Body: name, FileName: name,
		Info: &event.FileInfo{MimeType: mimeType, Size: int(size)}}
	if strings.HasPrefix(mimeType, "image/") {
		if cfg, _, err := image.DecodeConfig(f); err == nil {
			content.Info.Width, content.Info.Height = cfg.Width, cfg.Height
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	encrypted, err := s.store.State.IsEncrypted(ctx, room)
	if err != nil {
		return nil, err
	}
	t := s.track(TaskUpload, UnitBytes, name, size)
	defer t.End()
	body := t.Reader(io.LimitReader(f, size)) // what the server is told it gets, if the file grew since
	if !encrypted {
		uri, err := s.uploadBytes(ctx, body, size, mimeType, name)
		if err != nil {
			return nil, err
		}
		content.URL = uri.CUString()
		return content, nil
	}
	// The server gets the ciphertext only, with no name and no type.
	file := attachment.NewEncryptedFile()
	stream := file.EncryptStream(body)
	uri, err := s.uploadBytes(ctx, stream, size, "application/octet-stream", "")
	if err != nil {
		return nil, err
	}
	if err := stream.Close(); err != nil { // the hash of what was sent
		return nil, err
	}
	content.File = &event.EncryptedFileInfo{EncryptedFile: *file, URL: uri.CUString()}
	return content, nil
}

// detectType is a file's MIME type by its content (by its name when the content says nothing),
// application/octet-stream when neither tells. It leaves f where it found it.
func detectType(f *os.File, name string) string {
	t, err := mimetype.DetectReader(f)
	_, _ = f.Seek(0, io.SeekStart)
	if err == nil && t.String() != "application/octet-stream" {
		return t.String()
	}
	if byExt := mime.TypeByExtension(filepath.Ext(name)); byExt != "" {
		return byExt
	}
	return "application/octet-stream"
}

// msgTypeOf is the message type a file of mimeType goes as.
func msgTypeOf(mimeType string) event.MessageType {
	switch {
	case strings.HasPrefix(mimeType, "image/"):
		return event.MsgImage
	case strings.HasPrefix(mimeType, "video/"):
		return event.MsgVideo
	case strings.HasPrefix(mimeType, "audio/"):
		return event.MsgAudio
	}
	return event.MsgFile
}

// uploadLimit is the largest file the homeserver accepts (m.upload.size), 0 when it does not
// say.
func (s *Service) uploadLimit(ctx context.Context) (int64, error) {
	ctx = mautrix.WithMaxRetries(ctx, 0)
	cfg, err := s.cli.GetMediaConfig(ctx)
	if notThere(err) { // a homeserver from before authenticated media
		cfg = nil
		_, err = s.cli.MakeRequest(ctx, http.MethodGet, s.cli.BuildURL(mautrix.MediaURLPath{"v3", "config"}), nil, &cfg)
	}
	if notThere(err) {
		return 0, nil // no limit it tells
	}
	if err != nil {
		return 0, explainf(s.wrap(err), "ask the homeserver how large a file may be")
	}
	if cfg == nil {
		return 0, nil
	}
	return cfg.UploadSize, nil
}

// mediaClient is the HTTP client for uploads and downloads: without the 90 seconds the other
// requests get, which a large file on a slow connection needs; the caller's context bounds it.
func (s *Service) mediaClient() *http.Client {
	c := *s.cli.Client
	c.Timeout = 0
	return &c
}

// uploadBytes uploads size bytes from body in one attempt (the outbox decides when to try
// again) and returns the file's mxc:// URI.
func (s *Service) uploadBytes(ctx context.Context, body io.Reader, size int64, contentType, name string) (id.ContentURI, error) {
	url := s.cli.BuildURL(mautrix.MediaURLPath{"v3", "upload"})
	if name != "" {
		url = s.cli.BuildURLWithQuery(mautrix.MediaURLPath{"v3", "upload"}, map[string]string{"filename": name})
	}
	var resp mautrix.RespMediaUpload
	_, err := s.cli.MakeFullRequest(ctx, mautrix.FullRequest{
		Method:        http.MethodPost,
		URL:           url,
		Headers:       http.Header{"Content-Type": {contentType}},
		RequestBody:   struct{ io.Reader }{body}, // not a Seeker: never sent twice
		RequestLength: size,
		ResponseJSON:  &resp,
		MaxAttempts:   1,
		Client:        s.mediaClient(),
	})
	if err != nil {
		return id.ContentURI{}, explainf(s.wrap(err), "upload the file")
	}
	if !resp.ContentURI.IsValid() {
		return id.ContentURI{}, fmt.Errorf("upload the file: the homeserver answered no valid address (%q)", resp.ContentURI.String())
	}
	return resp.ContentURI, nil
}

// ErrHashMismatch means a downloaded encrypted file is not the one the message was sent with.
var ErrHashMismatch = errors.New("the file's hash does not match: it may have been tampered with")

// ErrTooLarge means a file is larger than what the caller was willing to download.
var ErrTooLarge = errors.New("the file is too large")

// Download fetches the file of a message, decrypted when it is encrypted, refusing more than
// max bytes whatever the message says its size is. An encrypted file whose hash does not
// match is refused (ErrHashMismatch).
func (s *Service) Download(ctx context.Context, m *Media, max int64) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := s.fetch(ctx, m, max, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fetch writes the file of m to w, decrypted, and returns how many bytes it wrote. For an
// encrypted file the hash is checked at the end: on ErrHashMismatch what was written must be
// thrown away.
func (s *Service) fetch(ctx context.Context, m *Media, max int64, w io.Writer) (int64, error) {
	if m == nil {
		return 0, errors.New("the message has no file")
	}
	uri, err := m.source()
	if err != nil {
		return 0, err
	}
	var file attachment.EncryptedFile
	if m.File != nil {
		// A copy of what the message says (decoding the keys writes to it), nothing decoded before.
		file = attachment.EncryptedFile{Key: m.File.Key, InitVector: m.File.InitVector, Hashes: m.File.Hashes, Version: m.File.Version}
		if err := file.PrepareForDecryption(); err != nil {
			return 0, fmt.Errorf("the file's encryption details are unusable: %w", err)
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sendTimeout+time.Duration(max/(100<<10))*time.Second)
		defer cancel()
	}
	resp, err := s.download(ctx, uri)
	if err != nil {
		return 0, explainf(s.wrap(err), "download %s", m.Name)
	}
	defer resp.Body.Close()
	if resp.ContentLength > max {
		return 0, fmt.Errorf("%s is %s, more than %s: %w", m.Name, humanSize(resp.ContentLength), humanSize(max), ErrTooLarge)
	}
	var src io.Reader = io.LimitReader(resp.Body, max+1)
	var dec io.ReadCloser
	if m.File != nil {
		dec = file.DecryptStream(src)
		src = dec
	}
	n, err := io.Copy(w, src)
	if err != nil {
		return n, fmt.Errorf("download %s: %w", m.Name, err)
	}
	if n > max {
		return n, fmt.Errorf("%s is more than %s: %w", m.Name, humanSize(max), ErrTooLarge)
	}
	if dec != nil {
		if err := dec.Close(); errors.Is(err, attachment.ErrHashMismatch) {
			return n, ErrHashMismatch
		} else if err != nil {
			return n, fmt.Errorf("download %s: %w", m.Name, err)
		}
	}
	return n, nil
}

// download starts the download of uri: through the authenticated media API, or the older
// unauthenticated one of a homeserver that does not have it.
func (s *Service) download(ctx context.Context, uri id.ContentURI) (*http.Response, error) {
	get := func(url string) (*http.Response, error) {
		_, resp, err := s.cli.MakeFullRequestWithResp(ctx, mautrix.FullRequest{
			Method:           http.MethodGet,
			URL:              url,
			DontReadResponse: true,
			MaxAttempts:      1,
			Client:           s.mediaClient(),
		})
		return resp, err
	}
	resp, err := get(s.cli.BuildClientURL("v1", "media", "download", uri.Homeserver, uri.FileID))
	if notThere(err) {
		s.log.Debug().Msg("no authenticated media on the homeserver; downloading the old way")
		resp, err = get(s.cli.BuildURL(mautrix.MediaURLPath{"v3", "download", uri.Homeserver, uri.FileID}))
	}
	return resp, err
}

// notThere reports whether err says the homeserver does not have the endpoint asked (it is
// older than it), rather than that it has no such file.
func notThere(err error) bool {
	var httpErr mautrix.HTTPError
	if err == nil || !errors.As(err, &httpErr) || httpErr.Response == nil {
		return false
	}
	code := httpErr.Response.StatusCode
	return errors.Is(err, mautrix.MUnrecognized) || code == http.StatusMethodNotAllowed ||
		(code == http.StatusNotFound && httpErr.RespError == nil)
}

// maxSave bounds what SaveMedia writes to disk: no homeserver sends files this large.
const maxSave = 8 << 30

// SaveMedia downloads the file of a message into dir (made, private, when missing) under a
// safe name taken from the message, never replacing a file there: "name (1).ext" follows
// "name.ext". The file is readable by the user alone. It returns the path written.
func (s *Service) SaveMedia(ctx context.Context, m *Media, dir string) (string, error) {
	if m == nil {
		return "", errors.New("the message has no file")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("make the folder %s: %w", dir, err)
	}
	f, path, err := createNew(dir, SafeFileName(m.Name, m.MimeType))
	if err != nil {
		return "", err
	}
	t := s.track(TaskDownload, UnitBytes, m.Name, m.Size)
	_, err = s.fetch(ctx, m, maxSave, t.Writer(f))
	t.End()
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", path, cerr)
	}
	if err != nil {
		_ = os.Remove(path) // nothing half-written or unverified stays
		return "", err
	}
	return path, nil
}

// OpenMedia fetches a message's file into a folder of its own under dir, to be opened, and
// returns its path. Opened again, the file fetched before is used: no second download and no
// second copy. The file appears only once it is complete and checked.
func (s *Service) OpenMedia(ctx context.Context, m *Media, dir string) (string, error) {
	if m == nil {
		return "", errors.New("the message has no file")
	}
	key := string(m.URL)
	if m.File != nil {
		key = string(m.File.URL) + "\x00" + m.File.Hashes.SHA256
	}
	sum := sha256.Sum256([]byte(key + "\x00" + m.Name + "\x00" + m.MimeType))
	final := filepath.Join(dir, hex.EncodeToString(sum[:12]))
	name := SafeFileName(m.Name, m.MimeType)
	if fi, err := os.Lstat(filepath.Join(final, name)); err == nil && fi.Mode().IsRegular() {
		return filepath.Join(final, name), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("make the folder %s: %w", dir, err)
	}
	part, err := os.MkdirTemp(dir, ".part-")
	if err != nil {
		return "", fmt.Errorf("make a folder in %s: %w", dir, err)
	}
	defer os.RemoveAll(part) // gone once renamed; what is left of a failure
	if _, err := s.SaveMedia(ctx, m, part); err != nil {
		return "", err
	}
	if err := os.Rename(part, final); err != nil {
		if _, serr := os.Lstat(filepath.Join(final, name)); serr != nil {
			return "", fmt.Errorf("keep the file in %s: %w", dir, err)
		}
		// Opened twice at once: the other one is there.
	}
	return filepath.Join(final, name), nil
}

// createNew creates name in dir, or "stem (n).ext" when that is taken; never an existing file,
// nor a symbolic link.
func createNew(dir, name string) (*os.File, string, error) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for n := 0; n < 1000; n++ {
		candidate := name
		if n > 0 {
			candidate = fmt.Sprintf("%s (%d)%s", stem, n, ext)
		}
		if !filepath.IsLocal(candidate) || strings.ContainsAny(candidate, `/\`) {
			return nil, "", fmt.Errorf("unsafe file name %q", candidate)
		}
		path := filepath.Join(dir, candidate)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("save the file: %w", err)
		}
		return f, path, nil
	}
	return nil, "", fmt.Errorf("save the file: %s and 999 more names like it are taken in %s", name, dir)
}

// maxNameBytes bounds a saved file's name, well below what file systems allow.
const maxNameBytes = 100

// SafeFileName turns the name a sender gave a file into one safe to save under: one file name
// (no folders), no control or invisible formatting characters, no leading dot (hidden files),
// not empty (then "file", with the extension of mimeType) and at most 100 bytes, keeping the
// extension.
func SafeFileName(name, mimeType string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\':
			return '_'
		case unicode.IsSpace(r): // a line break or a tab too
			return ' '
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ". ")
	name = strings.TrimRight(name, " ")
	if name == "" {
		name = "file"
		if t := mimetype.Lookup(strings.TrimSpace(strings.Split(mimeType, ";")[0])); t != nil {
			name += t.Extension()
		}
	}
	if len(name) <= maxNameBytes {
		return name
	}
	ext := filepath.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext)
	cut := maxNameBytes - len(ext)
	for cut > 0 && !utf8.RuneStart(stem[cut]) {
		cut--
	}
	return strings.TrimRight(stem[:cut], " .") + ext
}

// humanSize says a number of bytes the way people read it.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, next := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, next
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + suffix
}
