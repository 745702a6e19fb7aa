package keyring

import (
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/internal/ecdhwrap"
)

// KeyringKind names the kind of keyring an encrypted data key's fields
// point to, as [DescribeEncryptedDataKey] infers it.
type KeyringKind string

// The kinds DescribeEncryptedDataKey tells apart.
const (
	KindUnknown      KeyringKind = ""
	KindKMS          KeyringKind = "aws-kms"           // provider info: the KMS key ARN
	KindKMSHierarchy KeyringKind = "aws-kms-hierarchy" // provider info: the branch key id
	KindKMSRSA       KeyringKind = "aws-kms-rsa"       // provider info: the KMS key ARN
	KindKMSECDH      KeyringKind = "aws-kms-ecdh"      // provider info: recipient and sender public keys
	KindRawECDH      KeyringKind = "raw-ecdh"          // provider info: recipient and sender public keys
	KindRawAES       KeyringKind = "raw-aes"           // provider id: key namespace; info: key name, tag and IV lengths, IV
	KindRawRSA       KeyringKind = "raw-rsa"           // provider id: key namespace; info: key name
)

// EDKDescription describes one encrypted data key from its unencrypted
// fields only (the MPL's and DB-ESDK's GetEncryptedDataKeyDescription):
// which keyring and key protect the item. Nothing in it is secret, nor
// authenticated: a stored item's header is verified only when the item is
// decrypted.
type EDKDescription struct {
	// ProviderID is the key provider id: "aws-kms", "aws-kms-hierarchy",
	// ... or a raw keyring's key namespace.
	ProviderID string
	// ProviderInfo is the key provider info when it is UTF-8 text (the KMS
	// key ARN, the branch key id, a raw RSA key name), else "" (raw AES and
	// ECDH keyrings write binary provider info; see the fields below).
	ProviderInfo string
	// Kind is the keyring kind the fields match; KindUnknown when none.
	// A raw keyring's namespace is its provider id, so raw AES and raw RSA
	// are told apart by the layout of the provider info.
	Kind KeyringKind
	// KeyNamespace and KeyName are a raw AES or raw RSA keyring's key.
	KeyNamespace, KeyName string
	// BranchKeyID and BranchKeyVersion (a UUID) are a hierarchical
	// keyring's branch key, the version parsed from the EDK's ciphertext.
	BranchKeyID, BranchKeyVersion string
	// RecipientPublicKey and SenderPublicKey are an ECDH keyring's keys
	// (compressed points).
	RecipientPublicKey, SenderPublicKey []byte
}

const hierarchyVersionAt = WrappedDataKeyLength + 16 + 12 // wrapped PDK, salt, IV

// DescribeEncryptedDataKey describes edk, an encrypted data key of an item
// written under one of the DB-ESDK suites (both wrap the data key with
// intermediate key wrapping). It parses and never decrypts.
func DescribeEncryptedDataKey(edk EncryptedDataKey) EDKDescription {
	d := EDKDescription{ProviderID: edk.ProviderID}
	info := edk.ProviderInfo
	if utf8.Valid(info) {
		d.ProviderInfo = string(info)
	}
	switch edk.ProviderID {
	case string(KindKMS), string(KindKMSRSA):
		if d.ProviderInfo != "" {
			d.Kind = KeyringKind(edk.ProviderID)
		}
	case string(KindKMSHierarchy):
		ct := edk.Ciphertext
		if d.ProviderInfo != "" && len(ct) >= hierarchyVersionAt+16 {
			d.Kind = KindKMSHierarchy
			d.BranchKeyID = d.ProviderInfo
			d.BranchKeyVersion = formatUUID(ct[hierarchyVersionAt : hierarchyVersionAt+16])
		}
	case KMSECDHProviderID, RawECDHProviderID:
		if recip, sender, ok := splitECDHInfo(info); ok {
			d.Kind = KeyringKind(edk.ProviderID)
			d.RecipientPublicKey, d.SenderPublicKey = slices.Clone(recip), slices.Clone(sender)
			d.ProviderInfo = ""
		}
	default:
		if strings.HasPrefix(edk.ProviderID, "aws-kms") {
			break // a KMS keyring kind this library does not know
		}
		if name, ok := rawAESKeyName(info); ok {
			d.Kind, d.KeyNamespace, d.KeyName, d.ProviderInfo = KindRawAES, edk.ProviderID, name, ""
		} else if d.ProviderInfo != "" {
			d.Kind, d.KeyNamespace, d.KeyName = KindRawRSA, edk.ProviderID, d.ProviderInfo
		}
	}
	return d
}

// rawAESKeyName returns the key name of a raw AES provider info: key name,
// 128 (tag bits) and 12 (IV length) as 4-byte big-endian, a 12-byte IV.
func rawAESKeyName(info []byte) (string, bool) {
	const suffix = 8 + rawAESIVLength
	if len(info) <= suffix {
		return "", false
	}
	rest := info[len(info)-suffix:]
	name := info[:len(info)-suffix]
	if binary.BigEndian.Uint32(rest) != gcmTagLength*8 || binary.BigEndian.Uint32(rest[4:]) != rawAESIVLength || !utf8.Valid(name) {
		return "", false
	}
	return string(name), true
}

// splitECDHInfo splits an ECDH provider info of version 1: recipient
// then sender public key, each after a 4-byte length.
func splitECDHInfo(info []byte) (recipient, sender []byte, ok bool) {
	if len(info) < 9 || info[0] != ecdhwrap.Version {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(info[1:])
	if uint64(n) > uint64(len(info)-9) {
		return nil, nil, false
	}
	recipient = info[5 : 5+n]
	rest := info[5+n:]
	m := binary.BigEndian.Uint32(rest)
	if uint64(m) != uint64(len(rest)-4) {
		return nil, nil, false
	}
	return recipient, rest[4:], true
}

func formatUUID(b []byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:16])
	return string(s[:])
}
