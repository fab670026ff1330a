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
