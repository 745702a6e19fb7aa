package keyring

import "context"

// Keyring wraps and unwraps the data key of an item, the MPL keyring
// contract.
//
// OnEncrypt sets a data key on m when it has none (GenerateDataKey) and adds
// one encrypted data key, with its HMAC key, per wrapping key it holds.
//
// OnDecrypt tries the encrypted data keys in order and sets the data key of
// the first one that unwraps. It returns an error matching
// [ErrNoDecryptableKey] when none belongs to it, [ErrAuthentication] when
// one of its own does not unwrap (no detail), and any other error (a KMS
// that cannot be reached) as is. It must not modify m on failure, nor when
// m already has a data key.
//
// Implementations must be safe for concurrent use.
type Keyring interface {
	OnEncrypt(ctx context.Context, m *EncryptionMaterials) error
	OnDecrypt(ctx context.Context, m *DecryptionMaterials, edks []EncryptedDataKey) error
}
