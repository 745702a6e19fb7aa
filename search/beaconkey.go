package search

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// BeaconKey is one beacon key held by the program, for a table whose items
// are protected without a branch key store (a raw AES or RSA keyring, a KMS
// keyring): the supported way to run beacons in production without a key
// store. It is a [BeaconKeys] for one name, the BranchKeyID of the
// configuration's [SingleKeySource].
//
// Security properties. Every beacon of the table is an HMAC under a key
// derived from this one (HKDF-SHA512, info "AWS_DBE_SCAN_BEACON" and the
// beacon's name), so:
//   - whoever holds it can compute the beacon of any guessed value, and so
//     test guesses against the stored beacons (the same holds for a branch
//     key store's beacon key): keep it as secret as the data keys;
//   - it does not rotate: a new beacon key changes every beacon, so items
//     must be rewritten (itemcrypto rotate) before queries find them;
//   - it never leaves memory in plaintext through this package: it formats
//     as a placeholder under every fmt verb, in log/slog and encoding/json.
//
// Load it from a secret store or a key file ([NewBeaconKey]; itemcrypto
// keygen --type beacon writes one, keyfile.Keys.BeaconKey reads it), or keep
// it wrapped by a KMS
// key and unwrap it at start-up ([WrapBeaconKeyKMS], [UnwrapBeaconKeyKMS]),
// so that the stored form is useless without KMS access, access is logged by
// KMS, and revoking the KMS key's grant stops new start-ups.
type BeaconKey struct {
	m *keystore.BeaconKeyMaterials
}

var _ BeaconKeys = (*BeaconKey)(nil)

// BeaconKeyLen is the length of a beacon key: 32 bytes.
const BeaconKeyLen = 32

// KMSContextKey is the KMS encryption context key under which
// WrapBeaconKeyKMS binds a wrapped beacon key to its name.
const KMSContextKey = "itemcrypto-beacon-key"

// ErrBeaconKeyInvalid: a beacon key of the wrong length, an empty name, or
// a wrapped beacon key KMS returned no 32-byte key for.
var ErrBeaconKeyInvalid = errors.New("search: invalid beacon key")

// NewBeaconKey returns the beacon key key (BeaconKeyLen bytes, copied)
// under name, the BranchKeyID of the configuration's SingleKeySource.
func NewBeaconKey(name string, key []byte) (*BeaconKey, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty name", ErrBeaconKeyInvalid)
	}
	if len(key) != BeaconKeyLen {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBeaconKeyInvalid, len(key), BeaconKeyLen)
	}
	m, err := keystore.NewBeaconKeyMaterials(name, key, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBeaconKeyInvalid, err)
	}
	return &BeaconKey{m: m}, nil
}

// WrapBeaconKeyKMS makes a new random beacon key for name and returns it
// encrypted under the KMS key keyID, with the encryption context
// {KMSContextKey: name}: store the result where the program's configuration
// lives (it is not secret without access to the KMS key), and unwrap it at
// start-up with UnwrapBeaconKeyKMS. kms is any cmp.KMS, such as
// awskms.New(kms.NewFromConfig(cfg)).
func WrapBeaconKeyKMS(ctx context.Context, kms cmp.KMS, keyID, name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty name", ErrBeaconKeyInvalid)
	}
	key := make([]byte, BeaconKeyLen)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	ct, err := kms.Encrypt(ctx, keyID, key, map[string]string{KMSContextKey: name})
	if err != nil {
		return nil, fmt.Errorf("search: wrapping beacon key %q: %w", name, err)
	}
	return ct, nil
}

// UnwrapBeaconKeyKMS decrypts a beacon key that WrapBeaconKeyKMS wrapped
// under keyID for name. A ciphertext of another name or key fails in KMS.
func UnwrapBeaconKeyKMS(ctx context.Context, kms cmp.KMS, keyID, name string, wrapped []byte) (*BeaconKey, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty name", ErrBeaconKeyInvalid)
	}
	key, err := kms.Decrypt(ctx, keyID, wrapped, map[string]string{KMSContextKey: name})
	if err != nil {
		return nil, fmt.Errorf("search: unwrapping beacon key %q: %w", name, err)
	}
	defer clear(key)
	return NewBeaconKey(name, key)
}

// GetBeaconKey returns the key when branchKeyID is its name, and an error
// matching keystore.ErrNotFound otherwise.
func (k *BeaconKey) GetBeaconKey(_ context.Context, branchKeyID string) (*keystore.BeaconKeyMaterials, error) {
	if k == nil || k.m == nil || branchKeyID != k.m.BranchKeyID {
		return nil, fmt.Errorf("search: beacon key: branch key %q: %w", branchKeyID, keystore.ErrNotFound)
	}
	return k.m, nil
}

// String names the key, never its bytes. BeaconKey and *BeaconKey format
// as it under every fmt verb, in log/slog and in encoding/json.
func (k BeaconKey) String() string                { return k.redacted().String() }
func (k BeaconKey) GoString() string              { return k.redacted().GoString() }
func (k BeaconKey) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
func (k BeaconKey) LogValue() slog.Value          { return k.redacted().LogValue() }
func (k BeaconKey) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
func (k BeaconKey) redacted() redact.Text {
	if k.m == nil {
		return "search.BeaconKey(nil)"
	}
	return redact.Text(fmt.Sprintf("search.BeaconKey(%q, redacted)", k.m.BranchKeyID))
}
