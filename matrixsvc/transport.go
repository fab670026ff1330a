package matrixsvc

import (
	"net/http"
	"strings"
)

// idempotentSends marks the requests that carry a transaction ID (sending an event, a
// deletion, to-device messages) with an Idempotency-Key header, the transaction ID. Go's
// HTTP client then sends such a request again, at once and on a new connection, when a
// pooled connection turns out to be dead as it is used: one the server closed while idle, or
// that a suspend or a network change broke. Without it, that common failure looks like a send
// that may have arrived, which the outbox holds back for settle before it tries again. The
// server recognises the transaction, so the repeat cannot post twice; a server that forgot
// it (a restart) gives a second copy, which dropDuplicates deletes.
type idempotentSends struct {
	base http.RoundTripper
}

func (t idempotentSends) RoundTrip(req *http.Request) (*http.Response, error) {
	if txn := transactionOf(req); txn != "" && req.Header.Get("Idempotency-Key") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Idempotency-Key", txn)
	}
	return t.base.RoundTrip(req)
}

// transactionOf is the transaction ID in a client-server API request's path, or "":
// PUT …/rooms/{room}/send/{type}/{txn}, …/rooms/{room}/redact/{event}/{txn},
// …/sendToDevice/{type}/{txn}.
func transactionOf(req *http.Request) string {
	if req.Method != http.MethodPut {
		return ""
	}
	parts := strings.Split(strings.TrimSuffix(req.URL.EscapedPath(), "/"), "/")
	n := len(parts)
	if n < 4 || parts[n-1] == "" {
		return ""
	}
	switch {
	case parts[n-3] == "send" && n >= 6 && parts[n-5] == "rooms",
		parts[n-3] == "redact" && n >= 6 && parts[n-5] == "rooms",
		parts[n-3] == "sendToDevice":
		return parts[n-1]
	}
	return ""
}
