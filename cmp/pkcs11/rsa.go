package pkcs11

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	p11 "github.com/miekg/pkcs11"
)

// RSAKey is an RSA private key in the token as a crypto.Signer and
// crypto.Decrypter, for the root module's constructors of keys held
// elsewhere: cmp.NewRSASigningKeyFromSigner (RSASSA-PKCS1-v1_5 by the
// token's CKM_RSA_PKCS), cmp.NewRSAUnwrappingKeyFromDecrypter and
// keyring.NewRawRSAWithDecrypter (CKM_RSA_PKCS_OAEP, CKM_RSA_PKCS). It is
// safe for concurrent use.
type RSAKey struct {
	pool *Pool
	key  p11.ObjectHandle
	pub  *rsa.PublicKey
}

var (
	_ crypto.Signer    = (*RSAKey)(nil)
	_ crypto.Decrypter = (*RSAKey)(nil)
)

// String, GoString, Format, LogValue and MarshalJSON show the size only.
func (k RSAKey) String() string {
	return fmt.Sprintf("pkcs11.RSAKey{RSA-%d, private key: in the token}", k.pub.N.BitLen())
}
func (k RSAKey) GoString() string              { return k.String() }
func (k RSAKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }
func (k RSAKey) LogValue() slog.Value          { return slog.StringValue(k.String()) }
func (k RSAKey) MarshalJSON() ([]byte, error)  { return []byte(fmt.Sprintf("%q", k.String())), nil }

// NewRSAKey uses the RSA private key labelled label in the pool's token
// (CKA_SIGN for signing, CKA_DECRYPT for unwrapping); its public part is
// read from the key's CKA_MODULUS and CKA_PUBLIC_EXPONENT.
func NewRSAKey(ctx context.Context, pool *Pool, label string) (*RSAKey, error) {
	h, err := pool.findKey(ctx, p11.CKO_PRIVATE_KEY, label)
	if err != nil {
		return nil, err
	}
	var pub *rsa.PublicKey
	err = pool.do(ctx, func(c *p11.Ctx, sh p11.SessionHandle) error {
		attrs, err := c.GetAttributeValue(sh, h, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_MODULUS, nil), p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, nil)})
		if err != nil {
			return err
		}
		e := new(big.Int).SetBytes(attrs[1].Value)
		if len(attrs[0].Value) == 0 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return errors.New("pkcs11: the key's CKA_MODULUS or CKA_PUBLIC_EXPONENT is not an RSA public key")
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(attrs[0].Value), E: int(e.Int64())}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: RSA key %q: %w", label, err)
	}
	return &RSAKey{pool: pool, key: h, pub: pub}, nil
}

// Public returns the *rsa.PublicKey.
func (k *RSAKey) Public() crypto.PublicKey { return k.pub }

// digestInfo are the DER DigestInfo prefixes of RFC 8017 9.2.
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224: {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// Sign returns the RSASSA-PKCS1-v1_5 signature of digest (made with
// opts.HashFunc(): SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512) by the
// token's CKM_RSA_PKCS. PSS is not supported.
func (k *RSAKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("pkcs11: RSA-PSS signing is not supported")
	}
	h := opts.HashFunc()
	prefix, ok := digestInfo[h]
	if !ok || len(digest) != h.Size() {
		return nil, fmt.Errorf("pkcs11: RSA signing of a %v digest of %d bytes is not supported", h, len(digest))
	}
	msg := append(append(make([]byte, 0, len(prefix)+len(digest)), prefix...), digest...)
	sig, err := k.pool.sign(context.Background(), p11.CKM_RSA_PKCS, k.key, msg)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: RSA signing in the token: %w", err)
	}
	return sig, nil
}

var oaepHash = map[crypto.Hash][2]uint{
	crypto.SHA1:   {p11.CKM_SHA_1, p11.CKG_MGF1_SHA1},
	crypto.SHA224: {p11.CKM_SHA224, p11.CKG_MGF1_SHA224},
	crypto.SHA256: {p11.CKM_SHA256, p11.CKG_MGF1_SHA256},
	crypto.SHA384: {p11.CKM_SHA384, p11.CKG_MGF1_SHA384},
	crypto.SHA512: {p11.CKM_SHA512, p11.CKG_MGF1_SHA512},
}

// Decrypt decrypts msg in the token: RSA-OAEP (CKM_RSA_PKCS_OAEP) for
// *rsa.OAEPOptions (MGFHash 0 meaning Hash, as in crypto/rsa), PKCS#1
// v1.5 (CKM_RSA_PKCS) for nil or *rsa.PKCS1v15DecryptOptions. With a
// SessionKeyLen, a plaintext of another length is an error; the callers
// of this module then carry on with a random key, as crypto/rsa does.
func (k *RSAKey) Decrypt(_ io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	var mech *p11.Mechanism
	sessionKeyLen := 0
	switch o := opts.(type) {
	case *rsa.OAEPOptions:
		mgfHash := o.MGFHash
		if mgfHash == 0 {
			mgfHash = o.Hash
		}
		h, ok1 := oaepHash[o.Hash]
		m, ok2 := oaepHash[mgfHash]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("pkcs11: RSA-OAEP with %v and MGF1-%v is not supported", o.Hash, mgfHash)
		}
		source := uint(0)
		if len(o.Label) > 0 {
			source = p11.CKZ_DATA_SPECIFIED
		}
		mech = p11.NewMechanism(p11.CKM_RSA_PKCS_OAEP, p11.NewOAEPParams(h[0], m[1], source, o.Label))
	case nil:
		mech = p11.NewMechanism(p11.CKM_RSA_PKCS, nil)
	//lint:ignore SA1019 PKCS #1 v1.5 unwrapping of legacy items and of the MPL's PKCS1 padding
	case *rsa.PKCS1v15DecryptOptions:
		mech = p11.NewMechanism(p11.CKM_RSA_PKCS, nil)
		if o != nil {
			sessionKeyLen = o.SessionKeyLen
		}
	default:
		return nil, fmt.Errorf("pkcs11: RSA decryption options %T are not supported", opts)
	}
	var pt []byte
	err := k.pool.do(context.Background(), func(c *p11.Ctx, sh p11.SessionHandle) error {
		if err := c.DecryptInit(sh, []*p11.Mechanism{mech}, k.key); err != nil {
			return err
		}
		out, err := c.Decrypt(sh, msg)
		if err != nil {
			return decryptError{err}
		}
		pt = out
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: RSA decryption in the token: %w", err)
	}
	if sessionKeyLen > 0 && len(pt) != sessionKeyLen {
		clear(pt)
		return nil, errors.New("pkcs11: RSA decryption: plaintext of another length than the session key")
	}
	return pt, nil
}
