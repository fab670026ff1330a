package flows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"duet/matrixsvc"
	"duet/store"
)

// withCrypto gives a session and its service the crypto store duet runs with, in dir.
func withCrypto(sess *store.Session, dir string) matrixsvc.Config {
	if sess.PickleKey == "" {
		sess.PickleKey = matrixsvc.NewPickleKey()
	}
	cfg := matrixsvc.DefaultConfig()
	cfg.CryptoStore = filepath.Join(dir, "crypto.db")
	return cfg
}

// testLog is the service's log, shown when the test fails: info and above, everything with
// DUET_TEST_LOG=1.
func testLog(t *testing.T) zerolog.Logger {
	level := zerolog.InfoLevel
	if os.Getenv("DUET_TEST_LOG") != "" {
		level = zerolog.TraceLevel
	}
	return zerolog.New(zerolog.NewTestWriter(t)).Level(level).With().Timestamp().Logger()
}
