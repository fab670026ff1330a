package matrixsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"maunium.net/go/mautrix"
)

// syncRequest is mautrix's FullSyncRequest, but tolerant of account data whose content is not a
// JSON object (a corrupt m.direct, R1): mautrix would refuse the whole response, and sync would
// stop for good. Such content is kept raw in accountData and replaced by {} before decoding.
func (s *Service) syncRequest(ctx context.Context, req mautrix.ReqSync) (*mautrix.RespSync, map[string]json.RawMessage, error) {
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

func decodeSync(data []byte) (*mautrix.RespSync, map[string]json.RawMessage, error) {
	accountData := make(map[string]json.RawMessage)
	fixed := data
	var fixErr error
	fix := func(path string, collect bool) {
		gjson.GetBytes(data, path).ForEach(func(key, evt gjson.Result) bool {
			content := evt.Get("content")
			if collect {
				accountData[evt.Get("type").String()] = json.RawMessage(content.Raw)
			}
			if !content.IsObject() {
				fixed, fixErr = sjson.SetRawBytes(fixed, path+"."+strconv.Itoa(int(key.Int()))+".content", []byte("{}"))
			}
			return fixErr == nil
		})
	}
	fix("account_data.events", true)
	gjson.GetBytes(data, "rooms.join").ForEach(func(roomID, _ gjson.Result) bool {
		fix("rooms.join."+gjson.Escape(roomID.String())+".account_data.events", false)
		return fixErr == nil
	})
	if fixErr != nil {
		return nil, nil, fmt.Errorf("repair sync response: %w", fixErr)
	}
	var resp mautrix.RespSync
	if err := json.Unmarshal(fixed, &resp); err != nil {
		return nil, nil, fmt.Errorf("decode sync response: %w", err)
	}
	return &resp, accountData, nil
}
