package kmskeyring

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// ClientSupplier returns the KMS client of an AWS Region: the MPL's
// regional client supplier. region "" asks for the client of the SDK's
// default Region (a key given by alias or key id, not by ARN).
// awskms.RegionalClients makes one from an aws.Config. It is called once
// per keyring while the multi-keyring is built, never while it works.
type ClientSupplier func(region string) (cmp.KMS, error)

// ErrClientSupplierRequired: a multi-keyring constructor was given no
// ClientSupplier. The MPL would build default AWS SDK clients; a Go
// program passes its aws.Config through awskms.RegionalClients instead,
// so no configuration is loaded behind its back.
var ErrClientSupplierRequired = errors.New("kmskeyring: a ClientSupplier is required (awskms.RegionalClients(cfg) makes one)")

// ErrDuplicateMRK: two of the keys given to [NewMRKMulti] are replicas of
// one multi-Region key (the same mrk- id in several Regions), which leaves
// open which Region to call (the MPL's "Assert AWS KMS MRK are unique").
// The error names every such identifier.
var ErrDuplicateMRK = errors.New("kmskeyring: multi-Region key ids given more than once")

// regionOf is the Region of an identifier: an ARN's, "" otherwise.
func regionOf(id string) string {
	if arn, err := ParseARN(id); err == nil {
		return arn.Region
	}
	return ""
}

// client calls clients for region and names the Region on failure.
func client(clients ClientSupplier, region string) (cmp.KMS, error) {
	k, err := clients(region)
	if err == nil && k == nil {
		err = errors.New("no client")
	}
	if err != nil {
		return nil, fmt.Errorf("kmskeyring: the KMS client of Region %q: %w", region, err)
	}
	return k, nil
}

// NewMulti is the MPL's AWS KMS Multi-Keyring: a multi-keyring whose
// generator is a strict [Keyring] on generator ("" for none: the
// multi-keyring is then a child that needs a data key, as
// [keyring.NewMulti] without a generator) and whose children are strict
// keyrings on children, each with the client clients returns for the
// Region of its ARN ("" for an alias or key id). optFns apply to each
// keyring. Every identifier is checked before clients is called (1 to
// 2048 ASCII characters: a key or alias ARN, an alias name or a key id, as
// the MPL's IsAwsKmsIdentifierString has it); an invalid one fails.
func NewMulti(clients ClientSupplier, generator string, children []string, optFns ...func(*Options)) (*keyring.Multi, error) {
	return newMulti(clients, generator, children, false, optFns)
}

// NewMRKMulti is the MPL's AWS KMS MRK Multi-Keyring: as [NewMulti] with
// [MRKKeyring]s, once the identifiers are checked to name each
// multi-Region key once ([ErrDuplicateMRK]).
func NewMRKMulti(clients ClientSupplier, generator string, children []string, optFns ...func(*Options)) (*keyring.Multi, error) {
	ids := slices.Clone(children)
	if generator != "" {
		ids = append([]string{generator}, ids...)
	}
	if err := assertMRKsUnique(ids); err != nil {
		return nil, err
	}
	return newMulti(clients, generator, children, true, optFns)
}

func newMulti(clients ClientSupplier, generator string, children []string, mrk bool, optFns []func(*Options)) (*keyring.Multi, error) {
	if clients == nil {
		return nil, ErrClientSupplierRequired
	}
	if generator == "" && len(children) == 0 {
		return nil, errors.New("kmskeyring: a multi-keyring needs a generator or at least one child key")
	}
	// Every identifier is checked before the supplier is asked for a
	// client, as in the MPL.
	if generator != "" && !validIdentifier(generator) {
		return nil, fmt.Errorf("kmskeyring: the generator %q is not an AWS KMS key identifier", generator)
	}
	for i, id := range children {
		if !validIdentifier(id) {
			return nil, fmt.Errorf("kmskeyring: child key %d, %q, is not an AWS KMS key identifier", i, id)
		}
	}
	one := func(id string) (keyring.Keyring, error) {
		k, err := client(clients, regionOf(id))
		if err != nil {
			return nil, err
		}
		if mrk {
			return NewMRK(k, id, optFns...)
		}
		return New(k, id, optFns...)
	}
	var gen keyring.Keyring
	if generator != "" {
		var err error
		if gen, err = one(generator); err != nil {
			return nil, err
		}
	}
	kids := make([]keyring.Keyring, 0, len(children))
	for _, id := range children {
		k, err := one(id)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	return keyring.NewMulti(gen, kids...)
}

// assertMRKsUnique fails when two multi-Region key identifiers share a
// resource id, naming all of them.
func assertMRKsUnique(ids []string) error {
	byID := map[string][]string{}
	var order []string
	for _, id := range ids {
		if !IsMultiRegionIdentifier(id) {
			continue
		}
		res := id
		if arn, err := ParseARN(id); err == nil {
			res = arn.ResourceID
		}
		if _, ok := byID[res]; !ok {
			order = append(order, res)
		}
		byID[res] = append(byID[res], id)
	}
	var dup []string
	for _, res := range order {
		if len(byID[res]) > 1 {
			dup = append(dup, byID[res]...)
		}
	}
	if len(dup) > 0 {
		return fmt.Errorf("%w: %s", ErrDuplicateMRK, strings.Join(dup, ", "))
	}
	return nil
}

// NewDiscoveryMulti is the MPL's AWS KMS Discovery Multi-Keyring: a
// multi-keyring without generator whose children are [DiscoveryKeyring]s,
// one per Region of regions with the client clients returns for it, each
// with filter and optFns. An empty list or Region, or an invalid filter,
// fails before clients is called.
func NewDiscoveryMulti(clients ClientSupplier, regions []string, filter *DiscoveryFilter, optFns ...func(*DiscoveryOptions)) (*keyring.Multi, error) {
	return newDiscoveryMulti(clients, regions, filter, func(k cmp.KMS, _ string) (keyring.Keyring, error) {
		return NewDiscovery(k, filter, optFns...)
	})
}

// NewMRKDiscoveryMulti is the MPL's AWS KMS MRK Discovery Multi-Keyring:
// as [NewDiscoveryMulti] with [MRKDiscoveryKeyring]s, each reading the
// replicas of its Region.
func NewMRKDiscoveryMulti(clients ClientSupplier, regions []string, filter *DiscoveryFilter, optFns ...func(*DiscoveryOptions)) (*keyring.Multi, error) {
	return newDiscoveryMulti(clients, regions, filter, func(k cmp.KMS, region string) (keyring.Keyring, error) {
		return NewMRKDiscovery(k, region, filter, optFns...)
	})
}

func newDiscoveryMulti(clients ClientSupplier, regions []string, filter *DiscoveryFilter, build func(cmp.KMS, string) (keyring.Keyring, error)) (*keyring.Multi, error) {
	if clients == nil {
		return nil, ErrClientSupplierRequired
	}
	if len(regions) == 0 {
		return nil, errors.New("kmskeyring: a discovery multi-keyring needs at least one Region")
	}
	// The Regions and the filter are checked before the supplier is asked
	// for a client, as the MPL checks the Regions.
	for i, region := range regions {
		if region == "" {
			return nil, fmt.Errorf("kmskeyring: Region %d of the discovery multi-keyring is empty", i)
		}
	}
	if _, err := filter.validate(); err != nil {
		return nil, err
	}
	kids := make([]keyring.Keyring, 0, len(regions))
	for _, region := range regions {
		k, err := client(clients, region)
		if err != nil {
			return nil, err
		}
		kr, err := build(k, region)
		if err != nil {
			return nil, err
		}
		kids = append(kids, kr)
	}
	return keyring.NewMulti(nil, kids...)
}
