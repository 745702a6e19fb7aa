package tinkcmp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// ErrKeyDisabled is matched by every [*KeyDisabledError].
var ErrKeyDisabled = errors.New("tinkcmp: the item's key is disabled in the keyset")

// KeyDisabledError reports an item whose keys were wrapped by a keyset key
// that the provider's keyset holds but has disabled (or, in keysets from
// other Tink languages, destroyed). It is a configuration state, not
// tampering, so it does not match [cmp.ErrAuthentication]:
// itemcrypto.Decrypt returns it wrapped, and errors.As finds it. Enable the
// key again (keyset.Manager.Enable, "itemcrypto keyset enable") to read the
// item, or re-encrypt such items under the primary key before disabling.
//
// The key ID comes from the item's material description, which is not
// signed: someone who can write items can make one name a disabled key.
// That item is refused all the same and nothing of it is decrypted; with
// the key enabled, it fails with [cmp.ErrAuthentication].
type KeyDisabledError struct {
	KeyID  uint32
	Status keyset.KeyStatus // keyset.Disabled or keyset.Destroyed
}

func (e *KeyDisabledError) Error() string {
	return fmt.Sprintf("tinkcmp: the item's key-encryption key %d is %s in the keyset", e.KeyID, strings.ToLower(e.Status.String()))
}

// Is reports whether target is [ErrKeyDisabled].
func (e *KeyDisabledError) Is(target error) bool { return target == ErrKeyDisabled }

// UnknownKeyError reports an item that names a keyset key the provider's
// keyset does not hold: an item of another keyset, of a key deleted from
// this one (keyset.Manager.Delete), or one whose unsigned description was
// altered. The reader cannot tell these apart, so it matches
// [cmp.ErrNoMaterials] ("not mine"), which itemcrypto.Decrypt reports as a
// failure of authentication that also matches cmp.ErrNoMaterials, with the
// UnknownKeyError reachable through errors.As.
type UnknownKeyError struct {
	KeyID uint32
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("tinkcmp: the item names key-encryption key %d, which is not in the keyset", e.KeyID)
}

// Is reports whether target is [cmp.ErrNoMaterials].
func (e *UnknownKeyError) Is(target error) bool { return target == cmp.ErrNoMaterials }

// KMSError is a failure of the KMS behind a provider made by [NewKMS] or
// [NewKMSClient]: any error of Encrypt, and the Decrypt errors that
// [Options].IsServiceError classifies as the service's, or that come with a
// done context. It wraps the KMS client's error (errors.As reaches the
// SDK's types) and never names the key URI.
type KMSError struct {
	Op  string // "Encrypt" or "Decrypt"
	Err error
}

func (e *KMSError) Error() string { return fmt.Sprintf("tinkcmp: KMS %s: %v", e.Op, e.Err) }

func (e *KMSError) Unwrap() error { return e.Err }
