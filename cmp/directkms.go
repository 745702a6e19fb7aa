package cmp

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// KMS is the part of a key-management service the Direct KMS provider
// needs. Package cmp/awskms implements it over aws-sdk-go-v2's KMS client;
// cmp/kmstest serves a fake for tests.
//
// Implementations must be safe for concurrent use. A ciphertext that does
// not decrypt under the given encryption context (the KMS
// InvalidCiphertextException) must be reported as an error matching
// [ErrAuthentication]; every other failure (throttling, access denied, a
// disabled key, the network) as a [*KMSError].
type KMS interface {
	// GenerateDataKey returns a fresh data key of numBytes bytes, in
	// plaintext and encrypted under keyID with the encryption context ec.
	GenerateDataKey(ctx context.Context, keyID string, numBytes int, ec map[string]string) (plaintext, ciphertext []byte, err error)
	// Decrypt returns the plaintext of a ciphertext GenerateDataKey or
	// Encrypt made, given the same encryption context. keyID, when not "",
	// is the key the ciphertext must belong to.
	Decrypt(ctx context.Context, keyID string, ciphertext []byte, ec map[string]string) (plaintext []byte, err error)
	// Encrypt encrypts a small plaintext (a key) under keyID.
	Encrypt(ctx context.Context, keyID string, plaintext []byte, ec map[string]string) (ciphertext []byte, err error)
}

// KMSError is a failure of the key-management service. It names the
// operation and key, and wraps the service's own error (for an AWS KMS,
// errors.As reaches the SDK's typed errors and smithy.APIError).
type KMSError struct {
	Op    string // "GenerateDataKey", "Decrypt" or "Encrypt"
	KeyID string
	Err   error
}

func (e *KMSError) Error() string {
	return fmt.Sprintf("cmp: KMS %s with key %s: %v", e.Op, e.KeyID, e.Err)
}

func (e *KMSError) Unwrap() error { return e.Err }

// Keys of the KMS encryption context (spec §8.6).
const (
	kmsContextEnvAlg = "*amzn-ddb-env-alg*"
	kmsContextSigAlg = "*amzn-ddb-sig-alg*"
	kmsContextTable  = "*aws-kms-table*"
	kmsWrapAlg       = "kms"
	kmsKeysMarker    = "*keys*"
	kmsDataKeySize   = 32
	maxKMSCiphertext = 6144 // the KMS limit on a ciphertext blob
)

// DirectKMSConfig configures a [DirectKMS] provider.
type DirectKMSConfig struct {
	// KMS is the key-management service. Required.
	KMS KMS
	// KeyID is the KMS key (id, ARN, alias name or alias ARN) that protects
	// new data keys. When it names one key (id or key ARN), data keys must
	// belong to it on decrypt; an alias is not checked on decrypt, so items
	// stay readable after the alias moves to a new key. Required.
	KeyID string
	// ContentKeyAlgorithm is the amzn-ddb-env-alg written: "AES/256" (the
	// default), "AES/128" or "AES/192".
	ContentKeyAlgorithm string
	// SigningAlgorithm is the amzn-ddb-sig-alg written: "HmacSHA256/256"
	// (the default), or another Hmac<hash>/<bits>.
	SigningAlgorithm string
	// Description entries are added to every item's description.
	Description materialdesc.Description
}

// DirectKMS asks a KMS for a fresh data key per item and derives the item's
// AES and HMAC keys from it with HKDF-SHA256: the DDBEC DirectKmsMaterialProvider
// (Python AwsKmsCryptographicMaterialsProvider). One KMS call per item
// written and per item read. The KMS encryption context binds the data key to
// the table name and the item's primary-key values, so an item cannot be
// moved to another table or key without the KMS refusing it.
type DirectKMS struct {
	kms    KMS
	keyID  string
	envAlg string
	sigAlg string
	desc   materialdesc.Description
}

var _ Provider = (*DirectKMS)(nil)

// NewDirectKMS validates cfg.
func NewDirectKMS(cfg DirectKMSConfig) (*DirectKMS, error) {
	if cfg.KMS == nil {
		return nil, errors.New("cmp: DirectKMSConfig.KMS is required")
	}
	if cfg.KeyID == "" {
		return nil, errors.New("cmp: DirectKMSConfig.KeyID is required")
	}
	p := &DirectKMS{kms: cfg.KMS, keyID: cfg.KeyID, envAlg: cfg.ContentKeyAlgorithm, sigAlg: cfg.SigningAlgorithm, desc: cfg.Description.Clone()}
	if p.envAlg == "" {
		p.envAlg = "AES/256"
	}
	if p.sigAlg == "" {
		p.sigAlg = "HmacSHA256/256"
	}
	if _, _, err := parseKMSAlg(p.envAlg, "AES"); err != nil {
		return nil, err
	}
	if _, _, err := parseKMSAlg(p.sigAlg, "Hmac"); err != nil {
		return nil, err
	}
	return p, nil
}

// parseKMSAlg splits "AES/256" or "HmacSHA256/256" into the algorithm and a
// byte length (bits default to 256). prefix allow-lists the family.
func parseKMSAlg(s, prefix string) (string, int, error) {
	alg, bits, hasBits := strings.Cut(s, "/")
	n := 256
	if hasBits {
		var err error
		if n, err = strconv.Atoi(bits); err != nil || n <= 0 || n%8 != 0 || n > 1024 {
			return "", 0, fmt.Errorf("%w: key length in %q", ErrUnsupportedAlgorithm, s)
		}
	}
	switch {
	case prefix == "AES" && alg == "AES" && (n == 128 || n == 192 || n == 256):
	case prefix == "Hmac" && (alg == "HmacSHA256" || alg == "HmacSHA224" || alg == "HmacSHA384" || alg == "HmacSHA512") && n >= 128:
	default:
		return "", 0, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, s)
	}
	return alg, n / 8, nil
}

// kmsContext builds the KMS encryption context of an item (spec §8.6).
func kmsContext(ec EncryptionContext, envAlg, sigAlg string) (map[string]string, error) {
	m := map[string]string{kmsContextEnvAlg: envAlg, kmsContextSigAlg: sigAlg, kmsContextTable: ec.TableName}
	for _, name := range []string{ec.PartitionKeyName, ec.SortKeyName} {
		if name == "" {
			continue
		}
		var s string
		switch v := ec.Attributes[name].(type) {
		case *types.AttributeValueMemberS:
			s = v.Value
		case *types.AttributeValueMemberN:
			s = v.Value // as stored, not canonicalised, as both references send it
		case *types.AttributeValueMemberB:
			s = base64.StdEncoding.EncodeToString(v.Value)
		case nil:
			return nil, fmt.Errorf("cmp: key attribute %q missing: Direct KMS binds the keys into the KMS encryption context", name)
		default:
			return nil, fmt.Errorf("%w: key attribute %q must be S, N or B for Direct KMS", ErrUnsupportedAlgorithm, name)
		}
		m[name] = s
	}
	return m, nil
}

// deriveKMSKeys derives the content and signing keys from a data key.
func deriveKMSKeys(dataKey []byte, envAlg, sigAlg string) (*AESKey, *HMACKey, error) {
	_, encLen, err := parseKMSAlg(envAlg, "AES")
	if err != nil {
		return nil, nil, err
	}
	macAlg, macLen, err := parseKMSAlg(sigAlg, "Hmac")
	if err != nil {
		return nil, nil, err
	}
	ek, err := hkdf.Key(sha256.New, dataKey, nil, "Encryption", encLen)
	if err != nil {
		return nil, nil, err
	}
	sk, err := hkdf.Key(sha256.New, dataKey, nil, "Signing", macLen)
	if err != nil {
		return nil, nil, err
	}
	aesKey, err := newAESKeyOwned(ek)
	if err != nil {
		return nil, nil, err
	}
	macKey, err := NewHMACKey(macAlg, sk)
	clear(sk)
	return aesKey, macKey, err
}

// EncryptionMaterials asks the KMS for a data key and derives the item keys.
func (p *DirectKMS) EncryptionMaterials(ctx context.Context, ec EncryptionContext) (*EncryptionMaterials, error) {
	kctx, err := kmsContext(ec, p.envAlg, p.sigAlg)
	if err != nil {
		return nil, err
	}
	plain, blob, err := p.kms.GenerateDataKey(ctx, p.keyID, kmsDataKeySize, kctx)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	if len(plain) != kmsDataKeySize {
		return nil, &KMSError{Op: "GenerateDataKey", KeyID: p.keyID, Err: fmt.Errorf("returned a %d-byte data key, want %d", len(plain), kmsDataKeySize)}
	}
	aesKey, macKey, err := deriveKMSKeys(plain, p.envAlg, p.sigAlg)
	if err != nil {
		return nil, err
	}
	desc := make(materialdesc.Description, len(p.desc)+5)
	for k, v := range p.desc {
		desc[k] = v
	}
	desc[materialdesc.KeyKMSContextAttr] = kmsKeysMarker
	desc[materialdesc.KeyWrapAlg] = kmsWrapAlg
	desc[materialdesc.KeyEnvelopeAlg] = p.envAlg
	desc[materialdesc.KeySigAlg] = p.sigAlg
	desc[materialdesc.KeyEnvelopeKey] = base64.StdEncoding.EncodeToString(blob)
	return &EncryptionMaterials{encryptionKey: aesKey, signingKey: macKey, desc: desc}, nil
}

// DecryptionMaterials asks the KMS to decrypt the item's data key under the
// encryption context rebuilt from the item, and derives the item keys. An
// item that is not a Direct KMS item matches [ErrNoMaterials]; a data key
// the KMS refuses for its context matches [ErrAuthentication].
func (p *DirectKMS) DecryptionMaterials(ctx context.Context, ec EncryptionContext) (*DecryptionMaterials, error) {
	d := ec.MaterialDescription
	envKey, ok1 := d[materialdesc.KeyEnvelopeKey]
	envAlg, ok2 := d[materialdesc.KeyEnvelopeAlg]
	sigAlg, ok3 := d[materialdesc.KeySigAlg]
	if !ok1 || !ok2 || !ok3 || d[materialdesc.KeyWrapAlg] != kmsWrapAlg {
		return nil, ErrNoMaterials
	}
	if _, _, err := parseKMSAlg(envAlg, "AES"); err != nil {
		return nil, err
	}
	if _, _, err := parseKMSAlg(sigAlg, "Hmac"); err != nil {
		return nil, err
	}
	blob, err := base64.StdEncoding.DecodeString(envKey)
	if err != nil || len(blob) == 0 || len(blob) > maxKMSCiphertext {
		return nil, ErrAuthentication
	}
	kctx, err := kmsContext(ec, envAlg, sigAlg)
	if err != nil {
		// A stored item without its key attributes, or with keys of another
		// type, has been tampered with.
		return nil, fmt.Errorf("%w: %v", ErrAuthentication, err)
	}
	plain, err := p.kms.Decrypt(ctx, p.decryptKeyID(), blob, kctx)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	if len(plain) != kmsDataKeySize {
		return nil, ErrAuthentication
	}
	aesKey, macKey, err := deriveKMSKeys(plain, envAlg, sigAlg)
	if err != nil {
		return nil, err
	}
	return &DecryptionMaterials{decryptionKey: aesKey, verificationKey: macKey}, nil
}

// decryptKeyID is the key a data key must belong to on decrypt: the
// configured key when it names one key (an id or key ARN), so that KMS
// refuses another key's data key; nothing for an alias, which may have been
// re-pointed to a new key since the item was written (AWS's manual key
// rotation), as the reference clients never pass a key on decrypt.
func (p *DirectKMS) decryptKeyID() string {
	if strings.HasPrefix(p.keyID, "alias/") || strings.Contains(p.keyID, ":alias/") {
		return ""
	}
	return p.keyID
}

// String, GoString, Format and LogValue never show key material.
func (p DirectKMS) String() string                { return "cmp.DirectKMS{" + p.keyID + "}" }
func (p DirectKMS) GoString() string              { return p.String() }
func (p DirectKMS) Format(f fmt.State, verb rune) { io.WriteString(f, p.String()) }
func (p DirectKMS) LogValue() slog.Value          { return slog.StringValue(p.String()) }
