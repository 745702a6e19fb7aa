package kmskeyring

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/internal/ecdhwrap"
)

// ECDHProviderID is the provider id of the KMS ECDH keyring's encrypted
// data keys; it also reads those of the raw ECDH keyring ("raw-ecdh"),
// which have the same layout.
const ECDHProviderID = ecdhwrap.KMSProviderID

// ErrInvalidECDHProviderInfo: an ECDH encrypted data key ("aws-kms-ecdh"
// or "raw-ecdh") whose provider info is malformed (the MPL fails OnDecrypt
// there). It matches [keyring.ErrAuthentication].
var ErrInvalidECDHProviderInfo = fmt.Errorf("%w: malformed ECDH provider info", keyring.ErrAuthentication)

// ECDHOptions tune [NewECDHStatic] and [NewECDHDiscovery].
type ECDHOptions struct {
	// Curve, when set, is the curve the keys must be on (the MPL's
	// curveSpec); otherwise the curve of the keys, which must agree.
	Curve ecdh.Curve
	// SenderPublicKey is the public key of the static keyring's sender KMS
	// key; without it the constructor asks KMS GetPublicKey.
	SenderPublicKey *ecdh.PublicKey
	// GrantTokens are the AWS KMS grant tokens the keyring sends on every
	// KMS call (GetPublicKey when it is made, DeriveSharedSecret), as
	// [Options.GrantTokens].
	GrantTokens []string
	// Rand is the source of data keys, intermediate keys and KDF salts;
	// nil is crypto/rand.
	Rand io.Reader
}

// ECDHKeyring is the MPL's AWS KMS ECDH keyring
// (aws-kms/aws-kms-ecdh-keyring.md): the raw ECDH keyring's key wrapping
// (SP 800-108 KDF over HMAC-SHA384 and AES-256-GCM of the intermediate
// key) with the shared secret KMS DeriveSharedSecret computes from a KMS
// key agreement key (ECC_NIST_P256, P384 or P521, KeyUsage
// KEY_AGREEMENT) and a public key. Its encrypted data keys have provider
// id "aws-kms-ecdh" and the raw ECDH keyring's provider info.
//
// A keyring is built by [NewECDHStatic] (KmsPrivateKeyToStaticPublicKey:
// encrypts and decrypts) or [NewECDHDiscovery] (KmsPublicKeyDiscovery:
// decrypts only). Each OnEncrypt and each decryption attempt is one KMS
// DeriveSharedSecret call. It is safe for concurrent use.
type ECDHKeyring struct {
	kms       cmp.KMSAsymmetric
	keyID     string // static: the sender's KMS key; discovery: the recipient's
	discovery bool
	curve     ecdh.Curve
	name      string
	recipDER  []byte // static: the recipient public key as configured
	recip     []byte // compressed recipient public key
	sender    []byte // static: compressed sender public key
	rand      io.Reader
}

var _ keyring.Keyring = (*ECDHKeyring)(nil)

// NewECDHStatic returns a KMS ECDH keyring of the
// KmsPrivateKeyToStaticPublicKey schema: the sender's KMS key senderKeyID
// and the recipient's public key ([keyring.ParseECDHPublicKey] reads the
// DER form KMS GetPublicKey returns and PEM). It encrypts to the recipient and decrypts the encrypted data keys
// between the two, in either direction. Unless
// [ECDHOptions.SenderPublicKey] is set, it calls KMS GetPublicKey.
// senderKeyID must be a key ARN ([ErrKeyARNRequired]): the MPL checks that
// KMS DeriveSharedSecret answered with the key asked for, which KMS names
// by its ARN.
func NewECDHStatic(ctx context.Context, kms cmp.KMSAsymmetric, senderKeyID string, recipientPublicKey *ecdh.PublicKey, optFns ...func(*ECDHOptions)) (*ECDHKeyring, error) {
	o := ecdhOptions(optFns)
	if kms == nil {
		return nil, errors.New("kmskeyring: a KMS client is required")
	}
	if err := requireKeyARN(senderKeyID); err != nil {
		return nil, err
	}
	kms, err := withGrantTokens(kms, o.GrantTokens)
	if err != nil {
		return nil, err
	}
	if recipientPublicKey == nil {
		return nil, errors.New("kmskeyring: the recipient's public key is required")
	}
	recip, err := checkCurve(recipientPublicKey, o.Curve)
	if err != nil {
		return nil, fmt.Errorf("kmskeyring: recipient public key: %w", err)
	}
	sender := o.SenderPublicKey
	if sender == nil {
		der, _, err := kms.GetPublicKey(ctx, senderKeyID)
		if err != nil {
			return nil, err
		}
		if sender, err = parseECPublicKey(der, recip.Curve()); err != nil {
			return nil, fmt.Errorf("kmskeyring: sender public key: %w", err)
		}
	} else if _, err := checkCurve(sender, recip.Curve()); err != nil {
		return nil, fmt.Errorf("kmskeyring: sender public key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(recip)
	if err != nil {
		return nil, err
	}
	return &ECDHKeyring{
		kms: kms, keyID: senderKeyID, curve: recip.Curve(), name: ecdhwrap.CurveName(recip.Curve()),
		recipDER: der, recip: ecdhwrap.CompressPoint(recip), sender: ecdhwrap.CompressPoint(sender), rand: o.Rand,
	}, nil
}

// NewECDHDiscovery returns a KMS ECDH keyring of the KmsPublicKeyDiscovery
// schema: the recipient's KMS key, which decrypts every encrypted data key
// made for its public key, whoever the sender. It calls KMS GetPublicKey
// for that public key, and only decrypts: OnEncrypt fails with
// [keyring.ErrKeyringCannotEncrypt]. recipientKeyID must be a key ARN
// ([ErrKeyARNRequired]).
func NewECDHDiscovery(ctx context.Context, kms cmp.KMSAsymmetric, recipientKeyID string, optFns ...func(*ECDHOptions)) (*ECDHKeyring, error) {
	o := ecdhOptions(optFns)
	if kms == nil {
		return nil, errors.New("kmskeyring: a KMS client is required")
	}
	if err := requireKeyARN(recipientKeyID); err != nil {
		return nil, err
	}
	kms, err := withGrantTokens(kms, o.GrantTokens)
	if err != nil {
		return nil, err
	}
	der, _, err := kms.GetPublicKey(ctx, recipientKeyID)
	if err != nil {
		return nil, err
	}
	recip, err := parseECPublicKey(der, o.Curve)
	if err != nil {
		return nil, fmt.Errorf("kmskeyring: recipient public key: %w", err)
	}
	return &ECDHKeyring{
		kms: kms, keyID: recipientKeyID, discovery: true, curve: recip.Curve(), name: ecdhwrap.CurveName(recip.Curve()),
		recip: ecdhwrap.CompressPoint(recip), rand: o.Rand,
	}, nil
}

func ecdhOptions(optFns []func(*ECDHOptions)) ECDHOptions {
	var o ECDHOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o
}

// parseECPublicKey parses a DER or PEM SubjectPublicKeyInfo of a NIST
// P-256, P-384 or P-521 key, on curve when curve is not nil.
func parseECPublicKey(data []byte, curve ecdh.Curve) (*ecdh.PublicKey, error) {
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "PUBLIC KEY" {
			return nil, errors.New("not a PEM PUBLIC KEY block")
		}
		der = b.Bytes
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not an X.509 SubjectPublicKeyInfo")
	}
	var pub *ecdh.PublicKey
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		pub, err = k.ECDH()
	case *ecdh.PublicKey:
		pub = k
	}
	if err != nil || pub == nil {
		return nil, errors.New("not a NIST P-256, P-384 or P-521 key")
	}
	return checkCurve(pub, curve)
}

// checkCurve checks that pub is a NIST P-256, P-384 or P-521 key, on curve
// when curve is not nil.
func checkCurve(pub *ecdh.PublicKey, curve ecdh.Curve) (*ecdh.PublicKey, error) {
	if ecdhwrap.CurveName(pub.Curve()) == "" {
		return nil, errors.New("not a NIST P-256, P-384 or P-521 key")
	}
	if curve != nil && pub.Curve() != curve {
		return nil, errors.New("not on the keyring's curve")
	}
	return pub, nil
}

// Discovery reports whether the keyring is of the KmsPublicKeyDiscovery
// schema.
func (k *ECDHKeyring) Discovery() bool { return k.discovery }

// KeyID returns the KMS key: the sender's (static) or the recipient's
// (discovery).
func (k *ECDHKeyring) KeyID() string { return k.keyID }

func (k *ECDHKeyring) String() string {
	scheme := "KmsPrivateKeyToStaticPublicKey"
	if k.discovery {
		scheme = "KmsPublicKeyDiscovery"
	}
	return fmt.Sprintf("kmskeyring.ECDHKeyring{%s, %s, %s}", scheme, k.keyID, k.name)
}

// OnEncrypt implements [keyring.Keyring]: one KMS DeriveSharedSecret of
// the sender's key and the recipient's public key. A discovery keyring
// fails with [keyring.ErrKeyringCannotEncrypt].
func (k *ECDHKeyring) OnEncrypt(ctx context.Context, m *keyring.EncryptionMaterials) error {
	if k.discovery {
		return keyring.ErrKeyringCannotEncrypt
	}
	z, err := k.derive(ctx, k.recipDER)
	if err != nil {
		return err
	}
	defer clear(z)
	if err := m.GenerateDataKey(k.rand); err != nil {
		return err
	}
	return keyring.WrapIntermediate(k.rand, m, ECDHProviderID, func(secret, aad []byte) ([]byte, []byte, error) {
		ct, err := ecdhwrap.Wrap(k.rand, z, k.name, k.sender, k.recip, secret, aad)
		if err != nil {
			return nil, nil, err
		}
		return ecdhwrap.ProviderInfo(k.sender, k.recip), ct, nil
	})
}

// derive is one KMS DeriveSharedSecret of the keyring's KMS key and peer (a
// DER SubjectPublicKeyInfo). It checks, as the MPL does, that KMS answered
// with the key asked for, and that the shared secret is an x-coordinate of
// the curve (the MPL would wrap under a key derived from anything else, and
// no reader could unwrap it); else an [ErrInvalidResponse] naming the key.
func (k *ECDHKeyring) derive(ctx context.Context, peer []byte) ([]byte, error) {
	z, keyARN, err := k.kms.DeriveSharedSecret(ctx, k.keyID, peer)
	if err != nil {
		return nil, err
	}
	switch want := len(k.recip) - 1; { // a compressed point: a byte, then x
	case keyARN != k.keyID:
		err = badResponse("DeriveSharedSecret", k.keyID, "KeyId %q, want the key asked for", keyARN)
	case len(z) != want:
		err = badResponse("DeriveSharedSecret", k.keyID, "a %d-byte shared secret, want %d", len(z), want)
	}
	if err != nil {
		clear(z)
		return nil, err
	}
	return z, nil
}

// parseInfo parses an ECDH provider info as the MPL's filter does: one of
// the three lengths of the NIST curves, version 1, and consistent key
// lengths, else [ErrInvalidECDHProviderInfo].
func parseInfo(info []byte) (sender, recipient []byte, err error) {
	switch len(info) {
	case 9 + 2*33, 9 + 2*49, 9 + 2*67:
	default:
		return nil, nil, ErrInvalidECDHProviderInfo
	}
	sender, recipient, ok := ecdhwrap.ParseProviderInfo(info, (len(info)-9)/2)
	if !ok {
		return nil, nil, ErrInvalidECDHProviderInfo
	}
	return sender, recipient, nil
}

// OnDecrypt implements [keyring.Keyring]: it tries the ECDH encrypted data
// keys ("aws-kms-ecdh" and "raw-ecdh") whose public keys are its own, each
// one KMS DeriveSharedSecret call, until one decrypts. A malformed ECDH
// provider info fails the call with [ErrInvalidECDHProviderInfo], as in
// the MPL.
func (k *ECDHKeyring) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	if m.HasDataKey() {
		return fmt.Errorf("%w: data key already set", keyring.ErrInvalidMaterials)
	}
	for _, edk := range edks {
		if edk.ProviderID == ecdhwrap.KMSProviderID || edk.ProviderID == ecdhwrap.RawProviderID {
			if _, _, err := parseInfo(edk.ProviderInfo); err != nil {
				return err
			}
		}
	}
	return keyring.UnwrapFirst(m, edks, func(edk keyring.EncryptedDataKey) bool {
		if edk.ProviderID != ecdhwrap.KMSProviderID && edk.ProviderID != ecdhwrap.RawProviderID {
			return false
		}
		sender, recipient, _ := parseInfo(edk.ProviderInfo)
		if k.discovery {
			return bytes.Equal(recipient, k.recip)
		}
		return bytes.Equal(sender, k.sender) && bytes.Equal(recipient, k.recip) ||
			bytes.Equal(sender, k.recip) && bytes.Equal(recipient, k.sender)
	}, func(edk keyring.EncryptedDataKey, wrapped, aad []byte) ([]byte, error) {
		return k.unwrap(ctx, edk, wrapped, aad)
	})
}

func (k *ECDHKeyring) unwrap(ctx context.Context, edk keyring.EncryptedDataKey, wrapped, aad []byte) ([]byte, error) {
	sender, recipient, err := parseInfo(edk.ProviderInfo)
	if err != nil {
		return nil, err
	}
	// The peer of the KMS key: the sender for a discovery keyring or when
	// this keyring's sender was the item's recipient, else the recipient.
	peer := sender
	if !k.discovery && bytes.Equal(recipient, k.recip) {
		peer = recipient
	}
	pub, err := ecdhwrap.DecompressPoint(k.curve, peer)
	if err != nil {
		return nil, ErrInvalidECDHProviderInfo
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	z, err := k.derive(ctx, der)
	if err != nil {
		return nil, err
	}
	defer clear(z)
	pt, err := ecdhwrap.Unwrap(z, k.name, sender, recipient, wrapped, aad)
	if errors.Is(err, ecdhwrap.ErrUnwrap) {
		return nil, keyring.ErrAuthentication
	}
	return pt, err
}
