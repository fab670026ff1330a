package matrixsvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/backup"
	"maunium.net/go/mautrix/crypto/signatures"
	"maunium.net/go/mautrix/crypto/ssss"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// ErrNoRecovery means the account has no recovery key yet (no secret storage, no
// cross-signing): SetUpRecovery makes one.
var ErrNoRecovery = errors.New("this account has no recovery key yet")

// ErrWrongRecoveryKey means the key or passphrase given does not open the account's secret storage.
var ErrWrongRecoveryKey = errors.New("that recovery key or passphrase is not right for this account")

// ErrUntrustedBackup means the key backup the server names is not one this account made: its
// public key is not ours and no key of ours signed it. duet neither restores from it nor backs
// up to it.
var ErrUntrustedBackup = errors.New("the key backup on the server is not signed by your keys")

// ErrBackupReplaced means the account's key backup was replaced elsewhere by one with another
// key (signed by the account's keys): its recovery key is needed to use it.
var ErrBackupReplaced = errors.New("the key backup was replaced by one with another key")

// HasRecovery reports whether the account has secret storage (a recovery key) set up.
func (s *Service) HasRecovery(ctx context.Context) (bool, error) {
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return false, err
	}
	_, _, err = e.mach.SSSS.GetDefaultKeyData(ctx)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, mautrix.MNotFound) || errors.Is(err, ssss.ErrNoDefaultKeyAccountDataEvent) {
		return false, nil
	}
	return false, s.wrap(err)
}

// RecoveryResult says what entering the recovery key did.
type RecoveryResult struct {
	Restored    int // room keys restored from the key backup
	Decrypted   int // stored messages that could be decrypted thanks to them
	BackupFound bool
}

// VerifyWithRecoveryKey opens the account's secret storage with a recovery key or passphrase,
// verifies this device with the cross-signing keys kept there, and restores room keys from
// the server-side key backup so that older messages decrypt. New room keys go to the backup
// from then on.
func (s *Service) VerifyWithRecoveryKey(ctx context.Context, keyOrPassphrase string) (RecoveryResult, error) {
	var res RecoveryResult
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return res, err
	}
	keyID, keyData, err := e.mach.SSSS.GetDefaultKeyData(ctx)
	if err != nil {
		if errors.Is(err, mautrix.MNotFound) || errors.Is(err, ssss.ErrNoDefaultKeyAccountDataEvent) {
			return res, ErrNoRecovery
		}
		return res, s.wrap(err)
	}
	e.op.Lock()
	locked := true
	unlock := func() {
		if locked {
			locked = false
			e.op.Unlock()
		}
	}
	defer unlock()
	key, err := s.crossSignWithRecoveryKey(ctx, e, keyID, keyData, strings.TrimSpace(keyOrPassphrase))
	if err != nil {
		return res, err
	}
	raw, err := e.mach.SSSS.GetDecryptedAccountData(ctx, event.AccountDataMegolmBackupKey, key)
	if err != nil {
		s.log.Info().Err(err).Msg("no key backup key in secret storage")
		return res, nil
	}
	if res.BackupFound, err = s.restoreBackup(ctx, e, raw); err != nil {
		return res, err
	}
	unlock()
	res.Restored = len(e.takeArrived())
	rooms, n, err := s.redecryptAll(ctx)
	if err != nil {
		return res, err
	}
	res.Decrypted = n
	s.publishRedecrypted(ctx, rooms)
	return res, nil
}

// crossSignWithRecoveryKey opens secret storage with input (the recovery key, or else its
// passphrase), takes the cross-signing keys kept there and signs this device and the master
// key with them. It returns the secret storage key. The caller holds e.op.
func (s *Service) crossSignWithRecoveryKey(ctx context.Context, e *e2ee, keyID string, keyData *ssss.KeyMetadata, input string) (*ssss.Key, error) {
	key, err := keyData.VerifyRecoveryKey(keyID, input)
	if err != nil && keyData.Passphrase != nil {
		key, err = keyData.VerifyPassphrase(keyID, input)
	}
	if err != nil {
		return nil, ErrWrongRecoveryKey
	}
	if err := e.mach.FetchCrossSigningKeysFromSSSS(ctx, key); err != nil {
		return nil, fmt.Errorf("read the cross-signing keys: %w", s.wrap(err))
	}
	if err := e.mach.SignOwnDevice(ctx, e.mach.OwnIdentity()); err != nil {
		return nil, fmt.Errorf("sign this device: %w", s.wrap(err))
	}
	if err := e.mach.SignOwnMasterKey(ctx); err != nil {
		return nil, fmt.Errorf("sign the master key: %w", s.wrap(err))
	}
	return key, nil
}

// restoreBackup takes the key backup's key (raw, from secret storage) into use and restores
// the room keys of the backup it opens, when the server has one we trust; found says it did.
// The caller holds e.op.
func (s *Service) restoreBackup(ctx context.Context, e *e2ee, raw []byte) (found bool, err error) {
	bk, err := backup.MegolmBackupKeyFromBytes(raw)
	if err != nil {
		return false, fmt.Errorf("the key backup's key is damaged: %w", err)
	}
	if err := s.useBackupKey(ctx, e, bk); err != nil {
		return false, err
	}
	version, err := s.trustedBackupVersion(ctx, e, bk)
	if err != nil {
		return false, fmt.Errorf("this device is verified, but not restored from key backup: %w", err)
	}
	if version == "" {
		return false, nil
	}
	t := s.track(TaskKeys, UnitKeys, "", 0) // mautrix restores the whole backup in one call
	err = e.mach.GetAndStoreKeyBackup(ctx, version, bk)
	t.End()
	if err != nil {
		return true, fmt.Errorf("restore from key backup: %w", s.wrap(err))
	}
	e.setBackupVersion(version)
	return true, nil
}

// SetUpRecovery creates secret storage with a new recovery key (or one derived from
// passphrase), new cross-signing keys that verify this device, and a key backup holding every
// room key this device has. password answers the homeserver's request to confirm the upload of
// cross-signing keys. The recovery key is returned to be shown once.
func (s *Service) SetUpRecovery(ctx context.Context, password, passphrase string) (string, error) {
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return "", err
	}
	e.op.Lock()
	defer e.op.Unlock()
	uia := func(resp *mautrix.RespUserInteractive) any {
		return &mautrix.ReqUIAuthLogin{
			BaseAuthData: mautrix.BaseAuthData{Type: mautrix.AuthTypePassword, Session: resp.Session},
			User:         s.me.String(),
			Password:     password,
		}
	}
	recoveryKey, _, err := e.mach.GenerateAndUploadCrossSigningKeys(ctx, uia, passphrase)
	if err != nil {
		if errors.Is(err, mautrix.MForbidden) {
			return "", errors.New("the homeserver refused: wrong password")
		}
		return "", fmt.Errorf("set up cross-signing: %w", s.wrap(err))
	}
	if err := e.mach.SignOwnDevice(ctx, e.mach.OwnIdentity()); err != nil {
		return "", fmt.Errorf("sign this device: %w", s.wrap(err))
	}
	if err := e.mach.SignOwnMasterKey(ctx); err != nil {
		return "", fmt.Errorf("sign the master key: %w", s.wrap(err))
	}
	keyID, keyData, err := e.mach.SSSS.GetDefaultKeyData(ctx)
	if err != nil {
		return "", s.wrap(err)
	}
	key, err := keyData.VerifyRecoveryKey(keyID, recoveryKey)
	if err != nil {
		return "", err
	}
	bk, err := backup.NewMegolmBackupKey()
	if err != nil {
		return "", err
	}
	authData := backup.MegolmAuthData{PublicKey: id.Ed25519(base64.RawStdEncoding.EncodeToString(bk.PublicKey().Bytes()))}
	if err := s.signAuthData(e, &authData); err != nil {
		return "", err
	}
	created, err := s.cli.CreateKeyBackupVersion(ctx, &mautrix.ReqRoomKeysVersionCreate[backup.MegolmAuthData]{
		Algorithm: id.KeyBackupAlgorithmMegolmBackupV1,
		AuthData:  authData,
	})
	if err != nil {
		return "", fmt.Errorf("create the key backup: %w", s.wrap(err))
	}
	if err := e.mach.SSSS.SetEncryptedAccountData(ctx, event.AccountDataMegolmBackupKey, bk.Bytes(), key); err != nil {
		return "", fmt.Errorf("store the key backup's key: %w", s.wrap(err))
	}
	if err := s.useBackupKey(ctx, e, bk); err != nil {
		return "", err
	}
	e.setBackupVersion(created.Version)
	s.wakeKeys() // the key worker backs up every room key this device has
	return recoveryKey, nil
}

// signAuthData signs a key backup's auth data with this device and the master key.
func (s *Service) signAuthData(e *e2ee, data *backup.MegolmAuthData) error {
	unsigned := backup.MegolmAuthData{PublicKey: data.PublicKey}
	sig, err := e.mach.GetAccount().SignJSON(unsigned)
	if err != nil {
		return err
	}
	data.Signatures = signatures.NewSingleSignature(s.me, id.KeyAlgorithmEd25519, s.cli.DeviceID.String(), sig)
	if keys := e.mach.CrossSigningKeys; keys != nil {
		msig, err := keys.MasterKey.SignJSON(unsigned)
		if err != nil {
			return err
		}
		data.Signatures[s.me][id.NewKeyID(id.KeyAlgorithmEd25519, keys.MasterKey.PublicKey().String())] = msig
	}
	return nil
}

// useBackupKey keeps the key backup's private key in the crypto store, so that this device
// backs up new room keys and restores missing ones without asking again.
func (s *Service) useBackupKey(ctx context.Context, e *e2ee, bk *backup.MegolmBackupKey) error {
	if err := e.mach.CryptoStore.PutSecret(ctx, id.SecretMegolmBackupV1, base64.RawStdEncoding.EncodeToString(bk.Bytes())); err != nil {
		return fmt.Errorf("keep the key backup's key: %w", err)
	}
	e.mu.Lock()
	e.backupKey = bk
	e.mu.Unlock()
	return nil
}

func (e *e2ee) setBackupVersion(v id.KeyBackupVersion) {
	e.mu.Lock()
	e.backupVersion = v
	e.mu.Unlock()
}

// backupState returns the backup key and version in use; the version is looked up (and
// checked against the key) on first use.
func (s *Service) backupState(ctx context.Context, e *e2ee) (*backup.MegolmBackupKey, id.KeyBackupVersion, error) {
	e.mu.Lock()
	bk, version := e.backupKey, e.backupVersion
	e.mu.Unlock()
	if bk == nil {
		stored, err := e.mach.CryptoStore.GetSecret(ctx, id.SecretMegolmBackupV1)
		if err != nil || stored == "" {
			return nil, "", err
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(stored, "="))
		if err != nil {
			return nil, "", err
		}
		if bk, err = backup.MegolmBackupKeyFromBytes(raw); err != nil {
			return nil, "", err
		}
		e.mu.Lock()
		e.backupKey = bk
		e.mu.Unlock()
	}
	if version == "" {
		v, err := s.trustedBackupVersion(ctx, e, bk)
		if err != nil || v == "" {
			return bk, "", err
		}
		version = v
		e.setBackupVersion(version)
	}
	return bk, version, nil
}

// trustedBackupVersion looks up the server's current key backup and returns its version only
// when it is ours: its public key is the one of bk, the key we hold. The server decides what
// GET /room_keys/version says; a backup with a key it holds would give it every room key
// backed up, and the keys it restores would be its choice (Albrecht et al. 2023). mautrix's
// check also takes a backup that our keys signed but whose key differs; duet encrypts to bk,
// so it could not use that one either. "" and no error: the account has no key backup.
func (s *Service) trustedBackupVersion(ctx context.Context, e *e2ee, bk *backup.MegolmBackupKey) (id.KeyBackupVersion, error) {
	info, err := e.mach.GetAndVerifyLatestKeyBackupVersion(ctx, bk)
	var httpErr mautrix.HTTPError
	switch {
	case errors.Is(err, mautrix.MNotFound):
		return "", nil
	case err != nil && (errors.As(err, &httpErr) || Temporary(err) || ctx.Err() != nil):
		return "", s.wrap(err)
	case err != nil:
		s.log.Warn().Err(err).Msg("the server's key backup is not ours: not restoring from it or backing up to it")
		return "", fmt.Errorf("%w (%v): duet does not use it; if you did not replace the backup on another client, the server may be trying to read your room keys", ErrUntrustedBackup, err)
	case info == nil:
		return "", nil
	}
	if ours := id.Ed25519(base64.RawStdEncoding.EncodeToString(bk.PublicKey().Bytes())); info.AuthData.PublicKey != ours {
		s.log.Warn().Stringer("key_backup_version", info.Version).Msg("the key backup has another key than ours: not backing up to it")
		return "", fmt.Errorf("%w: enter its recovery key with `duet verify --recovery-key`", ErrBackupReplaced)
	}
	return info.Version, nil
}

// BackUpKeys sends room keys that are not in the key backup yet (the sync loop's key worker
// does it in the background; commands call it before they end).
func (s *Service) BackUpKeys(ctx context.Context) error { return s.uploadBackup(ctx) }

// uploadBackup sends room keys that are not in the current key backup yet.
func (s *Service) uploadBackup(ctx context.Context) error {
	e := s.crypt.Load()
	if e == nil {
		return nil
	}
	bk, version, err := s.backupState(ctx, e)
	if err != nil || bk == nil || version == "" {
		return err
	}
	sessions, err := e.mach.CryptoStore.GetGroupSessionsWithoutKeyBackupVersion(ctx, version).AsList()
	if err != nil {
		return err
	}
	for len(sessions) > 0 {
		batch := sessions[:min(len(sessions), 100)]
		sessions = sessions[len(batch):]
		if err := s.uploadBackupBatch(ctx, e, bk, version, batch); err != nil {
			return err
		}
	}
	return nil
}

// uploadBackupBatch sends a batch of room keys to the key backup version and marks them as
// backed up there.
func (s *Service) uploadBackupBatch(ctx context.Context, e *e2ee, bk *backup.MegolmBackupKey, version id.KeyBackupVersion,
	batch []*crypto.InboundGroupSession) error {
	req, err := s.keyBackupRequest(bk, batch)
	if err != nil {
		return err
	}
	if _, err := s.cli.PutKeysInBackup(ctx, version, &req); err != nil {
		if errors.Is(err, mautrix.MWrongRoomKeysVersion) {
			e.setBackupVersion("") // someone made a new backup: look it up again next time
		}
		return fmt.Errorf("back up room keys: %w", s.wrap(err))
	}
	sql, ok := sqlStore(e.mach.CryptoStore)
	if !ok {
		return errors.New("back up room keys: the crypto store is not the SQL one")
	}
	for _, igs := range batch {
		if err := sql.SetGroupSessionKeyBackupVersion(ctx, igs.ID(), version); err != nil {
			return err
		}
	}
	return nil
}

// keyBackupRequest is the upload of a batch of room keys, each encrypted to the backup's
// public key. A key that cannot be exported is logged and left out.
func (s *Service) keyBackupRequest(bk *backup.MegolmBackupKey, batch []*crypto.InboundGroupSession) (mautrix.ReqKeyBackup, error) {
	req := mautrix.ReqKeyBackup{Rooms: make(map[id.RoomID]mautrix.ReqRoomKeyBackup)}
	for _, igs := range batch {
		first := igs.Internal.FirstKnownIndex()
		exported, err := igs.Internal.Export(first)
		if err != nil {
			s.log.Warn().Err(err).Msg("could not export a room key for backup")
			continue
		}
		data, err := backup.EncryptSessionData(bk, backup.MegolmSessionData{
			Algorithm:          id.AlgorithmMegolmV1,
			ForwardingKeyChain: igs.ForwardingChains,
			SenderClaimedKeys:  backup.SenderClaimedKeys{Ed25519: igs.SigningKey},
			SenderKey:          igs.SenderKey,
			SessionKey:         string(exported),
		})
		if err != nil {
			return req, err
		}
		raw, err := json.Marshal(data)
		if err != nil {
			return req, err
		}
		room := req.Rooms[igs.RoomID]
		if room.Sessions == nil {
			room.Sessions = make(map[id.SessionID]mautrix.ReqKeyBackupData)
		}
		room.Sessions[igs.ID()] = mautrix.ReqKeyBackupData{
			FirstMessageIndex: int(first),
			ForwardedCount:    len(igs.ForwardingChains),
			SessionData:       raw,
		}
		req.Rooms[igs.RoomID] = room
	}
	return req, nil
}

// keyFromBackup fetches one missing room key from the key backup. It reports whether it found it.
func (s *Service) keyFromBackup(ctx context.Context, e *e2ee, room id.RoomID, session id.SessionID) (bool, error) {
	bk, version, err := s.backupState(ctx, e)
	if err != nil || bk == nil || version == "" {
		return false, err
	}
	data, err := s.cli.GetKeyBackupForRoomAndSession(ctx, version, room, session)
	if err != nil {
		if errors.Is(err, mautrix.MNotFound) {
			return false, nil
		}
		return false, s.wrap(err)
	}
	sessionData, err := data.SessionData.Decrypt(bk)
	if err != nil {
		return false, err
	}
	e.op.Lock()
	_, err = e.mach.ImportRoomKeyFromBackup(ctx, version, room, session, sessionData)
	e.op.Unlock()
	if err != nil {
		return false, err
	}
	return true, nil
}

// runKeys is the key worker: it asks for missing room keys (key backup first, then our other
// devices and the sender's), decrypts what their arrival makes readable, and backs up new keys.
func (s *Service) runKeys(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.keysWake:
		case <-time.After(time.Minute):
		}
		e := s.crypt.Load()
		if e == nil {
			continue
		}
		s.requestKeys(ctx, e)
		if arrived := e.takeArrived(); len(arrived) > 0 {
			var rooms []id.RoomID
			err := s.store.Txn(ctx, func(ctx context.Context) error {
				var err error
				rooms, err = s.redecrypt(ctx, arrived)
				return err
			})
			if err != nil {
				s.log.Warn().Err(err).Msg("could not decrypt messages whose keys came")
			}
			s.publishRedecrypted(ctx, rooms)
		}
		if err := s.uploadBackup(ctx); err != nil {
			s.log.Warn().Err(err).Msg("key backup upload failed; retried later")
		}
	}
}

func (s *Service) requestKeys(ctx context.Context, e *e2ee) {
	s.pendingKeys.Range(func(k, v any) bool {
		session, want := k.(id.SessionID), v.(keyWant)
		s.pendingKeys.Delete(k)
		e.mu.Lock()
		e.requested[session] = time.Now()
		e.mu.Unlock()
		found, err := s.keyFromBackup(ctx, e, want.room, session)
		if err != nil {
			s.log.Warn().Err(err).Stringer("session_id", session).Msg("key backup lookup failed")
		}
		if !found {
			e.helper.RequestSession(ctx, want.room, want.senderKey, session, want.sender, want.device)
		}
		return ctx.Err() == nil
	})
}

func (s *Service) publishRedecrypted(ctx context.Context, rooms []id.RoomID) {
	if len(rooms) > 0 && s.listening.Load() {
		s.publish(ctx, SyncApplied{Redecrypted: rooms})
	}
}

// redecryptAll tries every stored message that is not decrypted yet.
func (s *Service) redecryptAll(ctx context.Context) (rooms []id.RoomID, decrypted int, err error) {
	before, err := s.store.CountUndecrypted(ctx)
	if err != nil {
		return nil, 0, err
	}
	err = s.store.Txn(ctx, func(ctx context.Context) error {
		rooms, err = s.redecrypt(ctx, nil)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	after, err := s.store.CountUndecrypted(ctx)
	return rooms, before - after, err
}

// ExportKeys writes this device's room keys in Element's key export format, encrypted with
// passphrase.
func (s *Service) ExportKeys(ctx context.Context, passphrase string) ([]byte, int, error) {
	if passphrase == "" {
		return nil, 0, errors.New("a passphrase is needed to protect the exported keys")
	}
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return nil, 0, err
	}
	sessions, err := e.mach.CryptoStore.GetAllGroupSessions(ctx).AsList()
	if err != nil {
		return nil, 0, err
	}
	data, err := crypto.ExportKeys(passphrase, sessions)
	return data, len(sessions), err
}

// ImportKeys reads room keys from an Element key export and decrypts the stored messages they
// open. It returns how many keys were new and how many the file had.
func (s *Service) ImportKeys(ctx context.Context, passphrase string, data []byte) (imported, total int, err error) {
	e, err := s.cryptoReady(ctx)
	if err != nil {
		return 0, 0, err
	}
	e.op.Lock()
	imported, total, err = e.mach.ImportKeys(ctx, passphrase, data)
	e.op.Unlock()
	if err != nil {
		return imported, total, fmt.Errorf("import keys (wrong passphrase, or not a key export?): %w", err)
	}
	e.takeArrived()
	rooms, _, err := s.redecryptAll(ctx)
	if err != nil {
		return imported, total, err
	}
	s.publishRedecrypted(ctx, rooms)
	return imported, total, nil
}
