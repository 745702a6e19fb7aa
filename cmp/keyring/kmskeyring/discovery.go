package kmskeyring

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// DiscoveryFilter limits a discovery keyring to the keys of some AWS
// accounts of one partition.
type DiscoveryFilter struct {
	// Partition is the ARN partition: "aws", "aws-cn", "aws-us-gov", ...
	Partition string
	// AccountIDs are the accounts whose keys the keyring may use; at
	// least one, none empty.
	AccountIDs []string
}

// ErrInvalidDiscoveryFilter: a [DiscoveryFilter] with an empty partition,
// no account ids or an empty account id.
var ErrInvalidDiscoveryFilter = errors.New("kmskeyring: invalid discovery filter")

// ErrDiscoveryCannotEncrypt: OnEncrypt of a discovery keyring, which names
// no key to encrypt with (the MPL fails there too). It matches
// [keyring.ErrKeyringCannotEncrypt].
var ErrDiscoveryCannotEncrypt = fmt.Errorf("%w (an AWS KMS discovery keyring)", keyring.ErrKeyringCannotEncrypt)

// ErrRegionMismatch: an MRK-aware discovery keyring configured for a
// region other than its KMS client's.
var ErrRegionMismatch = errors.New("kmskeyring: the region differs from the KMS client's")

func (f *DiscoveryFilter) validate() (*DiscoveryFilter, error) {
	if f == nil {
		return nil, nil
	}
	switch {
	case f.Partition == "":
		return nil, fmt.Errorf("%w: empty partition", ErrInvalidDiscoveryFilter)
	case len(f.AccountIDs) == 0:
		return nil, fmt.Errorf("%w: no account ids", ErrInvalidDiscoveryFilter)
	case slices.Contains(f.AccountIDs, ""):
		return nil, fmt.Errorf("%w: an empty account id", ErrInvalidDiscoveryFilter)
	}
	return &DiscoveryFilter{Partition: f.Partition, AccountIDs: slices.Clone(f.AccountIDs)}, nil
}

func (f *DiscoveryFilter) allows(a ARN) bool {
	return f == nil || (a.Partition == f.Partition && slices.Contains(f.AccountIDs, a.Account))
}

// discovery is the state both discovery keyrings share.
type discovery struct {
	kms     cmp.KMS
	withARN cmp.KMSWithKeyARN
	filter  *DiscoveryFilter
	region  string // the MRK-aware keyring's; "" for the plain one
}

// DiscoveryOptions tune [NewDiscovery] and [NewMRKDiscovery].
type DiscoveryOptions struct {
	// GrantTokens are the AWS KMS grant tokens the keyring sends on every
	// KMS Decrypt, as [Options.GrantTokens].
	GrantTokens []string
}

func newDiscovery(kms cmp.KMS, filter *DiscoveryFilter, optFns []func(*DiscoveryOptions)) (discovery, error) {
	if kms == nil {
		return discovery{}, errors.New("kmskeyring: a KMS client is required")
	}
	f, err := filter.validate()
	if err != nil {
		return discovery{}, err
	}
	var o DiscoveryOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if kms, err = withGrantTokens(kms, o.GrantTokens); err != nil {
		return discovery{}, err
	}
	withARN, _ := kms.(cmp.KMSWithKeyARN)
	return discovery{kms: kms, withARN: withARN, filter: f}, nil
}

// keyFor returns the key ARN to ask KMS to decrypt edk with, or "" when
// the keyring does not try edk. Provider infos were checked to be ARNs.
func (d *discovery) keyFor(edk keyring.EncryptedDataKey) string {
	if edk.ProviderID != ProviderID {
		return ""
	}
	arn, err := ParseARN(string(edk.ProviderInfo))
	if err != nil || arn.ResourceType != "key" || !d.filter.allows(arn) {
		return ""
	}
	if d.region == "" {
		return arn.String()
	}
	if !arn.IsMultiRegion() {
		if arn.Region != d.region {
			return ""
		}
		return arn.String()
	}
	arn.Region = d.region // the replica of the client's region
	return arn.String()
}

func (d *discovery) onDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	if m.HasDataKey() {
		return fmt.Errorf("%w: data key already set", keyring.ErrInvalidMaterials)
	}
	if err := checkProviderInfos(edks, ProviderID, true); err != nil {
		return err
	}
	ec := m.EncryptionContext()
	return keyring.UnwrapFirst(m, edks, func(edk keyring.EncryptedDataKey) bool {
		return d.keyFor(edk) != ""
	}, func(edk keyring.EncryptedDataKey, blob, _ []byte) ([]byte, error) {
		return decryptBlob(ctx, d.kms, d.withARN, d.keyFor(edk), blob, ec)
	})
}

func (d *discovery) describe(name string) string {
	var b strings.Builder
	b.WriteString("kmskeyring." + name + "{")
	if d.region != "" {
		b.WriteString(d.region)
	}
	if d.filter != nil {
		if d.region != "" {
			b.WriteString(", ")
		}
		b.WriteString(d.filter.Partition + ":" + strings.Join(d.filter.AccountIDs, ","))
	}
	b.WriteString("}")
	return b.String()
}

// DiscoveryKeyring is the MPL's AWS KMS discovery keyring: it decrypts with
// any AWS KMS key an item's "aws-kms" encrypted data keys name (within the
// discovery filter, if any), asking KMS to decrypt each in turn with the
// key its provider info names, and never encrypts. It is safe for
// concurrent use.
//
// The KMS client decides which regions it reaches: an [awskms.KMS] over
// one aws-sdk-go-v2 client reaches its own region only, so keys of other
// regions fail there (the MPL's discovery multi-keyring makes one keyring
// per region).
//
// [awskms.KMS]: https://pkg.go.dev/github.com/itemcrypto/go-itemcrypto/cmp/awskms#KMS
type DiscoveryKeyring struct{ d discovery }

var _ keyring.Keyring = (*DiscoveryKeyring)(nil)

// NewDiscovery returns a discovery keyring over kms; filter, when not nil,
// limits it to the keys of its partition and accounts.
func NewDiscovery(kms cmp.KMS, filter *DiscoveryFilter, optFns ...func(*DiscoveryOptions)) (*DiscoveryKeyring, error) {
	d, err := newDiscovery(kms, filter, optFns)
	if err != nil {
		return nil, err
	}
	return &DiscoveryKeyring{d: d}, nil
}

func (r *DiscoveryKeyring) String() string { return r.d.describe("DiscoveryKeyring") }

// OnEncrypt implements [keyring.Keyring]: it always fails with
// [ErrDiscoveryCannotEncrypt].
func (r *DiscoveryKeyring) OnEncrypt(context.Context, *keyring.EncryptionMaterials) error {
	return ErrDiscoveryCannotEncrypt
}

// OnDecrypt implements [keyring.Keyring]: an "aws-kms" EDK whose provider
// info is not a key ARN fails the call ([ErrInvalidProviderInfo]); those the
// filter allows are tried in order, each with the key it names.
func (r *DiscoveryKeyring) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	return r.d.onDecrypt(ctx, m, edks)
}

// MRKDiscoveryKeyring is the MPL's AWS KMS MRK-aware discovery keyring: a
// discovery keyring bound to one region. It tries the encrypted data keys
// of single-Region keys of its region and of multi-Region keys of any
// region, the latter with the replica of its region (the provider info's
// ARN with the region replaced), and checks KMS answered with the key it
// asked for. It never encrypts and is safe for concurrent use.
type MRKDiscoveryKeyring struct{ d discovery }

var _ keyring.Keyring = (*MRKDiscoveryKeyring)(nil)

// NewMRKDiscovery returns an MRK-aware discovery keyring for the region of
// kms. When kms reports its region (a Region() string method, as
// [awskms.KMS] has), a different region fails with [ErrRegionMismatch].
//
// [awskms.KMS]: https://pkg.go.dev/github.com/itemcrypto/go-itemcrypto/cmp/awskms#KMS.Region
func NewMRKDiscovery(kms cmp.KMS, region string, filter *DiscoveryFilter, optFns ...func(*DiscoveryOptions)) (*MRKDiscoveryKeyring, error) {
	if region == "" {
		return nil, errors.New("kmskeyring: an MRK-aware discovery keyring needs a region")
	}
	d, err := newDiscovery(kms, filter, optFns)
	if err != nil {
		return nil, err
	}
	if r, ok := kms.(interface{ Region() string }); ok {
		if cr := r.Region(); cr != "" && cr != region {
			return nil, fmt.Errorf("%w: %s, the client's %s", ErrRegionMismatch, region, cr)
		}
	}
	d.region = region
	return &MRKDiscoveryKeyring{d: d}, nil
}

// Region returns the configured region.
func (r *MRKDiscoveryKeyring) Region() string { return r.d.region }

func (r *MRKDiscoveryKeyring) String() string { return r.d.describe("MRKDiscoveryKeyring") }

// OnEncrypt implements [keyring.Keyring]: it always fails with
// [ErrDiscoveryCannotEncrypt].
func (r *MRKDiscoveryKeyring) OnEncrypt(context.Context, *keyring.EncryptionMaterials) error {
	return ErrDiscoveryCannotEncrypt
}

// OnDecrypt implements [keyring.Keyring] as the MPL specifies it.
func (r *MRKDiscoveryKeyring) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	return r.d.onDecrypt(ctx, m, edks)
}
