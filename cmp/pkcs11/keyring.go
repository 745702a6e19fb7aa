package pkcs11

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	p11 "github.com/miekg/pkcs11"
)

const (
	gcmIVLength  = 12
	gcmTagLength = 16
)

// AESKeyring is a DB-ESDK keyring whose AES-GCM wrapping key lives in a
// PKCS#11 token (CKM_AES_GCM, a 12-byte IV, a 128-bit tag, the serialized
// encryption context as AAD): the MPL raw AES keyring with the key out of
// reach. Its encrypted data keys are those of keyring.NewRawAES under the
// same namespace, name and key bytes, and each keyring reads the other's.
// It is safe for concurrent use.
type AESKeyring struct {
	pool            *Pool
	key             p11.ObjectHandle // a handle, not key material
	namespace, name string
	rand            io.Reader
}

var _ keyring.Keyring = (*AESKeyring)(nil)

// String, GoString, Format, LogValue and MarshalJSON show the key's names only.
func (r AESKeyring) String() string {
	return fmt.Sprintf("pkcs11.AESKeyring{namespace: %q, name: %q, key: in the token}", r.namespace, r.name)
}
func (r AESKeyring) GoString() string              { return r.String() }
func (r AESKeyring) Format(f fmt.State, verb rune) { fmt.Fprint(f, r.String()) }
func (r AESKeyring) LogValue() slog.Value          { return slog.StringValue(r.String()) }
func (r AESKeyring) MarshalJSON() ([]byte, error)  { return []byte(fmt.Sprintf("%q", r.String())), nil }

// NewAESKeyring returns a keyring over the AES secret key labelled
// keyLabel in the pool's token (CKA_ENCRYPT and CKA_DECRYPT true; 16, 24
// or 32 bytes). namespace and name identify the key to readers, as for
// keyring.NewRawAES, and must match theirs. IVs come from crypto/rand
// unless the token makes its own (AWS CloudHSM does: the IV the token
// returns is the one recorded).
func NewAESKeyring(ctx context.Context, pool *Pool, keyLabel, namespace, name string) (*AESKeyring, error) {
	if namespace == "" || name == "" {
		return nil, errors.New("pkcs11: an AES keyring needs a key namespace and a key name")
	}
	h, err := pool.findKey(ctx, p11.CKO_SECRET_KEY, keyLabel)
	if err != nil {
		return nil, err
	}
	return &AESKeyring{pool: pool, key: h, namespace: namespace, name: name, rand: crand.Reader}, nil
}

func (r *AESKeyring) wrap(ctx context.Context) keyring.WrapFunc {
	return func(secret, aad []byte) (info, ct []byte, err error) {
		iv := make([]byte, gcmIVLength)
		if _, err := io.ReadFull(r.rand, iv); err != nil {
			return nil, nil, fmt.Errorf("pkcs11: generating IV: %w", err)
		}
		err = r.pool.do(ctx, func(c *p11.Ctx, sh p11.SessionHandle) error {
			params := p11.NewGCMParams(iv, aad, 8*gcmTagLength)
			defer params.Free()
			if err := c.EncryptInit(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}, r.key); err != nil {
				return err
			}
			out, err := c.Encrypt(sh, secret)
			if err != nil {
				return err
			}
			if got := params.IV(); len(got) == gcmIVLength {
				copy(iv, got) // the token's own IV, when it makes one
			}
			ct = out
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("pkcs11: AES-GCM wrap in the token: %w", err)
		}
		if len(ct) != len(secret)+gcmTagLength {
			return nil, nil, fmt.Errorf("pkcs11: the token's AES-GCM returned %d bytes for %d", len(ct), len(secret))
		}
		info = make([]byte, 0, len(r.name)+8+gcmIVLength)
		info = append(info, r.name...)
		info = binary.BigEndian.AppendUint32(info, 8*gcmTagLength)
		info = binary.BigEndian.AppendUint32(info, gcmIVLength)
		info = append(info, iv...)
		return info, ct, nil
	}
}

// matches reports whether edk is this keyring's: its namespace, and
// provider info of its key name, a 128-bit tag and a 12-byte IV.
func (r *AESKeyring) matches(edk keyring.EncryptedDataKey) bool {
	info := edk.ProviderInfo
	if edk.ProviderID != r.namespace || len(info) != len(r.name)+8+gcmIVLength || string(info[:len(r.name)]) != r.name {
		return false
	}
	rest := info[len(r.name):]
	return binary.BigEndian.Uint32(rest) == 8*gcmTagLength && binary.BigEndian.Uint32(rest[4:]) == gcmIVLength
}

// OnEncrypt implements keyring.Keyring.
func (r *AESKeyring) OnEncrypt(ctx context.Context, m *keyring.EncryptionMaterials) error {
	if err := m.GenerateDataKey(r.rand); err != nil {
		return err
	}
	return keyring.WrapIntermediate(r.rand, m, r.namespace, r.wrap(ctx))
}

// OnDecrypt implements keyring.Keyring: the encrypted data keys of its
// namespace and key name, each provider info once (keyring.UnwrapFirst).
// A key that does not decrypt is keyring.ErrAuthentication; an error of
// the token (a lost session, a device error) is returned as it is.
func (r *AESKeyring) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	return keyring.UnwrapFirst(m, edks, r.matches, func(edk keyring.EncryptedDataKey, wrapped, aad []byte) ([]byte, error) {
		if len(wrapped) != keyring.KeyLength+gcmTagLength {
			return nil, keyring.ErrAuthentication
		}
		iv := edk.ProviderInfo[len(r.name)+8:]
		var pt []byte
		err := r.pool.do(ctx, func(c *p11.Ctx, sh p11.SessionHandle) error {
			params := p11.NewGCMParams(iv, aad, 8*gcmTagLength)
			defer params.Free()
			if err := c.DecryptInit(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}, r.key); err != nil {
				return err
			}
			out, err := c.Decrypt(sh, wrapped)
			if err != nil {
				return decryptError{err}
			}
			pt = out
			return nil
		})
		switch {
		case authFailure(err):
			return nil, keyring.ErrAuthentication
		case err != nil:
			return nil, fmt.Errorf("pkcs11: AES-GCM unwrap in the token: %w", err)
		case len(pt) != keyring.KeyLength:
			clear(pt)
			return nil, keyring.ErrAuthentication
		}
		return pt, nil
	})
}
