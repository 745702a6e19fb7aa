// Package awskms implements [cmp.KMS] (and [cmp.KMSWithKeyARN],
// [cmp.KMSAsymmetric], [cmp.KMSWithGrantTokens]) over AWS KMS with
// aws-sdk-go-v2, for the [cmp.DirectKMS] provider and the DB-ESDK
// AWS KMS keyring (cmp/keyring/kmskeyring):
//
//	client := kms.NewFromConfig(cfg)
//	p, err := cmp.NewDirectKMS(cmp.DirectKMSConfig{KMS: awskms.New(client), KeyID: keyARN})
//
// Errors of the service come back as a *cmp.KMSError wrapping the SDK's
// error, so errors.As reaches the SDK's typed errors and smithy.APIError. A
// data key that KMS refuses to decrypt under the item's encryption context
// (InvalidCiphertextException: a tampered key attribute, table name or
// wrapped key) matches cmp.ErrAuthentication instead, and one that belongs
// to another KMS key (IncorrectKeyException) matches cmp.ErrNoMaterials.
package awskms

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// API is the part of the KMS client used here, with the SDK's own method
// signatures; *kms.Client satisfies it.
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
	Encrypt(ctx context.Context, in *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
}

// AsymmetricAPI is the part of the KMS client the asymmetric operations
// ([cmp.KMSAsymmetric]) use; *kms.Client satisfies it. An [API] without
// these methods makes those operations fail with [ErrNotSupported].
type AsymmetricAPI interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	DeriveSharedSecret(ctx context.Context, in *kms.DeriveSharedSecretInput, optFns ...func(*kms.Options)) (*kms.DeriveSharedSecretOutput, error)
}

var _ AsymmetricAPI = (*kms.Client)(nil)

var _ API = (*kms.Client)(nil)

// Options tune the calls.
type Options struct {
	// GrantTokens are sent with every call.
	GrantTokens []string
}

// KMS is a [cmp.KMS] over an AWS KMS client. Safe for concurrent use.
type KMS struct {
	api  API
	opts Options
}

var (
	_ cmp.KMSWithKeyARN      = (*KMS)(nil)
	_ cmp.KMSAsymmetric      = (*KMS)(nil)
	_ cmp.KMSWithGrantTokens = (*KMS)(nil)
)

// New wraps api (a *kms.Client).
func New(api API, optFns ...func(*Options)) *KMS {
	k := &KMS{api: api}
	for _, fn := range optFns {
		fn(&k.opts)
	}
	return k
}

// WithGrantTokens returns a copy of k that sends tokens after its own
// [Options.GrantTokens] with every call ([cmp.KMSWithGrantTokens]); the
// KMS keyrings (cmp/keyring/kmskeyring) call it with their grant tokens.
// The result is a *KMS.
func (k *KMS) WithGrantTokens(tokens []string) cmp.KMSWithGrantTokens {
	c := &KMS{api: k.api, opts: k.opts}
	c.opts.GrantTokens = slices.Concat(k.opts.GrantTokens, tokens)
	return c
}

func (k *KMS) fail(op, keyID string, err error) error {
	var bad *types.InvalidCiphertextException
	var other *types.IncorrectKeyException
	switch {
	case (op == "Decrypt" || op == "DecryptAsymmetric") && errors.As(err, &bad):
		return classified{cmp.ErrAuthentication, err}
	case op == "Decrypt" && errors.As(err, &other):
		// The data key belongs to another KMS key: another provider's item
		// (or a tampered one; the reader cannot tell).
		return classified{cmp.ErrNoMaterials, err}
	}
	return &cmp.KMSError{Op: op, KeyID: keyID, Err: err}
}

// classified matches class; the SDK error stays reachable for logs of the
// cause, which carries no secret.
type classified struct{ class, err error }

func (e classified) Error() string   { return e.class.Error() }
func (e classified) Unwrap() []error { return []error{e.class, e.err} }

// GenerateDataKey calls KMS GenerateDataKey with NumberOfBytes.
func (k *KMS) GenerateDataKey(ctx context.Context, keyID string, numBytes int, ec map[string]string) ([]byte, []byte, error) {
	pt, ct, _, err := k.GenerateDataKeyWithARN(ctx, keyID, numBytes, ec)
	return pt, ct, err
}

// GenerateDataKeyWithARN is GenerateDataKey that also returns the KeyId
// of the response, the ARN of the key (cmp.KMSWithKeyARN).
func (k *KMS) GenerateDataKeyWithARN(ctx context.Context, keyID string, numBytes int, ec map[string]string) ([]byte, []byte, string, error) {
	out, err := k.api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(keyID), NumberOfBytes: aws.Int32(int32(numBytes)), EncryptionContext: ec, GrantTokens: k.opts.GrantTokens,
	})
	if err != nil {
		return nil, nil, "", k.fail("GenerateDataKey", keyID, err)
	}
	return out.Plaintext, out.CiphertextBlob, aws.ToString(out.KeyId), nil
}

// Decrypt calls KMS Decrypt, naming keyID when it is not "" so that KMS
// refuses a ciphertext of another key.
func (k *KMS) Decrypt(ctx context.Context, keyID string, ciphertext []byte, ec map[string]string) ([]byte, error) {
	pt, _, err := k.DecryptWithARN(ctx, keyID, ciphertext, ec)
	return pt, err
}

// DecryptWithARN is Decrypt that also returns the KeyId of the response,
// the ARN of the key (cmp.KMSWithKeyARN).
func (k *KMS) DecryptWithARN(ctx context.Context, keyID string, ciphertext []byte, ec map[string]string) ([]byte, string, error) {
	in := &kms.DecryptInput{CiphertextBlob: ciphertext, EncryptionContext: ec, GrantTokens: k.opts.GrantTokens}
	if keyID != "" {
		in.KeyId = aws.String(keyID)
	}
	out, err := k.api.Decrypt(ctx, in)
	if err != nil {
		return nil, "", k.fail("Decrypt", keyID, err)
	}
	return out.Plaintext, aws.ToString(out.KeyId), nil
}

// Encrypt calls KMS Encrypt.
func (k *KMS) Encrypt(ctx context.Context, keyID string, plaintext []byte, ec map[string]string) ([]byte, error) {
	out, err := k.api.Encrypt(ctx, &kms.EncryptInput{
		KeyId: aws.String(keyID), Plaintext: plaintext, EncryptionContext: ec, GrantTokens: k.opts.GrantTokens,
	})
	if err != nil {
		return nil, k.fail("Encrypt", keyID, err)
	}
	return out.CiphertextBlob, nil
}

// RegionalClients returns the regional client supplier of the AWS KMS
// multi-keyrings (kmskeyring.NewMulti, NewMRKMulti, NewDiscoveryMulti,
// NewMRKDiscoveryMulti): for a Region, a [KMS] over kms.NewFromConfig(cfg)
// with that Region ("" keeps cfg.Region), kmsOptFns applied after the
// Region is set. Each Region's client is made once and shared; the
// supplier is safe for concurrent use.
func RegionalClients(cfg aws.Config, kmsOptFns ...func(*kms.Options)) func(region string) (cmp.KMS, error) {
	var mu sync.Mutex
	clients := map[string]*KMS{}
	return func(region string) (cmp.KMS, error) {
		mu.Lock()
		defer mu.Unlock()
		if k, ok := clients[region]; ok {
			return k, nil
		}
		fns := append([]func(*kms.Options){func(o *kms.Options) {
			if region != "" {
				o.Region = region
			}
		}}, kmsOptFns...)
		k := New(kms.NewFromConfig(cfg, fns...))
		clients[region] = k
		return k, nil
	}
}

// Region is the region of the client: its Options().Region when the API
// is a *kms.Client (or anything with that method), "" otherwise. The
// MRK-aware discovery keyring checks its region against it.
func (k *KMS) Region() string {
	if c, ok := k.api.(interface{ Options() kms.Options }); ok {
		return c.Options().Region
	}
	return ""
}

// ErrNotSupported: an asymmetric operation on an [API] that is not an
// [AsymmetricAPI].
var ErrNotSupported = errors.New("awskms: the KMS client does not implement GetPublicKey and DeriveSharedSecret")

func (k *KMS) asymmetric(op, keyID string) (AsymmetricAPI, error) {
	if a, ok := k.api.(AsymmetricAPI); ok {
		return a, nil
	}
	return nil, &cmp.KMSError{Op: op, KeyID: keyID, Err: ErrNotSupported}
}

// GetPublicKey calls KMS GetPublicKey (cmp.KMSAsymmetric).
func (k *KMS) GetPublicKey(ctx context.Context, keyID string) ([]byte, string, error) {
	a, err := k.asymmetric("GetPublicKey", keyID)
	if err != nil {
		return nil, "", err
	}
	out, err := a.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID), GrantTokens: k.opts.GrantTokens})
	if err != nil {
		return nil, "", k.fail("GetPublicKey", keyID, err)
	}
	return out.PublicKey, aws.ToString(out.KeyId), nil
}

// DecryptAsymmetric calls KMS Decrypt with KeyId and EncryptionAlgorithm
// and no encryption context (cmp.KMSAsymmetric).
func (k *KMS) DecryptAsymmetric(ctx context.Context, keyID, alg string, ciphertext []byte) ([]byte, string, error) {
	out, err := k.api.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(keyID), CiphertextBlob: ciphertext,
		EncryptionAlgorithm: types.EncryptionAlgorithmSpec(alg), GrantTokens: k.opts.GrantTokens,
	})
	if err != nil {
		return nil, "", k.fail("DecryptAsymmetric", keyID, err)
	}
	return out.Plaintext, aws.ToString(out.KeyId), nil
}

// DeriveSharedSecret calls KMS DeriveSharedSecret with the ECDH key
// agreement algorithm (cmp.KMSAsymmetric).
func (k *KMS) DeriveSharedSecret(ctx context.Context, keyID string, publicKey []byte) ([]byte, string, error) {
	a, err := k.asymmetric("DeriveSharedSecret", keyID)
	if err != nil {
		return nil, "", err
	}
	out, err := a.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{
		KeyId: aws.String(keyID), KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh,
		PublicKey: publicKey, GrantTokens: k.opts.GrantTokens,
	})
	if err != nil {
		return nil, "", k.fail("DeriveSharedSecret", keyID, err)
	}
	return out.SharedSecret, aws.ToString(out.KeyId), nil
}
