package keystore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

type kmsMode uint8

const (
	modeUnset kmsMode = iota
	modeKeyARN
	modeMRKeyARN
	modeDiscovery
	modeMRDiscovery
)

// KMSConfig says which AWS KMS key wraps the store's keys and which keys
// the store accepts on read: the MPL's "AWS KMS Configuration". Make one
// with [KeyARN], [MRKeyARN], [Discovery] or [MRDiscovery].
type KMSConfig struct {
	mode   kmsMode
	arn    string
	region string
}

// KeyARN wraps new keys under the KMS key arn (a key ARN, never an alias)
// and reads only items whose kms-arn is exactly arn.
func KeyARN(keyARN string) KMSConfig { return KMSConfig{mode: modeKeyARN, arn: keyARN} }

// MRKeyARN wraps new keys under keyARN and reads items whose kms-arn is the
// same multi-Region key in any Region (or exactly keyARN).
func MRKeyARN(keyARN string) KMSConfig { return KMSConfig{mode: modeMRKeyARN, arn: keyARN} }

// Discovery reads items under whatever KMS key their kms-arn names; the
// store cannot create or version keys.
func Discovery() KMSConfig { return KMSConfig{mode: modeDiscovery} }

// MRDiscovery is [Discovery] that calls KMS for a multi-Region key in
// region instead of the Region in the item's kms-arn.
func MRDiscovery(region string) KMSConfig { return KMSConfig{mode: modeMRDiscovery, region: region} }

// String names the configuration (no secret in it).
func (c KMSConfig) String() string {
	switch c.mode {
	case modeKeyARN:
		return "KeyARN(" + c.arn + ")"
	case modeMRKeyARN:
		return "MRKeyARN(" + c.arn + ")"
	case modeDiscovery:
		return "Discovery"
	case modeMRDiscovery:
		return "MRDiscovery(" + c.region + ")"
	}
	return "unset"
}

// ARN is the configured key ARN, "" for the discovery configurations.
func (c KMSConfig) ARN() string { return c.arn }

func (c KMSConfig) canWrite() bool { return c.mode == modeKeyARN || c.mode == modeMRKeyARN }

func (c KMSConfig) validate() error {
	switch c.mode {
	case modeKeyARN, modeMRKeyARN:
		if _, err := parseKeyARN(c.arn); err != nil {
			return fmt.Errorf("keystore: KMS configuration: %w", err)
		}
	case modeDiscovery:
	case modeMRDiscovery:
		if c.region == "" {
			return errors.New("keystore: KMS configuration: MRDiscovery needs a region")
		}
	default:
		return errors.New("keystore: Options.KMS is required (KeyARN, MRKeyARN, Discovery or MRDiscovery)")
	}
	return nil
}

// kmsARN is a parsed KMS key ARN.
type kmsARN struct {
	arn.ARN
	resourceType, resourceID string
}

func (a kmsARN) multiRegion() bool {
	return a.resourceType == "key" && strings.HasPrefix(a.resourceID, "mrk-")
}

// parseKMSARN parses an AWS KMS ARN (key or alias), as the MPL's
// ParseAwsKmsArn does.
func parseKMSARN(s string) (kmsARN, error) {
	if len(s) < 1 || len(s) > 2048 {
		return kmsARN{}, errors.New("KMS key id must be 1 to 2048 characters")
	}
	a, err := arn.Parse(s)
	if err != nil || a.Partition == "" || a.Service != "kms" || a.Region == "" || a.AccountID == "" {
		return kmsARN{}, fmt.Errorf("%q is not an AWS KMS ARN", s)
	}
	typ, id, ok := strings.Cut(a.Resource, "/")
	if !ok || id == "" || (typ != "key" && typ != "alias") {
		return kmsARN{}, fmt.Errorf("%q is not an AWS KMS key or alias ARN", s)
	}
	return kmsARN{ARN: a, resourceType: typ, resourceID: id}, nil
}

// parseKeyARN accepts a KMS key ARN and refuses an alias (the MPL's
// ValidKmsArn?).
func parseKeyARN(s string) (kmsARN, error) {
	a, err := parseKMSARN(s)
	if err != nil {
		return a, err
	}
	if a.resourceType != "key" {
		return a, fmt.Errorf("%q is an alias; the key store needs a key ARN", s)
	}
	return a, nil
}

// mrkMatch is the MPL's AWS KMS MRK Match for Decrypt: equal identifiers
// match; otherwise both must be multi-Region keys that differ at most in
// their Region.
func mrkMatch(x, y string) bool {
	if x == y {
		return true
	}
	a, errA := parseKMSARN(x)
	b, errB := parseKMSARN(y)
	if errA != nil || errB != nil || !a.multiRegion() || !b.multiRegion() {
		return false
	}
	return a.Partition == b.Partition && a.Service == b.Service && a.AccountID == b.AccountID &&
		a.resourceType == b.resourceType && a.resourceID == b.resourceID
}

// accepts reports whether the store may use an item whose kms-arn is
// itemARN (the MPL's AttemptKmsOperation?). itemARN must be a key ARN in
// every configuration.
func (c KMSConfig) accepts(itemARN string) bool {
	if _, err := parseKeyARN(itemARN); err != nil {
		return false
	}
	switch c.mode {
	case modeKeyARN:
		return itemARN == c.arn
	case modeMRKeyARN:
		return mrkMatch(c.arn, itemARN)
	case modeDiscovery, modeMRDiscovery:
		return true
	}
	return false
}

// decryptKeyID is the KeyId of the KMS Decrypt of an item whose kms-arn is
// itemARN (the MPL's GetArn).
func (c KMSConfig) decryptKeyID(itemARN string) string {
	switch c.mode {
	case modeKeyARN, modeMRKeyARN:
		return c.arn
	case modeMRDiscovery:
		a, err := parseKMSARN(itemARN)
		if err != nil || !a.multiRegion() {
			return itemARN
		}
		a.Region = c.region
		return a.ARN.String()
	}
	return itemARN
}
