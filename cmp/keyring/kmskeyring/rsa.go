package kmskeyring

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSAES_OAEP_SHA_1 is one of the KMS RSA keyring's algorithms
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// RSAProviderID is the provider id of the KMS RSA keyring's encrypted data
// keys.
const RSAProviderID = "aws-kms-rsa"

// The encryption algorithms of the KMS RSA keyring, named as KMS names
// them: RSA-OAEP with MGF1 of the same hash and an empty label.
const (
	RSAESOAEPSHA1   = "RSAES_OAEP_SHA_1"
	RSAESOAEPSHA256 = "RSAES_OAEP_SHA_256"
)

// minRSABits is the MPL's smallest KMS RSA key (AWS KMS has no smaller).
const minRSABits = 2048

// Typed errors of the KMS RSA keyring.
var (
	// ErrSignedSuite: the KMS RSA keyring refuses, as the MPL does, an
	// algorithm suite with an asymmetric signature (0x6701): anyone with
	// the public key could write items the signature would then vouch for.
	ErrSignedSuite = errors.New("kmskeyring: the AWS KMS RSA keyring cannot be used with an algorithm suite with asymmetric signing")
	// ErrEncryptionContextDigest: KMS decrypted the encrypted data key,
	// but it was made for another encryption context (the SHA-384 digest
	// before the key differs). It matches [keyring.ErrAuthentication].
	ErrEncryptionContextDigest = fmt.Errorf("%w: encryption context digest does not match", keyring.ErrAuthentication)
)

// RSAOptions tune [NewRSA].
type RSAOptions struct {
	// PublicKey is the KMS key's public key, of at least 2048 bits
	// ([ParseRSAPublicKey] reads the form KMS GetPublicKey returns).
	// Without it the keyring cannot encrypt.
	PublicKey *rsa.PublicKey
	// GrantTokens are the AWS KMS grant tokens the keyring sends on every
	// KMS Decrypt, as [Options.GrantTokens].
	GrantTokens []string
	// Rand is the source of data keys, intermediate keys and OAEP seeds;
	// nil is crypto/rand.
	Rand io.Reader
}

// RSAKeyring is the MPL's AWS KMS RSA keyring
// (aws-kms/aws-kms-rsa-keyring.md): it encrypts offline with the public key
// of an asymmetric KMS RSA key (KeyUsage ENCRYPT_DECRYPT) and decrypts
// through KMS Decrypt. Under the DB-ESDK suites (intermediate key wrapping)
// the RSA plaintext is the SHA-384 digest of the serialized encryption
// context followed by the 32-byte intermediate key: KMS takes no encryption
// context with asymmetric keys, so the digest binds it. The encrypted data
// key's provider id is "aws-kms-rsa", its provider info the configured key
// identifier, its ciphertext the data key encrypted under the intermediate
// key followed by the RSA ciphertext.
//
// Only suite 0x6700 is accepted ([ErrSignedSuite]). It is safe for
// concurrent use.
type RSAKeyring struct {
	kms   cmp.KMSAsymmetric // nil: encrypt only
	keyID string
	alg   string
	hash  func() hash.Hash
	pub   *rsa.PublicKey // nil: decrypt only
	rand  io.Reader
}

var _ keyring.Keyring = (*RSAKeyring)(nil)

// NewRSA returns a KMS RSA keyring for the KMS key keyID, a key ARN, with
// the encryption algorithm alg ([RSAESOAEPSHA1] or [RSAESOAEPSHA256]). kms,
// which may be nil for a keyring that only encrypts, decrypts;
// [RSAOptions.PublicKey] encrypts. An alias or a bare key id fails with
// [ErrKeyARNRequired]: the MPL forbids aliases here, and the key id is
// recorded in every encrypted data key and matched on decrypt.
func NewRSA(kms cmp.KMSAsymmetric, keyID, alg string, optFns ...func(*RSAOptions)) (*RSAKeyring, error) {
	if err := requireKeyARN(keyID); err != nil {
		return nil, err
	}
	k := &RSAKeyring{kms: kms, keyID: keyID, alg: alg}
	switch alg {
	case RSAESOAEPSHA1:
		k.hash = sha1.New
	case RSAESOAEPSHA256:
		k.hash = sha256.New
	default:
		return nil, fmt.Errorf("kmskeyring: unsupported KMS RSA encryption algorithm %q (want %s or %s)", alg, RSAESOAEPSHA1, RSAESOAEPSHA256)
	}
	var o RSAOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.PublicKey != nil {
		if o.PublicKey.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("kmskeyring: a %d-bit RSA key is smaller than the %d bits of the KMS RSA keyring", o.PublicKey.N.BitLen(), minRSABits)
		}
		k.pub = o.PublicKey
	}
	if k.kms == nil && k.pub == nil {
		return nil, errors.New("kmskeyring: a KMS RSA keyring needs a public key, a KMS client or both")
	}
	if k.kms != nil {
		var err error
		if k.kms, err = withGrantTokens(k.kms, o.GrantTokens); err != nil {
			return nil, err
		}
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	k.rand = o.Rand
	return k, nil
}

// ParseRSAPublicKey parses an RSA public key given as a DER X.509
// SubjectPublicKeyInfo (as KMS GetPublicKey returns it) or a PEM "PUBLIC
// KEY" block of one (as the MPL takes it).
func ParseRSAPublicKey(data []byte) (*rsa.PublicKey, error) {
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "PUBLIC KEY" {
			return nil, errors.New("kmskeyring: the RSA public key is not a PEM PUBLIC KEY block")
		}
		der = b.Bytes
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("kmskeyring: the RSA public key is not an X.509 SubjectPublicKeyInfo")
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("kmskeyring: the public key is not an RSA key")
	}
	return pub, nil
}

// KeyID returns the configured key identifier.
func (k *RSAKeyring) KeyID() string { return k.keyID }

func (k *RSAKeyring) String() string {
	return fmt.Sprintf("kmskeyring.RSAKeyring{%s, %s, encrypt: %t, decrypt: %t}", k.keyID, k.alg, k.pub != nil, k.kms != nil)
}

// OnEncrypt implements [keyring.Keyring]: no KMS call. A keyring without a
// public key fails with [keyring.ErrKeyringCannotEncrypt].
func (k *RSAKeyring) OnEncrypt(_ context.Context, m *keyring.EncryptionMaterials) error {
	if k.pub == nil {
		return keyring.ErrKeyringCannotEncrypt
	}
	if m.Suite().Signed() {
		return ErrSignedSuite
	}
	if err := m.GenerateDataKey(k.rand); err != nil {
		return err
	}
	return keyring.WrapIntermediate(k.rand, m, RSAProviderID, func(secret, aad []byte) ([]byte, []byte, error) {
		digest := sha512.Sum384(aad)
		pt := append(digest[:], secret...)
		defer clear(pt)
		ct, err := rsa.EncryptOAEP(k.hash(), k.rand, k.pub, pt, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("kmskeyring: RSA encryption of the intermediate key failed (%s)", k.alg)
		}
		return []byte(k.keyID), ct, nil
	})
}

// OnDecrypt implements [keyring.Keyring]: one KMS Decrypt, naming the key
// and the encryption algorithm, per "aws-kms-rsa" encrypted data key whose
// provider info is the keyring's key (MRK-aware, as in the MPL), until one
// decrypts. A keyring without a KMS client fails with
// [keyring.ErrKeyringCannotDecrypt]; an "aws-kms-rsa" provider info that is
// not a key ARN with [ErrInvalidProviderInfo].
func (k *RSAKeyring) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	if k.kms == nil {
		return keyring.ErrKeyringCannotDecrypt
	}
	if m.HasDataKey() {
		return fmt.Errorf("%w: data key already set", keyring.ErrInvalidMaterials)
	}
	if m.Suite().Signed() {
		return ErrSignedSuite
	}
	if err := checkProviderInfos(edks, RSAProviderID, true); err != nil {
		return err
	}
	return keyring.UnwrapFirst(m, edks, func(edk keyring.EncryptedDataKey) bool {
		return edk.ProviderID == RSAProviderID && MRKMatchForDecrypt(k.keyID, string(edk.ProviderInfo))
	}, func(_ keyring.EncryptedDataKey, wrapped, aad []byte) ([]byte, error) {
		return k.unwrap(ctx, wrapped, aad)
	})
}

func (k *RSAKeyring) unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) == 0 || len(wrapped) > maxCiphertext {
		return nil, keyring.ErrAuthentication
	}
	pt, keyARN, err := k.kms.DecryptAsymmetric(ctx, k.keyID, k.alg, wrapped)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	if keyARN != k.keyID {
		return nil, badResponse("Decrypt", k.keyID, "KeyId %q, want the key asked for", keyARN)
	}
	digest := sha512.Sum384(aad)
	if len(pt) != len(digest)+keyring.KeyLength || subtle.ConstantTimeCompare(pt[:len(digest)], digest[:]) != 1 {
		return nil, ErrEncryptionContextDigest
	}
	return append([]byte(nil), pt[len(digest):]...), nil
}
