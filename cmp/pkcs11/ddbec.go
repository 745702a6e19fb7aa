package pkcs11

import (
	"context"
	"crypto/hmac"
	"fmt"
	"io"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
	p11 "github.com/miekg/pkcs11"
)

// AESWrappingKey is a DDBEC key-encryption key in the token: each item's
// content key is wrapped and unwrapped by the token with CKM_AES_KEY_WRAP
// (RFC 3394, "AESWrap"), as cmp.AESKey does in software. The content key
// itself is in the clear in the process (it encrypts the attributes with
// AES-CBC): it passes through the token as a session object that is
// destroyed at once. It is safe for concurrent use.
type AESWrappingKey struct {
	pool *Pool
	key  p11.ObjectHandle
}

var (
	_ cmp.KeyWrapper   = (*AESWrappingKey)(nil)
	_ cmp.KeyUnwrapper = (*AESWrappingKey)(nil)
)

// String, GoString, Format, LogValue and MarshalJSON show no key.
func (k AESWrappingKey) String() string                { return "pkcs11.AESWrappingKey{key: in the token}" }
func (k AESWrappingKey) GoString() string              { return k.String() }
func (k AESWrappingKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }
func (k AESWrappingKey) LogValue() slog.Value          { return slog.StringValue(k.String()) }
func (k AESWrappingKey) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%q", k.String())), nil
}

// NewAESWrappingKey uses the AES secret key labelled label in the pool's
// token (CKA_WRAP and CKA_UNWRAP true). ctx bounds the lookup; the DDBEC
// key interfaces carry no context, so a later call waits for a session of
// the pool for as long as it takes.
func NewAESWrappingKey(ctx context.Context, pool *Pool, label string) (*AESWrappingKey, error) {
	h, err := pool.findKey(ctx, p11.CKO_SECRET_KEY, label)
	if err != nil {
		return nil, err
	}
	return &AESWrappingKey{pool: pool, key: h}, nil
}

// secretTemplate is a session object of a content key: readable by us, as
// the software content key is.
func secretTemplate(extra ...*p11.Attribute) []*p11.Attribute {
	return append([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_TOKEN, false),
		p11.NewAttribute(p11.CKA_SENSITIVE, false),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, true),
		p11.NewAttribute(p11.CKA_ENCRYPT, true),
		p11.NewAttribute(p11.CKA_DECRYPT, true),
	}, extra...)
}

// WrapKey wraps contentKey with the token's CKM_AES_KEY_WRAP.
func (k *AESWrappingKey) WrapKey(_ io.Reader, contentKey []byte) ([]byte, string, error) {
	var wrapped []byte
	err := k.pool.do(context.Background(), func(c *p11.Ctx, sh p11.SessionHandle) error {
		obj, err := c.CreateObject(sh, secretTemplate(p11.NewAttribute(p11.CKA_VALUE, contentKey)))
		if err != nil {
			return err
		}
		defer c.DestroyObject(sh, obj)
		wrapped, err = c.WrapKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP, nil)}, k.key, obj)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("pkcs11: AES key wrap in the token: %w", err)
	}
	return wrapped, materialdesc.WrapAESKW, nil
}

// UnwrapKey unwraps an "AESWrap" content key with the token's
// CKM_AES_KEY_WRAP; an integrity failure is cmp.ErrAuthentication.
func (k *AESWrappingKey) UnwrapKey(wrapped []byte, wrapAlg string, keyLen int) ([]byte, error) {
	if wrapAlg != materialdesc.WrapAESKW {
		return nil, fmt.Errorf("%w: wrapping algorithm for an AES key-encryption key", cmp.ErrUnsupportedAlgorithm)
	}
	if n := len(wrapped) - 8; n != 16 && n != 24 && n != 32 || keyLen > 0 && n != keyLen {
		return nil, cmp.ErrAuthentication
	}
	var key []byte
	err := k.pool.do(context.Background(), func(c *p11.Ctx, sh p11.SessionHandle) error {
		obj, err := c.UnwrapKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP, nil)}, k.key, wrapped, secretTemplate())
		if err != nil {
			return decryptError{err}
		}
		defer c.DestroyObject(sh, obj)
		attrs, err := c.GetAttributeValue(sh, obj, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
		if err != nil {
			return err
		}
		key = attrs[0].Value
		return nil
	})
	switch {
	case authFailure(err):
		return nil, cmp.ErrAuthentication
	case err != nil:
		return nil, fmt.Errorf("pkcs11: AES key unwrap in the token: %w", err)
	case keyLen > 0 && len(key) != keyLen:
		clear(key)
		return nil, cmp.ErrAuthentication
	}
	return key, nil
}

// HMACKey is a DDBEC signing and verification key in the token:
// HmacSHA256 by the token's CKM_SHA256_HMAC. It is safe for concurrent use.
type HMACKey struct {
	pool *Pool
	key  p11.ObjectHandle
}

var (
	_ cmp.SigningKey      = (*HMACKey)(nil)
	_ cmp.VerificationKey = (*HMACKey)(nil)
)

// String, GoString, Format, LogValue and MarshalJSON show no key.
func (k HMACKey) String() string                { return "pkcs11.HMACKey{HmacSHA256, key: in the token}" }
func (k HMACKey) GoString() string              { return k.String() }
func (k HMACKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }
func (k HMACKey) LogValue() slog.Value          { return slog.StringValue(k.String()) }
func (k HMACKey) MarshalJSON() ([]byte, error)  { return []byte(fmt.Sprintf("%q", k.String())), nil }

// NewHMACKey uses the secret key labelled label in the pool's token
// (CKK_GENERIC_SECRET or CKK_SHA256_HMAC, CKA_SIGN true). ctx bounds the lookup, as for
// NewAESWrappingKey.
func NewHMACKey(ctx context.Context, pool *Pool, label string) (*HMACKey, error) {
	h, err := pool.findKey(ctx, p11.CKO_SECRET_KEY, label)
	if err != nil {
		return nil, err
	}
	return &HMACKey{pool: pool, key: h}, nil
}

// Algorithm is "HmacSHA256".
func (k *HMACKey) Algorithm() string { return "HmacSHA256" }

// Sign returns HMAC-SHA256(key, stringToSign), computed by the token.
func (k *HMACKey) Sign(_ io.Reader, stringToSign []byte) ([]byte, error) {
	mac, err := k.pool.sign(context.Background(), p11.CKM_SHA256_HMAC, k.key, stringToSign)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: HMAC-SHA256 in the token: %w", err)
	}
	return mac, nil
}

// Verify recomputes the MAC in the token and compares in constant time;
// signingAlg is ignored, as by cmp.HMACKey.
func (k *HMACKey) Verify(stringToSign, signature []byte, _ string) error {
	mac, err := k.Sign(nil, stringToSign)
	if err != nil {
		return err
	}
	if !hmac.Equal(mac, signature) {
		return cmp.ErrAuthentication
	}
	return nil
}

// WrappedConfig names the keys of [NewWrapped] in the token.
type WrappedConfig struct {
	// WrappingKeyLabel is the label of the AES key-encryption key.
	WrappingKeyLabel string
	// SigningKeyLabel is the label of the HMAC-SHA256 key.
	SigningKeyLabel string
	// ContentKeyAlgorithm and Description are as in cmp.WrappedConfig.
	ContentKeyAlgorithm string
	Description         materialdesc.Description
}

// NewWrapped is the DDBEC wrapped provider (cmp.Wrapped) over a
// key-encryption key and an HMAC key in the token: its items are those of
// cmp.NewWrapped with cmp.AESKey and cmp.HMACKey over the same key bytes,
// and each provider reads the other's.
func NewWrapped(ctx context.Context, pool *Pool, cfg WrappedConfig) (*cmp.Wrapped, error) {
	kek, err := NewAESWrappingKey(ctx, pool, cfg.WrappingKeyLabel)
	if err != nil {
		return nil, err
	}
	mac, err := NewHMACKey(ctx, pool, cfg.SigningKeyLabel)
	if err != nil {
		return nil, err
	}
	return cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, VerificationKey: mac,
		ContentKeyAlgorithm: cfg.ContentKeyAlgorithm, Description: cfg.Description})
}
