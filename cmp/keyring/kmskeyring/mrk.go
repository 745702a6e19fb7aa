package kmskeyring

import (
	"context"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// IsMultiRegion reports whether the ARN names an AWS KMS multi-Region key
// ("aws-kms-key-arn.md", identifying a multi-Region ARN): a key (not an
// alias) whose id starts with "mrk-".
func (a ARN) IsMultiRegion() bool {
	return a.ResourceType == "key" && strings.HasPrefix(a.ResourceID, "mrk-")
}

// IsMultiRegionIdentifier reports whether an AWS KMS key identifier names a
// multi-Region key: an ARN as [ARN.IsMultiRegion] says (false for an
// invalid ARN), an alias never, a key id when it starts with "mrk-".
func IsMultiRegionIdentifier(id string) bool {
	switch {
	case strings.HasPrefix(id, "arn:"):
		arn, err := ParseARN(id)
		return err == nil && arn.IsMultiRegion()
	case strings.HasPrefix(id, "alias/"):
		return false
	}
	return strings.HasPrefix(id, "mrk-")
}

// MRKMatchForDecrypt is the MPL's "AWS KMS MRK Match for Decrypt": whether
// the configured key identifier may decrypt what the message's identifier
// (an EDK's provider info) encrypted. Identical identifiers match; else
// both must be multi-Region key ARNs that differ at most in their region.
func MRKMatchForDecrypt(configured, message string) bool {
	if configured == message {
		return true
	}
	c, err1 := ParseARN(configured)
	m, err2 := ParseARN(message)
	if err1 != nil || err2 != nil || !c.IsMultiRegion() || !m.IsMultiRegion() {
		return false
	}
	return c.Partition == m.Partition && c.Account == m.Account && c.ResourceType == m.ResourceType && c.ResourceID == m.ResourceID
}

// MRKKeyring is the MPL's AWS KMS MRK-aware (strict) keyring: it encrypts
// as [Keyring] does, and decrypts the encrypted data keys of its own key
// and, when that key is a multi-Region key, of its replicas in every other
// region ([MRKMatchForDecrypt]), asking KMS to decrypt with the configured
// key (of the client's region) and checking KMS answered with it. It is
// safe for concurrent use.
type MRKKeyring struct {
	k *Keyring
}

var _ keyring.Keyring = (*MRKKeyring)(nil)

// NewMRK returns an MRK-aware keyring for the AWS KMS key keyID, configured
// as for [New]: a key ARN (of the client's region, for a multi-Region key)
// encrypts and decrypts, an alias or key id only encrypts.
func NewMRK(kms cmp.KMS, keyID string, optFns ...func(*Options)) (*MRKKeyring, error) {
	k, err := New(kms, keyID, optFns...)
	if err != nil {
		return nil, err
	}
	k.mrk = true
	return &MRKKeyring{k: k}, nil
}

// KeyID returns the configured key identifier.
func (r *MRKKeyring) KeyID() string { return r.k.keyID }

func (r *MRKKeyring) String() string { return "kmskeyring.MRKKeyring{" + r.k.keyID + "}" }

// OnEncrypt implements [keyring.Keyring] as [Keyring.OnEncrypt] does.
func (r *MRKKeyring) OnEncrypt(ctx context.Context, m *keyring.EncryptionMaterials) error {
	return r.k.OnEncrypt(ctx, m)
}

// OnDecrypt implements [keyring.Keyring]: an "aws-kms" EDK whose provider
// info is not a key ARN fails the call ([ErrInvalidProviderInfo]); the EDKs
// that match the configured key ([MRKMatchForDecrypt]) are tried in order.
func (r *MRKKeyring) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	return r.k.OnDecrypt(ctx, m, edks)
}
