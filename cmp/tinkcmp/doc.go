// Package tinkcmp is a cryptographic materials provider whose keys are Tink
// keysets or KMS keys (github.com/tink-crypto/tink-go/v2): every item gets a
// fresh AES-256 content key and HMAC-SHA256 signing key, wrapped together by
// a Tink AEAD and stored in the item's material description.
//
// Start with [New] over a keyset handle that you read encrypted under a KMS
// key ([NewFromEncryptedKeyset] does both), and pass the provider to
// itemcrypto.New. Rotate with [keyset.Manager] and [Provider.SetKeyset].
// [NewKMS] and [NewKMSClient] instead wrap every item's keys with a KMS key
// directly, at the cost of one KMS call per item written and read.
//
// The package lives apart from package cmp, against the "one file per
// provider in cmp" layout, on purpose: only programs that import it build
// and link Tink and its protobuf dependencies.
//
// # Key sources
//
//   - A keyset handle ([New]): all keys are local. In production, read it
//     from an encrypted keyset ([NewFromEncryptedKeyset], or
//     [keyset.ReadWithContext]); cleartext keysets go only through Tink's
//     insecurecleartextkeyset package, in tests and in "itemcrypto keyset
//     --insecure".
//   - A KMS key: any [tink.AEADWithContext] ([NewKMS]), or the AEAD that a
//     registry.KMSClient returns for a key URI ([NewKMSClient]). The Tink
//     extensions tink-go-awskms, tink-go-gcpkms and tink-go-hcvault provide
//     such clients, and tink-go's testing/fakekms a fake one for tests. No
//     global registry is used: the client is passed in.
//   - An encrypted keyset wrapped by a KMS key ([NewFromEncryptedKeyset]):
//     one KMS call when the keyset is read, then as a keyset handle.
//
// # Rotation
//
// Items name the keyset key that wrapped their keys by its key ID, in the
// output prefix of the Tink ciphertext. After [keyset.Manager] adds a key
// and makes it primary, and [Provider.SetKeyset] installs the new handle,
// new items are wrapped by the new primary key while items under older
// keys still decrypt, as long as those keys stay in the keyset and
// enabled. Reading an item whose key is
//
//   - disabled in the keyset fails with a [*KeyDisabledError] naming the key
//     ID (matching [ErrKeyDisabled], not cmp.ErrAuthentication: it is a
//     configuration state, not tampering);
//   - not in the keyset (deleted with keyset.Manager.Delete, or another
//     keyset's) fails with an [*UnknownKeyError] that matches
//     cmp.ErrNoMaterials, and so, through itemcrypto.Decrypt, an
//     authentication failure.
//
// [KeyID] tells which key an item names, to find items to re-encrypt before
// a key is disabled. Tink for Go has no "destroy" operation on keysets; a
// destroyed key in a keyset from another language is reported like a
// disabled one.
//
// # Wire format
//
// The provider's part of the material description is
//
//	amzn-ddb-wrap-alg  itemcrypto-tink-aead-v1 (keyset) or itemcrypto-tink-kms-v1 (KMS)
//	amzn-ddb-env-key   base64 (standard, padded) of the AEAD ciphertext
//	amzn-ddb-env-alg   AES/256
//
// to which itemcrypto adds amzn-ddb-map-sym-mode (/CBC/PKCS5Padding) and
// amzn-ddb-map-signingAlg (HmacSHA256). The AEAD plaintext is 64 random
// bytes: the AES-256 content key, then the HMAC-SHA256 key. For a keyset,
// the ciphertext is Tink's: a 5-byte prefix (0x01 and the big-endian key
// ID), then the ciphertext of the key's algorithm. The associated data binds
// the wrapped keys to the scheme, the table and the item's primary key:
//
//	LV(wrap-alg) || LV(table name) || uint32(n) ||
//	n × (LV(key attribute name) || DDBEC serialization of its value)
//
// where LV(x) is x's length as a big-endian uint32 followed by x, n is 1
// (partition key) or 2 (partition and sort key, in that order), and values
// are serialized canonically as in the DDBEC string to sign (numbers in
// canonical form), so the encoding is the same in every process. Attributes
// are then encrypted (AES-256-CBC) and the item signed (HMAC-SHA256) by
// itemcrypto exactly as for every DDBEC provider.
//
// # Security considerations
//
// An item moved to another table or primary key, or with an altered wrapped
// key, fails to unwrap and so to decrypt (cmp.ErrAuthentication). The
// material description is not signed in the DDBEC format: the key ID an
// item names is untrusted, so a [*KeyDisabledError] or [*UnknownKeyError]
// may also come from an altered item; either way nothing is decrypted.
//
// Every call makes a new 64-byte secret from crypto/rand; the provider
// clears its copy after use (hygiene, not a guarantee: the Go runtime may
// have copied it). [Provider] prints (every fmt verb, slog) only its source
// and, for a keyset, the primary key ID and the number of keys, never key
// material, the keyset or a KMS key URI.
//
// With a KMS AEAD, the associated data goes to the KMS (AWS KMS records the
// encryption context Tink builds from it in CloudTrail): it holds the table
// name and the primary-key values in clear, as the DDBEC Direct KMS
// provider's encryption context does.
//
// # Compatibility
//
// The framing is DDBEC v1, so the items are ordinary DDBEC items to every
// tool that reads the format, but the wrapping algorithms are this
// package's own: the AWS DynamoDB Encryption Clients for Java and Python do
// not read them. The wrap-alg values are versioned; a change of scheme
// gets a new name and readers keep reading the old one.
package tinkcmp
