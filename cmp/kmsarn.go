package cmp

import "context"

// KMSWithKeyARN is a [KMS] that also reports which key answered: the key
// ARN AWS KMS returns as the KeyId of every response, whatever form of key
// id the request named. The DB-ESDK AWS KMS keyring records that ARN in
// its encrypted data keys and checks it on decrypt, as the MPL does;
// package cmp/awskms implements it. The error contract is that of [KMS].
type KMSWithKeyARN interface {
	KMS
	// GenerateDataKeyWithARN is GenerateDataKey that also returns the ARN
	// of the key that encrypted the data key.
	GenerateDataKeyWithARN(ctx context.Context, keyID string, numBytes int, ec map[string]string) (plaintext, ciphertext []byte, keyARN string, err error)
	// DecryptWithARN is Decrypt that also returns the ARN of the key that
	// decrypted the ciphertext.
	DecryptWithARN(ctx context.Context, keyID string, ciphertext []byte, ec map[string]string) (plaintext []byte, keyARN string, err error)
}

// KMSAsymmetric is the part of a key-management service the KMS RSA and
// KMS ECDH keyrings (cmp/keyring/kmskeyring) need: asymmetric keys. Package
// cmp/awskms implements it; cmp/kmstest serves a fake.
//
// Errors follow the [KMS] contract: a ciphertext the key refuses (the KMS
// InvalidCiphertextException) matches [ErrAuthentication], every other
// failure is a [*KMSError].
type KMSAsymmetric interface {
	// GetPublicKey returns the public key of keyID (DER X.509
	// SubjectPublicKeyInfo) and the ARN of the key.
	GetPublicKey(ctx context.Context, keyID string) (publicKey []byte, keyARN string, err error)
	// DecryptAsymmetric is KMS Decrypt of an RSA ciphertext under keyID
	// with the encryption algorithm alg ("RSAES_OAEP_SHA_1" or
	// "RSAES_OAEP_SHA_256") and no encryption context. It returns the ARN
	// of the key KMS answered with.
	DecryptAsymmetric(ctx context.Context, keyID, alg string, ciphertext []byte) (plaintext []byte, keyARN string, err error)
	// DeriveSharedSecret is KMS DeriveSharedSecret (ECDH) of the private
	// key keyID and publicKey (DER X.509 SubjectPublicKeyInfo).
	DeriveSharedSecret(ctx context.Context, keyID string, publicKey []byte) (sharedSecret []byte, keyARN string, err error)
}

// KMSWithGrantTokens is a KMS client that can send AWS KMS grant tokens
// with its requests: the MPL's KMS keyrings take grant tokens (their
// grantTokens input) and send them on every KMS call they make. Package
// cmp/awskms implements it.
type KMSWithGrantTokens interface {
	// WithGrantTokens returns a client that sends tokens, after any it
	// already sends, with every request, and is otherwise the receiver: it
	// reaches the same service and implements the same interfaces of this
	// package ([KMS], [KMSWithKeyARN], [KMSAsymmetric]). The receiver is
	// not modified.
	WithGrantTokens(tokens []string) KMSWithGrantTokens
}
