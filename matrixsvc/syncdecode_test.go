package matrixsvc

import (
	"testing"
)

// A /sync whose account data is not an object (a corrupt m.direct, a room's junk tag) still
// decodes; the raw m.direct is kept for R1.
func TestDecodeSyncToleratesNonObjectAccountData(t *testing.T) {
	raw := []byte(`{"next_batch":"s2",
		"account_data":{"events":[{"type":"m.direct","content":["not","an","object"]},{"type":"m.ignored_user_list","content":{"ignored_users":{}}}]},
		"rooms":{"join":{"!a.b:hs.example":{"account_data":{"events":[{"type":"m.tag","content":7}]},
			"timeline":{"events":[{"type":"m.room.message","event_id":"$1","sender":"@b:hs.example","origin_server_ts":5,"content":{"msgtype":"m.text","body":"hi"}}]}}}}}`)
	resp, accountData, err := decodeSync(raw)
	if err != nil {
		t.Fatal(err)
	}
	if string(accountData["m.direct"]) != `["not","an","object"]` {
		t.Fatalf("raw m.direct: %s", accountData["m.direct"])
	}
	if resp.NextBatch != "s2" || len(resp.Rooms.Join["!a.b:hs.example"].Timeline.Events) != 1 {
		t.Fatalf("decoded: %+v", resp)
	}
}
