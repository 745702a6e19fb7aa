// Package keyring holds the key model of the AWS Database Encryption SDK
// (DB-ESDK), after the AWS Cryptographic Material Providers Library (MPL): a
// [Keyring] wraps and unwraps the data key of one item, a [MaterialsManager]
// turns a keyring into the materials an item needs (data key, encrypted data
// keys, per-recipient HMAC keys and, for the signing suite, an ECDSA P-384 key
// pair), and the two algorithm suites of the DB-ESDK are [SuiteHMAC] (0x6700)
// and [SuiteECDSAP384] (0x6701, the DB-ESDK default).
//
// # Keyrings
//
//   - [NewRawAES]: AES-GCM wrapping under a key the caller holds (16, 24 or
//     32 bytes), provider id = key namespace, provider info = key name, tag
//     bits, IV length, IV.
//   - [NewRawRSA]: RSA under a key pair the caller holds, PKCS #1 v1.5 or
//     OAEP with SHA-1, SHA-256, SHA-384 or SHA-512 (MGF1 with the same
//     hash); provider id = key namespace, provider info = key name. A
//     public-key-only keyring encrypts, a private-key keyring decrypts.
//   - [NewRawECDHStatic], [NewRawECDHEphemeral], [NewRawECDHDiscovery]: the
//     raw ECDH keyring on NIST P-256, P-384 and P-521, in its three key
//     agreement schemas (RawPrivateKeyToStaticPublicKey,
//     EphemeralPrivateKeyToStaticPublicKey, PublicKeyDiscovery); provider id
//     "raw-ecdh", provider info the compressed recipient and sender public
//     keys. The wrapping key and a commitment key come from SP 800-108 KDF
//     in counter mode (HMAC-SHA384) over the shared secret, a random salt
//     and the curve, both keys and the encryption context.
//   - [NewMulti]: a generator and children; every one adds its encrypted
//     data key, any one decrypts.
//   - cmp/keyring/kmskeyring: AWS KMS (provider id "aws-kms", provider info
//     the key ARN), over [github.com/itemcrypto/go-itemcrypto/cmp.KMS].
//   - cmp/keyring/hierarchy: the hierarchical keyring over a branch key
//     store ("aws-kms-hierarchy").
//
// Not built: the KMS discovery, MRK-aware, KMS RSA and KMS ECDH keyrings.
//
// # Materials managers
//
//   - [NewDefaultManager]: the MPL default CMM over a keyring.
//   - [NewRequiredContextManager]: the MPL required-encryption-context CMM
//     over another manager; its keys must be in the context on encrypt
//     (and are then not stored) and reproduced on decrypt
//     ([ErrRequiredContext]).
//
// [DescribeEncryptedDataKey] tells which keyring and key an encrypted data
// key belongs to (provider id and info, KMS key ARN, branch key id and
// version, raw key namespace and name) without decrypting it; the item
// encryptor's itemcrypto.DescribeEncryptedDataKeys does it for a stored
// item.
//
// # What proves compatibility
//
//   - Hierarchical keyring: the 42 DB-ESDK decrypt records of the shared
//     vectors (internal/dbe), written by Java and .NET.
//   - Raw AES: mpl/manifest.json's record (an MPL-written EDK, unwrapped
//     byte for byte; its suite 0x0014 uses direct wrapping, so it proves the
//     raw AES part, not the intermediate layer) and mpl/test.json's raw AES
//     round trips with the MPL's key descriptions.
//   - Raw RSA: mpl/test.json's raw RSA round trips (every padding, suites
//     0x6700 and 0x6701). They are round trips through our own code: no
//     stored vector holds an RSA-, KMS- or multi-keyring EDK written by
//     another implementation under a DB-ESDK suite, so for those keyrings
//     the tests check each EDK against the specification with an
//     independent stdlib decoder (internal/kwtest) and the KMS client.
//   - Raw ECDH: no stored vector holds a raw ECDH EDK; the differential
//     test against the reference (internal/testsupport/interop/dbesdk:
//     every curve, the static sender decrypting its own items, the
//     recipient's static and discovery keyrings decrypting static and
//     ephemeral senders' items, both ways) and an independent stdlib
//     decoder of the layout in the tests; the KDF against the MPL's
//     SHA-384 KdfCtr known answer.
//   - The reproduced-context rules of the materials manager: mpl/test.json's
//     65 raw AES entries on the reproduced encryption context (9 positive,
//     56 negative).
//
// Both DB-ESDK suites use the MPL's intermediate key wrapping: every
// encrypted data key carries the data key encrypted under a key derived from
// a fresh intermediate key, and the keyring wraps only that intermediate key.
// [WrapIntermediate] (or [WrapGeneratedIntermediate], when the key service
// makes the intermediate key, as KMS GenerateDataKey does), [UnwrapIntermediate]
// and [UnwrapFirst] (the OnDecrypt loop) do that part for every keyring, so a
// keyring only implements the wrapping of one 32-byte secret.
//
// Every keyring here asks each of its keys once per item: [UnwrapFirst]
// skips an encrypted data key whose provider id and provider info equal
// those of one already tried, so a forged item of 255 copies of the
// reader's own encrypted data key costs one RSA decryption, one KMS call
// or one branch key read, and the serialized encryption context (the AAD)
// is built once per item ([DecryptionMaterials.SerializedContext]) and
// never copied per encrypted data key. The item encryptor also caps the
// count (itemcrypto.DBESDKConfig.MaxEncryptedDataKeys,
// [ErrTooManyEncryptedDataKeys]).
//
// Keys live in unexported fields; materials print without them.
package keyring
