package keyring

import (
	"errors"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

var (
	// ErrAuthentication is cmp.ErrAuthentication: an encrypted data key that
	// does not unwrap under a key the keyring holds, for whatever reason.
	ErrAuthentication = cmp.ErrAuthentication
	// ErrNoDecryptableKey: none of the item's encrypted data keys belongs to
	// this keyring (another keyring's item, or a key it does not hold).
	ErrNoDecryptableKey = errors.New("keyring: no encrypted data key this keyring can decrypt")
	// ErrUnsupportedSuite: an algorithm suite other than 0x6700 and 0x6701.
	ErrUnsupportedSuite = errors.New("keyring: unsupported algorithm suite")
	// ErrEncryptionContext: a reserved key, a conflict between the stored
	// and the reproduced context, a missing required key, or a context that
	// cannot be serialized.
	ErrEncryptionContext = errors.New("keyring: invalid encryption context")
	// ErrInvalidMaterials: a keyring or materials manager broke the contract
	// (no data key, no encrypted data key, a key of the wrong length).
	ErrInvalidMaterials = errors.New("keyring: invalid materials")
	// ErrTooManyEncryptedDataKeys: an item holds more encrypted data keys
	// than the reader's maximum (refused before any key is asked), or a
	// keyring made more than the writer's maximum.
	ErrTooManyEncryptedDataKeys = errors.New("keyring: too many encrypted data keys")
)
