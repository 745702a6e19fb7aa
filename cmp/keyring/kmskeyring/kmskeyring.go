// Package kmskeyring holds the MPL's AWS KMS keyrings for the DB-ESDK:
// the strict keyring ([New]), the MRK-aware strict keyring ([NewMRK]), the
// discovery and MRK-aware discovery keyrings ([NewDiscovery],
// [NewMRKDiscovery]), the KMS RSA keyring ([NewRSA]) and the KMS ECDH
// keyring ([NewECDHStatic], [NewECDHDiscovery]).
//
// # Which keyring
//
//   - Strict ([New]): the writer and the reader know the key. It encrypts
//     and decrypts, and decrypts only the encrypted data keys of exactly its
//     key ARN. The default choice.
//   - MRK-aware strict ([NewMRK]): as strict, and a multi-Region key's
//     replicas are one key: an item written in one region is read with the
//     replica of the reader's region. For a single-Region key it is the
//     strict keyring.
//   - Discovery ([NewDiscovery]): a reader that does not know which key
//     wrote an item (keys per tenant, keys of other accounts). It decrypts
//     only, asking KMS with whatever key ARN the item names; give it a
//     [DiscoveryFilter] (partition and accounts), or a forged item makes it
//     ask any key its credentials reach.
//   - MRK-aware discovery ([NewMRKDiscovery]): discovery bound to its
//     client's region: multi-Region keys of any region are asked in that
//     region, single-Region keys of other regions are skipped.
//   - KMS RSA ([NewRSA]): writers encrypt offline with the public key of an
//     asymmetric KMS RSA key (no KMS call, no AWS credentials); readers need
//     KMS Decrypt. Anyone with the public key can write items, so only the
//     suite without ECDSA signatures (0x6700) is allowed.
//   - KMS ECDH static ([NewECDHStatic]): the sender's KMS key agreement key
//     and the recipient's public key; it encrypts, and decrypts the items
//     between the two. KMS ECDH discovery ([NewECDHDiscovery]): the
//     recipient's KMS key reads every item written for its public key,
//     whoever the sender (KMS ECDH and raw ECDH keyrings alike); it never
//     encrypts.
//   - Several keys or Regions ([NewMulti], [NewMRKMulti], [NewDiscoveryMulti],
//     [NewMRKDiscoveryMulti]): the MPL's multi-keyrings, built with a
//     [ClientSupplier] (awskms.RegionalClients) that gives each keyring the
//     client of its key's Region.
//
// # The strict keyring
//
// Under the DB-ESDK suites (intermediate key wrapping) the keyring always
// calls KMS GenerateDataKey on encrypt, as the MPL does: the 32-byte
// plaintext KMS returns is the intermediate key, under which the item's
// data key (made locally) is encrypted, and the KMS ciphertext blob follows
// it in the encrypted data key. KMS Encrypt is never called. The KMS
// encryption context is the item's full encryption context. The encrypted
// data key's provider id is "aws-kms" and its provider info the key ARN KMS
// answered with. On decrypt the keyring calls KMS Decrypt for the encrypted
// data keys whose provider info is exactly its configured key ARN, naming
// that key, and checks that KMS answered with it.
//
// The keyrings talk to KMS through [cmp.KMS]; cmp/awskms implements it
// over aws-sdk-go-v2, cmp/kmstest serves a fake for tests:
//
//	kr, err := kmskeyring.New(awskms.New(kms.NewFromConfig(cfg)), keyARN)
//
// The asymmetric keyrings talk to KMS through [cmp.KMSAsymmetric]
// (implemented by cmp/awskms too): the KMS RSA keyring decrypts with KMS
// Decrypt, the KMS ECDH keyring calls KMS DeriveSharedSecret and wraps as
// the raw ECDH keyring does.
//
// # Grant tokens
//
// Every keyring's options take GrantTokens (the MPL's grantTokens input),
// sent on every KMS call the keyring makes; they need a client that
// implements [cmp.KMSWithGrantTokens], as cmp/awskms does.
//
// # Errors
//
// A KMS failure (access denied, a disabled key, throttling, the network)
// is a [*cmp.KMSError] naming the operation and the key and wrapping the
// SDK's error; a response that is not what the MPL requires (another
// KeyId than asked for, a plaintext or shared secret of the wrong length)
// is one too, wrapping [ErrInvalidResponse]; an encrypted data key that
// does not decrypt is [keyring.ErrAuthentication]. No error holds key
// material. On decrypt a failed encrypted data key does not stop the
// keyring: it tries the next and, when none decrypts, returns every
// attempt's error joined (errors.Is and errors.As reach each). A key is
// asked once per item: encrypted data keys with the same provider id and
// info as one already tried are skipped.
package kmskeyring

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// ProviderID is the provider id of every EDK this keyring writes.
const ProviderID = "aws-kms"

// maxCiphertext is the KMS limit on a ciphertext blob.
const maxCiphertext = 6144

// Options tune [New] and [NewMRK].
type Options struct {
	// GrantTokens are the AWS KMS grant tokens (the MPL's grantTokens) the
	// keyring sends on every KMS call: at most 10, each 1 to 8192 bytes
	// ([ErrInvalidGrantTokens]). They need a KMS client that implements
	// [cmp.KMSWithGrantTokens], as cmp/awskms does
	// ([ErrGrantTokensUnsupported]); they follow any the client itself
	// sends.
	GrantTokens []string
	// Rand is the source of data keys; nil is crypto/rand.
	Rand io.Reader
}

// Keyring is the AWS KMS keyring. It is safe for concurrent use.
type Keyring struct {
	kms     cmp.KMS
	withARN cmp.KMSWithKeyARN // kms, when it reports key ARNs
	keyID   string
	// canDecrypt: keyID is a key ARN, the only identifier the MPL decrypts
	// with.
	canDecrypt bool
	// mrk: the MRK-aware keyring ([NewMRK]), which matches encrypted data
	// keys with [MRKMatchForDecrypt] instead of by equal ARNs.
	mrk  bool
	rand io.Reader
}

var _ keyring.Keyring = (*Keyring)(nil)

// ErrCannotDecrypt: the keyring is configured with an alias or a bare key
// id, which encrypt but, as in the MPL, cannot decrypt: only a key ARN
// names the key an encrypted data key must belong to.
var ErrCannotDecrypt = errors.New("kmskeyring: only a keyring configured with a key ARN decrypts")

// New returns a keyring for the AWS KMS key keyID: a key ARN (the form
// that encrypts and decrypts), or an alias name, alias ARN or key id
// (encrypt only). A KMS that does not implement [cmp.KMSWithKeyARN]
// requires a key ARN, which is then recorded as the provider info.
func New(kms cmp.KMS, keyID string, optFns ...func(*Options)) (*Keyring, error) {
	if kms == nil {
		return nil, errors.New("kmskeyring: a KMS client is required")
	}
	if !validIdentifier(keyID) {
		return nil, fmt.Errorf("kmskeyring: %q is not an AWS KMS key identifier", keyID)
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	kms, err := withGrantTokens(kms, o.GrantTokens)
	if err != nil {
		return nil, err
	}
	arn, err := ParseARN(keyID)
	isKeyARN := err == nil && arn.ResourceType == "key"
	withARN, _ := kms.(cmp.KMSWithKeyARN)
	if withARN == nil && !isKeyARN {
		return nil, fmt.Errorf("kmskeyring: %q is not a key ARN, and the KMS client does not report the key ARN of its responses", keyID)
	}
	if o.Rand == nil {
		o.Rand = crand.Reader
	}
	return &Keyring{kms: kms, withARN: withARN, keyID: keyID, canDecrypt: isKeyARN, rand: o.Rand}, nil
}

// KeyID returns the configured key identifier.
func (k *Keyring) KeyID() string { return k.keyID }

func (k *Keyring) String() string { return "kmskeyring.Keyring{" + k.keyID + "}" }

func (k *Keyring) badResponse(op, format string, args ...any) error {
	return badResponse(op, k.keyID, format, args...)
}

// ErrInvalidResponse: KMS answered, but not as the MPL requires (a KeyId
// that is not the key asked for or not a key ARN, a data key of the wrong
// length, a missing ciphertext). It comes wrapped in a [*cmp.KMSError].
var ErrInvalidResponse = errors.New("invalid response")

func badResponse(op, keyID, format string, args ...any) error {
	return &cmp.KMSError{Op: op, KeyID: keyID, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidResponse}, args...)...)}
}

// generate asks KMS for an intermediate key and checks the response as
// the MPL does.
func (k *Keyring) generate(ctx context.Context, ec map[string]string) (plaintext, blob []byte, keyARN string, err error) {
	if k.withARN != nil {
		plaintext, blob, keyARN, err = k.withARN.GenerateDataKeyWithARN(ctx, k.keyID, keyring.KeyLength, ec)
	} else {
		plaintext, blob, err = k.kms.GenerateDataKey(ctx, k.keyID, keyring.KeyLength, ec)
		keyARN = k.keyID
	}
	if err != nil {
		return nil, nil, "", err
	}
	switch _, perr := ParseARN(keyARN); {
	case perr != nil || len(keyARN) > 0xffff:
		err = k.badResponse("GenerateDataKey", "KeyId %q is not a key ARN", keyARN)
	case len(plaintext) != keyring.KeyLength:
		err = k.badResponse("GenerateDataKey", "a %d-byte data key, want %d", len(plaintext), keyring.KeyLength)
	case len(blob) == 0 || len(blob) > maxCiphertext:
		err = k.badResponse("GenerateDataKey", "a ciphertext blob of %d bytes", len(blob))
	}
	if err != nil {
		clear(plaintext)
		return nil, nil, "", err
	}
	return plaintext, blob, keyARN, nil
}

// OnEncrypt implements [keyring.Keyring]: one KMS GenerateDataKey call for
// the intermediate key; a data key is made locally unless m has one. When
// KMS fails, m is not modified.
func (k *Keyring) OnEncrypt(ctx context.Context, m *keyring.EncryptionMaterials) error {
	ikm, blob, keyARN, err := k.generate(ctx, m.EncryptionContext())
	if err != nil {
		return err
	}
	defer clear(ikm)
	if err := m.GenerateDataKey(k.rand); err != nil {
		return err
	}
	return keyring.WrapGeneratedIntermediate(m, ProviderID, func([]byte) ([]byte, []byte, []byte, error) {
		return ikm, []byte(keyARN), blob, nil
	})
}

// OnDecrypt implements [keyring.Keyring]. An "aws-kms" EDK whose provider
// info is not a KMS ARN fails the call as [keyring.ErrAuthentication] (the
// MPL fails there too); KMS failures come back as the [cmp.KMS] contract
// says, a ciphertext KMS refuses as [keyring.ErrAuthentication].
func (k *Keyring) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	if m.HasDataKey() {
		return fmt.Errorf("%w: data key already set", keyring.ErrInvalidMaterials)
	}
	if !k.canDecrypt {
		return ErrCannotDecrypt
	}
	if err := checkProviderInfos(edks, ProviderID, k.mrk); err != nil {
		return err
	}
	ec := m.EncryptionContext()
	return keyring.UnwrapFirst(m, edks, func(edk keyring.EncryptedDataKey) bool {
		if edk.ProviderID != ProviderID {
			return false
		}
		if k.mrk {
			return MRKMatchForDecrypt(k.keyID, string(edk.ProviderInfo))
		}
		return string(edk.ProviderInfo) == k.keyID
	}, func(_ keyring.EncryptedDataKey, blob, _ []byte) ([]byte, error) {
		return decryptBlob(ctx, k.kms, k.withARN, k.keyID, blob, ec)
	})
}

// ErrInvalidProviderInfo: an "aws-kms" encrypted data key whose provider
// info is not a KMS key ARN (the MPL fails OnDecrypt there). It matches
// [keyring.ErrAuthentication] too.
var ErrInvalidProviderInfo = fmt.Errorf("%w: aws-kms provider info is not a KMS key ARN", keyring.ErrAuthentication)

// checkProviderInfos fails when a providerID EDK's provider info is not a
// KMS ARN (with needKey, not a key ARN), as the MPL's filters do.
func checkProviderInfos(edks []keyring.EncryptedDataKey, providerID string, needKey bool) error {
	for _, edk := range edks {
		if edk.ProviderID != providerID {
			continue
		}
		if !utf8.Valid(edk.ProviderInfo) {
			return fmt.Errorf("%w (not UTF-8)", ErrInvalidProviderInfo)
		}
		arn, err := ParseARN(string(edk.ProviderInfo))
		if err != nil || (needKey && arn.ResourceType != "key") {
			return ErrInvalidProviderInfo
		}
	}
	return nil
}

// decryptBlob asks KMS to decrypt blob naming keyID, and checks, as the
// MPL does, that KMS answered with keyID and a 32-byte plaintext (else an
// [ErrInvalidResponse] naming keyID; the caller tries the next encrypted
// data key).
func decryptBlob(ctx context.Context, kms cmp.KMS, withARN cmp.KMSWithKeyARN, keyID string, blob []byte, ec map[string]string) ([]byte, error) {
	if len(blob) == 0 || len(blob) > maxCiphertext {
		return nil, keyring.ErrAuthentication
	}
	var plaintext []byte
	keyARN := keyID
	var err error
	if withARN != nil {
		plaintext, keyARN, err = withARN.DecryptWithARN(ctx, keyID, blob, ec)
	} else {
		plaintext, err = kms.Decrypt(ctx, keyID, blob, ec)
	}
	switch {
	case errors.Is(err, cmp.ErrNoMaterials):
		// KMS says the blob is another key's, though the EDK names ours.
		return nil, keyring.ErrAuthentication
	case err != nil:
		return nil, err
	case keyARN != keyID:
		clear(plaintext)
		return nil, badResponse("Decrypt", keyID, "KeyId %q, want the key asked for", keyARN)
	case len(plaintext) != keyring.KeyLength:
		n := len(plaintext)
		clear(plaintext)
		return nil, badResponse("Decrypt", keyID, "a %d-byte plaintext, want %d", n, keyring.KeyLength)
	}
	return plaintext, nil
}
