package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	p11 "github.com/miekg/pkcs11"
)

// ECDSAKey is an ECDSA private key (P-256, P-384 or P-521) in the token as
// a crypto.Signer, for cmp.NewECDSASigningKeyFromSigner: the token signs
// the digest with CKM_ECDSA and Sign returns the ASN.1 DER signature the
// DDBEC's SHA256/384/512withECDSA carry. It is safe for concurrent use.
type ECDSAKey struct {
	pool *Pool
	key  p11.ObjectHandle
	pub  *ecdsa.PublicKey
}

var _ crypto.Signer = (*ECDSAKey)(nil)

// String, GoString, Format, LogValue and MarshalJSON show the curve only.
func (k ECDSAKey) String() string {
	return fmt.Sprintf("pkcs11.ECDSAKey{%s, private key: in the token}", k.pub.Curve.Params().Name)
}
func (k ECDSAKey) GoString() string              { return k.String() }
func (k ECDSAKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }
func (k ECDSAKey) LogValue() slog.Value          { return slog.StringValue(k.String()) }
func (k ECDSAKey) MarshalJSON() ([]byte, error)  { return []byte(fmt.Sprintf("%q", k.String())), nil }

// The DER OIDs of the named curves (RFC 5480), as CKA_EC_PARAMS holds them.
var curveOIDs = map[string]elliptic.Curve{
	string([]byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}): elliptic.P256(),
	string([]byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}):                   elliptic.P384(),
	string([]byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}):                   elliptic.P521(),
}

// ErrNotECDSAKey: the objects labelled so are not an ECDSA key pair on a
// supported curve.
var ErrNotECDSAKey = errors.New("pkcs11: not an ECDSA key on P-256, P-384 or P-521")

// NewECDSAKey uses the EC private key labelled label in the pool's token
// (CKA_SIGN). A token keeps an EC key's public point in its public key
// object (CKO_PUBLIC_KEY, CKA_EC_POINT), which must carry the same label,
// as C_GenerateKeyPair and most HSM tools make it; its curve
// (CKA_EC_PARAMS, a named curve) must be P-256, P-384 or P-521 and equal
// the private key's.
func NewECDSAKey(ctx context.Context, pool *Pool, label string) (*ECDSAKey, error) {
	priv, err := pool.findKey(ctx, p11.CKO_PRIVATE_KEY, label)
	if err != nil {
		return nil, err
	}
	pubH, err := pool.findKey(ctx, p11.CKO_PUBLIC_KEY, label)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: ECDSA key %q: its public key object: %w", label, err)
	}
	var pub *ecdsa.PublicKey
	err = pool.do(ctx, func(c *p11.Ctx, sh p11.SessionHandle) error {
		privParams, err := c.GetAttributeValue(sh, priv, []*p11.Attribute{p11.NewAttribute(p11.CKA_EC_PARAMS, nil)})
		if err != nil {
			return err
		}
		attrs, err := c.GetAttributeValue(sh, pubH, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_EC_PARAMS, nil), p11.NewAttribute(p11.CKA_EC_POINT, nil)})
		if err != nil {
			return err
		}
		curve, ok := curveOIDs[string(attrs[0].Value)]
		if !ok || string(privParams[0].Value) != string(attrs[0].Value) {
			return ErrNotECDSAKey
		}
		// CKA_EC_POINT is the DER OCTET STRING of the uncompressed point
		// (some tokens give the bare point).
		point := attrs[1].Value
		var inner []byte
		if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
			point = inner
		}
		if pub, err = ecdsa.ParseUncompressedPublicKey(curve, point); err != nil { // checks the point is on the curve
			return ErrNotECDSAKey
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: ECDSA key %q: %w", label, err)
	}
	return &ECDSAKey{pool: pool, key: priv, pub: pub}, nil
}

// Public returns the *ecdsa.PublicKey.
func (k *ECDSAKey) Public() crypto.PublicKey { return k.pub }

// Sign signs digest (any length: CKM_ECDSA truncates it to the curve's
// order as ECDSA does) in the token and returns the ASN.1 DER signature,
// as *ecdsa.PrivateKey.Sign does. opts is not used beyond that.
func (k *ECDSAKey) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	raw, err := k.pool.sign(context.Background(), p11.CKM_ECDSA, k.key, digest)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: ECDSA signing in the token: %w", err)
	}
	// CKM_ECDSA returns r || s, each as long as the order.
	n := (k.pub.Curve.Params().N.BitLen() + 7) / 8
	if len(raw) != 2*n {
		return nil, fmt.Errorf("pkcs11: ECDSA signing in the token: a signature of %d bytes, want %d", len(raw), 2*n)
	}
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
}
