// Package pkcs11 keeps the keys of go-itemcrypto in a PKCS#11 token (an
// HSM such as AWS CloudHSM, SoftHSM, a smart card): the key never leaves
// the token, which does the key wrapping and the MACs.
//
//   - [NewAESKeyring] is a DB-ESDK keyring whose AES-GCM wrapping key lives
//     in the token; its encrypted data keys are those of keyring.NewRawAES
//     over the same key, byte for byte, and each keyring reads the other's.
//   - [NewWrapped] is a DDBEC provider (cmp.Wrapped) whose key-encryption
//     key ([AESWrappingKey], CKM_AES_KEY_WRAP, RFC 3394) and signing key
//     ([HMACKey], CKM_SHA256_HMAC) live in the token; its items are those
//     of cmp.NewWrapped over the same keys.
//
// A [Pool] holds the library, the logged-in token and a bounded set of
// sessions, safe for concurrent use. The package needs cgo (through
// github.com/miekg/pkcs11), which is why it is a module of its own: a
// program that does not import it builds with CGO_ENABLED=0.
//
// RSA keys in the token are [RSAKey], a crypto.Signer and
// crypto.Decrypter for the root module's constructors of keys held
// elsewhere (cmp.NewRSASigningKeyFromSigner,
// cmp.NewRSAUnwrappingKeyFromDecrypter, keyring.NewRawRSAWithDecrypter).
// The token must support the mechanism: SoftHSM 2.6 does RSA-OAEP with
// SHA-1 only, so not the DDBEC's SHA-256 OAEP. ECDSA keys (P-256, P-384,
// P-521) in the token are [ECDSAKey], a crypto.Signer (CKM_ECDSA, the
// signature returned in ASN.1 DER) for cmp.NewECDSASigningKeyFromSigner;
// the key pair's public object must carry the private key's label.
package pkcs11
