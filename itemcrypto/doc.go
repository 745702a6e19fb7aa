// Package itemcrypto encrypts and signs database items on the client, one
// item at a time, and verifies and decrypts them when they come back.
//
// Start with [New]: give it the table name, an [actions.Policy] (what to
// encrypt, what to sign, which attributes are the primary key) and a
// provider from package cmp, then call [Encryptor.Encrypt] before writing an
// item and [Encryptor.Decrypt] after reading one.
//
// Each EncryptAndSign attribute is replaced by its ciphertext (a binary
// value); the item gains two binary attributes, the material description
// ("*amzn-ddb-map-desc*": which algorithms and which wrapped key) and the
// signature ("*amzn-ddb-map-sig*") over the table name and every signed
// attribute's name, action and stored value.
//
// # Security considerations
//
// Decrypt verifies the signature before it decrypts anything, and every
// failure of authenticity is the one opaque [ErrAuthentication] with no item:
// no partial plaintext ever leaves a failed Decrypt. A swapped, added,
// dropped, renamed or altered signed attribute, a copy of the item under
// another table name, and a removed signature are all caught. DoNothing
// attributes are outside the signature and may change freely. Where the
// reason is visible to anyone holding the item, the error says it and also
// matches a second sentinel: [ErrNotEncrypted] (no signature and no
// material description: a plaintext item), [ErrNoSignature], an unsupported
// version or algorithm, another provider's item. Nothing else is told.
//
// The format encrypts each attribute with AES-CBC and authenticates the item
// as a whole; an attribute's ciphertext alone is not authenticated, so only
// ever use values that Decrypt returned. The material description is not
// signed (as in the reference clients), so providers treat it as untrusted.
//
// Errors name attributes, never values, and never contain key material.
//
// # Bounds
//
// A stored item is untrusted until its signature verifies, so Decrypt's cost
// before that point is bounded by the item's size, whatever it holds:
//   - Before the provider is asked or anything is serialized, every signed
//     value is measured without allocating: a number outside DynamoDB's range
//     (more than 38 significant digits, a magnitude outside
//     1E-130..9.99E+125) is refused before it is expanded, as is a nil or
//     typed-nil member, an unknown member, nesting deeper than 32 levels, an
//     encrypted attribute that is not binary, and signed attributes adding up
//     to more than Options.MaxItemSize by DynamoDB's own measure. Such an
//     item fails with an error matching [ErrAuthentication] (and, for a
//     value, an [*AttributeError] naming the attribute and matching, e.g.,
//     [ErrNumberOutOfRange]).
//   - Signed values are streamed into their digests through a 4 KiB buffer:
//     the canonical forms are never held in memory, however far numbers
//     expand (at most 170 bytes each).
//
// Measured (runtime.MemStats, by TestDecryptBoundedCost, on items built to
// amplify: sets of thousands of exponent-form numbers, thousands of
// attributes, wide and deep lists and maps): a Decrypt that fails
// verification allocates at most 9 bytes per byte of the item's DynamoDB
// JSON form, plus 16 KiB (the worst shape is tens of thousands of signed
// attributes with short names and empty values: 8.7 per byte, the string
// to sign's 96 bytes and a sorted name per attribute, which the public
// VerificationKey interface receives whole); one that succeeds, with the decrypted values in
// Go's form, at most 32. Encrypt measures the plaintext the same way and
// refuses an item over MaxItemSize, with an *AttributeError, before asking
// the provider.
//
// DB-ESDK items (DBESDKConfig): a Decrypt allocates at most 48 bytes per
// byte of the item (names and values as DynamoDB counts them) plus 64 KiB,
// plus, for a keyring that calls a key service, 128 KiB per call (the AWS
// SDK's round trip: one KMS Decrypt, one branch key store read), whatever
// the header holds, with every keyring and up to 255 encrypted data keys
// (TestDBESDKForgedEDKsBound, internal/dbe's TestDecryptBound). Measured on
// an item repeating the reader's own encrypted data key 255 times beside
// 300 KB of stored encryption context: 3.6 to 5.0 bytes per byte with the
// raw AES, raw RSA and hierarchical keyrings, 14.6 with the KMS keyring
// (one call: the SDK sends the context as JSON). The work is bounded too:
//   - DBESDKConfig.MaxEncryptedDataKeys (default 8,
//     [DefaultMaxEncryptedDataKeys]) caps the encrypted data keys of an
//     item; one with more is refused before any keyring is asked, with
//     [ErrTooManyEncryptedDataKeys] (which matches [ErrAuthentication]).
//   - The keyrings ask each key once per item: an encrypted data key whose
//     provider id and provider info equal those of one already tried is
//     skipped (keyring.UnwrapFirst), so copies of one key cost one RSA
//     decryption, one KMS Decrypt or one branch key read, not one each. (A
//     writer whose multi-keyring holds two different keys under one raw
//     key namespace and name makes items only the first of them reads.)
//   - The serialized encryption context, the AAD of every unwrap, is built
//     once per item and shared, never copied per encrypted data key.
//
// Before these bounds, the item above made Decrypt allocate 75.5 MiB with
// the hierarchical keyring (230 bytes per byte) and 925.7 MiB with the KMS
// keyring (255 KMS calls); 255 copies of an RSA-4096 key cost 2.8 s against
// 6.8 ms now (9.5 ms for a genuine item).
//
// # Compatibility
//
// Items are byte for byte those of the AWS DynamoDB Encryption Client for
// Java and Python ("DDBEC", the legacy client, not the AWS Database
// Encryption SDK): Go, Java and Python programs can share one table. Reader
// and writer must use the same table name, key names and actions.
package itemcrypto
