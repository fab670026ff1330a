package matrixsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"maunium.net/go/mautrix"
)

// syncRequest is mautrix's FullSyncRequest, but tolerant of account data whose content is not a
// JSON object (a corrupt m.direct, R1): mautrix would refuse the whole response, and sync would
// stop for good. Such content is kept raw in accountData and replaced by {} before decoding.
func (s *Service) syncRequest(ctx context.Context, req mautrix.ReqSync) (*mautrix.RespSync, map[string]json.RawMessage, error) {
	if req.Since == "" {
		return s.firstSyncRequest(ctx, req)
	}
	var raw json.RawMessage
	_, err := s.cli.MakeFullRequest(ctx, mautrix.FullRequest{
		Method:       http.MethodGet,
		URL:          s.cli.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "sync"}, req.BuildQuery()),
		ResponseJSON: &raw,
		MaxAttempts:  1, // Run has its own backoff
	})
	if err != nil {
		return nil, nil, err
	}
	return decodeSync(raw)
}

// firstSyncRequest is the initial sync, which for a large account takes a while: what has
// come of its response is reported as it comes (TaskSync, bytes), and the rooms it brings
// as they are taken in (saveSync). The caller ends s.firstSync.
func (s *Service) firstSyncRequest(ctx context.Context, req mautrix.ReqSync) (*mautrix.RespSync, map[string]json.RawMessage, error) {
	// Reported from the start: the server prepares the whole answer before its first byte
	// (seconds, minutes on a large account), and the UI says it is waiting for that.
	s.firstSync = s.track(TaskSync, UnitBytes, "", 0)
	waiting := s.firstSync.keepReporting(time.Second)
	_, resp, err := s.cli.MakeFullRequestWithResp(ctx, mautrix.FullRequest{
		Method:           http.MethodGet,
		URL:              s.cli.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "sync"}, req.BuildQuery()),
		DontReadResponse: true,
		MaxAttempts:      1, // Run has its own backoff
	})
	waiting()
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	s.firstSync.setTotal(max(resp.ContentLength, 0))
	limit := s.cli.ResponseSizeLimit
	if limit <= 0 {
		limit = mautrix.DefaultResponseSizeLimit
	}
	raw, err := io.ReadAll(io.LimitReader(s.firstSync.Reader(resp.Body), limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read the sync response: %w", err)
	}
	if int64(len(raw)) > limit {
		return nil, nil, fmt.Errorf("the sync response is larger than %d bytes", limit)
	}
	return decodeSync(raw)
}

func decodeSync(data []byte) (*mautrix.RespSync, map[string]json.RawMessage, error) {
	accountData := make(map[string]json.RawMessage)
	// Paths of account data contents that are not objects; almost always none. Each list is
	// found from the value it sits in, so the response is walked once, not once per room.
	var bad []string
	check := func(path string, events gjson.Result, collect bool) {
		events.ForEach(func(key, evt gjson.Result) bool {
			content := evt.Get("content")
			if collect {
				accountData[evt.Get("type").String()] = json.RawMessage(content.Raw)
			}
			if !content.IsObject() {
				bad = append(bad, path+"."+strconv.Itoa(int(key.Int()))+".content")
			}
			return true
		})
	}
	top := gjson.GetManyBytes(data, "account_data.events", "rooms.join")
	check("account_data.events", top[0], true)
	top[1].ForEach(func(roomID, room gjson.Result) bool {
		check("rooms.join."+gjson.Escape(roomID.String())+".account_data.events", room.Get("account_data.events"), false)
		return true
	})
	fixed := data
	for _, path := range bad {
		var err error
		if fixed, err = sjson.SetRawBytes(fixed, path, []byte("{}")); err != nil {
			return nil, nil, fmt.Errorf("repair sync response: %w", err)
		}
	}
	var resp mautrix.RespSync
	if err := json.Unmarshal(fixed, &resp); err != nil {
		return nil, nil, fmt.Errorf("decode sync response: %w", err)
	}
	return &resp, accountData, nil
}
