// Package kmstest is an in-process fake of AWS Key Management Service (KMS)
// for tests. It is public so that users of go-itemcrypto can test their own
// code (for example a Direct KMS provider configuration) against it too.
//
// A [Server] is a [net/http/httptest] server that speaks the KMS JSON 1.1
// protocol (POST, X-Amz-Target: TrentService.<Operation>, Content-Type
// application/x-amz-json-1.1), so tests drive it with the real
// github.com/aws/aws-sdk-go-v2/service/kms client returned by
// [Server.Client]:
//
//	srv := kmstest.NewServer(t)
//	_, keyARN := srv.CreateKey()
//	client := srv.Client()
//	out, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
//		KeyId:             aws.String(keyARN),
//		NumberOfBytes:     aws.Int32(32),
//		EncryptionContext: map[string]string{"table": "users"},
//	})
//
// # Supported operations
//
// GenerateDataKey, GenerateDataKeyWithoutPlaintext, Encrypt, Decrypt and
// ReEncrypt with symmetric (SYMMETRIC_DEFAULT) keys; GetPublicKey, and
// Encrypt and Decrypt with RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256, with
// RSA keys (RSA_2048, RSA_3072, RSA_4096, key usage ENCRYPT_DECRYPT);
// GetPublicKey and DeriveSharedSecret (ECDH) with elliptic-curve keys
// (ECC_NIST_P256, P384, P521, key usage KEY_AGREEMENT). Asymmetric keys
// are made with [WithKeySpec]; as in KMS, they take no encryption context,
// their Decrypt needs the KeyId, and an operation outside their key usage
// fails with InvalidKeyUsageException. Every other KMS operation fails
// with UnsupportedOperationException; a target outside TrentService fails
// with UnknownOperationException. Keys are created, aliased, disabled and
// scheduled for deletion through methods on [Server], not through the API.
//
// The server behaves like KMS where a client can observe it:
//
//   - KeyId is accepted as a key id, key ARN, alias name ("alias/x") or alias
//     ARN; responses always carry the key ARN.
//   - The encryption context is bound to the ciphertext: Decrypt with a
//     different (or missing) context fails with InvalidCiphertextException.
//     A nil and an empty context are the same, as in KMS.
//   - Decrypt finds the key from the ciphertext blob; a KeyId that names a
//     different key fails with IncorrectKeyException.
//   - ReEncrypt decrypts under SourceEncryptionContext (and SourceKeyId, if
//     set, checked as Decrypt checks KeyId) and encrypts under
//     DestinationKeyId and DestinationEncryptionContext; the plaintext never
//     leaves the server. A source context that does not match fails with
//     InvalidCiphertextException, so ReEncrypt authenticates a blob and its
//     context without revealing the key.
//   - A disabled key fails with DisabledException, a key pending deletion
//     with KMSInvalidStateException, an unknown key with NotFoundException.
//   - Errors are HTTP 400 (500/503 for server faults) with the body
//     {"__type":"<Code>","message":"..."}, so the SDK returns the typed
//     error from github.com/aws/aws-sdk-go-v2/service/kms/types where one
//     exists (*types.InvalidCiphertextException, *types.NotFoundException,
//     ...) and a smithy.APIError with the code otherwise (ThrottlingException,
//     AccessDeniedException, ValidationException).
//   - Requests must carry a SigV4 Authorization header scoped to the
//     server's region and the kms service (the signature itself is not
//     checked), so a client configured for the wrong region fails like it
//     would against KMS.
//
// # Multi-Region keys
//
// A Server serves one region. [WithMultiRegion] creates a multi-Region key
// (an "mrk-" key id) and [Server.ReplicateKey] replicates it to the Server
// of another region of the same account: the same key id and material, so
// a ciphertext made with either decrypts with the other, each replica
// named by the ARN of its own region and with a state of its own.
//
// The ciphertext blob format is private to this package; blobs made by one
// Server decrypt only on that Server. Blobs from real KMS are not accepted.
//
// # Failure injection and call recording
//
// [Server.FailNext] and [Server.SetFailure] make requests fail with any error
// code (throttling, access denied, internal errors, ...). [Server.Calls]
// records every request: operation, key id as sent, resolved key ARN,
// encryption context, grant tokens and the error code returned, so tests can
// assert what their code sent to KMS.
//
// # Security
//
// Key material is random per key, held only in memory, and leaves the
// server only as the Plaintext of GenerateDataKey and Decrypt responses.
// Nothing is logged, and plaintexts are never recorded in [Call]s. This
// package is for tests only: it offers no protection against anyone who
// can reach its listener.
package kmstest
