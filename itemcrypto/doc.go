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
// # Compatibility
//
// Items are byte for byte those of the AWS DynamoDB Encryption Client for
// Java and Python ("DDBEC", the legacy client, not the AWS Database
// Encryption SDK): Go, Java and Python programs can share one table. Reader
// and writer must use the same table name, key names and actions.
package itemcrypto
