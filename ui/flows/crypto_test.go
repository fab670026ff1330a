package flows

import (
	"path/filepath"

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
