package keystore

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names and values of the table, as the MPL's Structure.dfy names
// them. Every attribute of an item except enc is in the KMS encryption
// context of its enc; tablename is in the context only.
const (
	AttrBranchKeyID      = "branch-key-id"
	AttrType             = "type"
	AttrCreateTime       = "create-time"
	AttrHierarchyVersion = "hierarchy-version"
	AttrKMSARN           = "kms-arn"
	AttrEnc              = "enc"
	AttrVersion          = "version"
	// ContextTableName is the encryption-context key of the logical key
	// store name; it is never an attribute.
	ContextTableName = "tablename"

	// TypeVersionPrefix + version is the type of a version item and the
	// version attribute of the active item.
	TypeVersionPrefix = "branch:version:"
	TypeActive        = "branch:ACTIVE"
	TypeBeacon        = "beacon:ACTIVE"
	// CustomContextPrefix prefixes each key of a branch key's custom
	// encryption context, as attribute name and as context key.
	CustomContextPrefix = "aws-crypto-ec:"

	hierarchyVersion = "1"
	// timeFormat is the create-time: ISO 8601 in UTC with microseconds.
	timeFormat = "2006-01-02T15:04:05.000000Z"

	maxCiphertext    = 6144  // the KMS limit on a ciphertext blob
	maxAttributeName = 65535 // bytes, DynamoDB's limit
)

// ErrInvalidItem: an item of the table is not a branch key item of the
// expected kind (a missing or mistyped attribute, a type and version that
// disagree). The error names the attribute, never its value.
var ErrInvalidItem = errors.New("keystore: not a valid branch key item")

func invalid(attr, reason string) error {
	return fmt.Errorf("%w: attribute %q %s", ErrInvalidItem, attr, reason)
}

// decryptOnlyContext is the KMS encryption context of a new version item
// (the MPL's DecryptOnlyBranchKeyEncryptionContext).
func decryptOnlyContext(id, version, created, logicalName, kmsARN string, custom map[string]string) map[string]string {
	ec := map[string]string{
		AttrBranchKeyID:      id,
		AttrType:             TypeVersionPrefix + version,
		AttrCreateTime:       created,
		ContextTableName:     logicalName,
		AttrKMSARN:           kmsARN,
		AttrHierarchyVersion: hierarchyVersion,
	}
	for k, v := range custom {
		ec[CustomContextPrefix+k] = v
	}
	return ec
}

// activeContext is the context of the active item of a version.
func activeContext(decryptOnly map[string]string) map[string]string {
	ec := maps.Clone(decryptOnly)
	ec[AttrVersion] = decryptOnly[AttrType]
	ec[AttrType] = TypeActive
	return ec
}

// beaconContext is the context of the beacon item.
func beaconContext(decryptOnly map[string]string) map[string]string {
	ec := maps.Clone(decryptOnly)
	ec[AttrType] = TypeBeacon
	return ec
}

// newVersionContext is the decrypt-only context of a new version made from
// the active item's context: everything stays (kms-arn, custom context,
// logical name) but type and create-time.
func newVersionContext(active map[string]string, version, created string) map[string]string {
	ec := maps.Clone(active)
	delete(ec, AttrVersion)
	ec[AttrType] = TypeVersionPrefix + version
	ec[AttrCreateTime] = created
	return ec
}

// toItem is the item of a context and its wrapped key (the MPL's
// ToAttributeMap): every pair but tablename as a string attribute,
// hierarchy-version as a number, enc as binary.
func toItem(ec map[string]string, enc []byte) map[string]types.AttributeValue {
	item := make(map[string]types.AttributeValue, len(ec))
	for k, v := range ec {
		switch k {
		case ContextTableName:
		case AttrHierarchyVersion:
			item[k] = &types.AttributeValueMemberN{Value: v}
		default:
			item[k] = &types.AttributeValueMemberS{Value: v}
		}
	}
	item[AttrEnc] = &types.AttributeValueMemberB{Value: enc}
	return item
}

// itemContext checks that item is a branch key item (the MPL's
// BranchKeyItem?) and returns the KMS encryption context it was encrypted
// under (ToBranchKeyContext) and its enc.
func itemContext(item map[string]types.AttributeValue, logicalName string) (map[string]string, []byte, error) {
	ec := make(map[string]string, len(item))
	var enc []byte
	for k, v := range item {
		if len(k) == 0 || len(k) > maxAttributeName {
			return nil, nil, invalid(k, "has an invalid name")
		}
		switch k {
		case AttrEnc:
			b, ok := v.(*types.AttributeValueMemberB)
			if !ok || len(b.Value) == 0 || len(b.Value) > maxCiphertext {
				return nil, nil, invalid(k, "is not a binary KMS ciphertext")
			}
			enc = b.Value
		case AttrHierarchyVersion:
			n, ok := v.(*types.AttributeValueMemberN)
			if !ok {
				return nil, nil, invalid(k, "is not a number")
			}
			ec[k] = n.Value
		case ContextTableName:
			return nil, nil, invalid(k, "must not be stored")
		default:
			s, ok := v.(*types.AttributeValueMemberS)
			if !ok {
				return nil, nil, invalid(k, "is not a string")
			}
			ec[k] = s.Value
		}
	}
	for _, k := range []string{AttrBranchKeyID, AttrType, AttrCreateTime, AttrHierarchyVersion, AttrKMSARN, AttrEnc} {
		if _, ok := item[k]; !ok {
			return nil, nil, invalid(k, "is missing")
		}
	}
	if ec[AttrBranchKeyID] == "" {
		return nil, nil, invalid(AttrBranchKeyID, "is empty")
	}
	if arn := ec[AttrKMSARN]; len(arn) == 0 || len(arn) > 2048 {
		return nil, nil, invalid(AttrKMSARN, "is not a KMS key id")
	}
	typ := ec[AttrType]
	version, hasVersion := ec[AttrVersion]
	switch {
	case typ == TypeActive:
		if !hasVersion || !isVersionType(version) {
			return nil, nil, invalid(AttrVersion, "of an active item must be "+TypeVersionPrefix+"<version>")
		}
	case typ == TypeBeacon || isVersionType(typ):
		if hasVersion {
			return nil, nil, invalid(AttrVersion, "must only be on the active item")
		}
	default:
		return nil, nil, invalid(AttrType, "is not "+TypeActive+", "+TypeBeacon+" or "+TypeVersionPrefix+"<version>")
	}
	ec[ContextTableName] = logicalName
	return ec, enc, nil
}

func isVersionType(s string) bool {
	return len(s) > len(TypeVersionPrefix) && strings.HasPrefix(s, TypeVersionPrefix)
}

// branchKeyVersion is the version a branch key item's context names.
func branchKeyVersion(ec map[string]string) string {
	v, ok := ec[AttrVersion]
	if !ok {
		v = ec[AttrType]
	}
	return strings.TrimPrefix(v, TypeVersionPrefix)
}

// customContext is the custom encryption context in ec, without prefix.
func customContext(ec map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range ec {
		if rest, ok := strings.CutPrefix(k, CustomContextPrefix); ok {
			out[rest] = v
		}
	}
	return out
}

// checkCustomContext validates a caller's custom context. Errors name the
// key, never the value.
func checkCustomContext(custom map[string]string) error {
	for k, v := range custom {
		if !utf8.ValidString(k) {
			return errors.New("keystore: a custom encryption context key is not valid UTF-8")
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("keystore: the value of custom encryption context key %q is not valid UTF-8", k)
		}
		if len(CustomContextPrefix)+len(k) > maxAttributeName {
			return fmt.Errorf("keystore: custom encryption context key %.40q... is too long for an attribute name", k)
		}
	}
	return nil
}
