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
