// Package cmp defines cryptographic materials providers: the interfaces the
// item encryptor asks for keys, and the built-in providers.
//
// Most users pick a provider and hand it to itemcrypto.New:
//
//   - [NewWrapped]: a fresh AES-256 content key per item, wrapped with an AES
//     key-encryption key (RFC 3394) or an RSA public key (RSA-OAEP), and
//     signed with an HMAC or RSA key. The recommended default.
//   - [NewStatic]: one fixed AES key and one signing key for every item. No
//     per-item key; use it only where the DDBEC "static" format is required.
//
// The package's name is that of the standard library's cmp package (Compare,
// Less, Or); a file that uses both imports this one under another name:
//
//	import (
//		"cmp"
//
//		itemcmp "github.com/itemcrypto/go-itemcrypto/cmp"
//	)
//
//	provider, err := itemcmp.NewWrapped(itemcmp.WrappedConfig{...})
//	n := cmp.Compare(a, b)
//
// A provider of your own implements [EncryptionMaterialsProvider] and
// [DecryptionMaterialsProvider] (together, [Provider]) and builds materials
// with [NewEncryptionMaterials] and [NewDecryptionMaterials].
//
// # Security considerations
//
// Key types ([AESKey], [HMACKey], [RSASigningKey], ...) keep their material
// in unexported fields and print as a redacted placeholder with every fmt
// verb and in slog. Keys passed to constructors are copied.
//
// The material description that selects keys on decrypt is not signed in the
// DDBEC format; providers here allow-list every algorithm name they read from
// it and never let it choose a weaker verification algorithm than the one
// configured.
//
// # Compatibility
//
// The providers produce and read the DDBEC v1 formats of the AWS DynamoDB
// Encryption Client for Java and Python: the same description entries, the
// same key wrapping (AESWrap, RSA/ECB/OAEPWithSHA-256AndMGF1Padding, and the
// legacy PKCS#1 v1.5 unwrap of items without amzn-ddb-wrap-alg), the same
// signatures (HmacSHA256/224/384/512, SHA256/384/512withRSA).
package cmp
