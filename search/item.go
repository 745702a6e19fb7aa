package search

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
)

// AddSignedBeacons is the DB-ESDK's AddSignedBeacons, to run on the
// plaintext item before it is encrypted: it returns a copy of item with each
// signed beacon (a compound beacon with no encrypted part) that the item's
// attributes build, under the beacon's own name, which the policy makes
// SignOnly so the beacon is signed with the item. A supplied value of a
// signed beacon that differs from the one built is an *ItemError. With a
// multi-tenant key source whose key field is DoNothing, the key field is
// left out of the copy (it is not stored).
//
// The DB-ESDK adds the version tag aws_dbe_v_1 here too; it is outside the
// signature, and our encryptor refuses reserved names, so EncryptedBeacons
// returns it instead: the stored item is the same.
func (s *Search) AddSignedBeacons(item Item) (Item, error) {
	out := maps.Clone(item)
	if out == nil {
		out = Item{}
	}
	for _, c := range s.cmpOrder {
		if !c.signed {
			continue
		}
		v, ok, err := s.compoundValue(c, item, nil, 0)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if have, exists := item[c.name]; exists {
			if hs, isS := have.(*types.AttributeValueMemberS); !isS || hs.Value != v {
				return nil, &ItemError{Beacon: c.name, Attribute: c.name, Reason: "the item's value of this signed beacon differs from the one its parts build"}
			}
		}
		out[c.name] = &types.AttributeValueMemberS{Value: v}
	}
	if s.deleteKeyField {
		delete(out, s.keyField)
	}
	return out, nil
}

// EncryptedBeacons is the DB-ESDK's GetEncryptedBeacons: the attributes to
// add to the encrypted item before it is written, computed from the
// plaintext item as the caller gave it (before AddSignedBeacons):
// aws_dbe_b_<name> for each standard beacon (except PartOnly ones) and each
// compound beacon with an encrypted part that the item builds, and the
// version tag aws_dbe_v_1. All standard beacons of the item use one
// partition, from the PartitionSelector.
//
// encrypted is the item Encrypt returned. With a multi-tenant key source
// the beacon key is that of the branch key that encrypted the item, read
// from its header (the DB-ESDK's "get beacon key id from parsed header": one
// encrypted data key, of the hierarchical keyring); with a single key
// source encrypted is not read.
func (s *Search) EncryptedBeacons(ctx context.Context, plaintext, encrypted Item) (Item, error) {
	keys, err := s.itemKeys(ctx, encrypted)
	if err != nil {
		return nil, err
	}
	partition, err := s.partition(plaintext)
	if err != nil {
		return nil, err
	}
	return s.beaconsIn(plaintext, encrypted, keys, partition)
}

// itemKeys are the HMAC keys of an encrypted item's beacons.
func (s *Search) itemKeys(ctx context.Context, encrypted Item) (*hmacKeys, error) {
	id := s.singleKeyID
	if s.keyField != "" {
		var err error
		if id, err = BeaconKeyIDFromHeader(encrypted); err != nil {
			return nil, err
		}
	}
	return s.keys.get(ctx, id)
}

// BeaconsCurrent reports whether stored, the beacon attributes an item
// carries (aws_dbe_b_<name> and aws_dbe_v_1; other attributes are
// ignored), are exactly those EncryptedBeacons writes for plaintext and
// encrypted: in the partition the PartitionSelector gives, or, without a
// selector, in any one partition (EncryptedBeacons picks one at random).
// String sets compare as sets. A tool that rewrites items (a rotation)
// uses it to leave alone the items whose beacons are already right.
func (s *Search) BeaconsCurrent(ctx context.Context, plaintext, encrypted, stored Item) (bool, error) {
	have := Item{}
	for name, v := range stored {
		if strings.HasPrefix(name, BeaconPrefix) || name == VersionTag {
			have[name] = v
		}
	}
	keys, err := s.itemKeys(ctx, encrypted)
	if err != nil {
		return false, err
	}
	first, last := 0, s.maxPart-1
	if s.selector != nil || s.maxPart == 1 {
		if first, err = s.partition(plaintext); err != nil {
			return false, err
		}
		last = first
	}
	for p := first; p <= last; p++ {
		want, err := s.beaconsIn(plaintext, encrypted, keys, p)
		if err != nil {
			return false, err
		}
		if sameBeacons(have, want) {
			return true, nil
		}
	}
	return false, nil
}

// sameBeacons reports whether two sets of beacon attributes are equal;
// string sets compare as sets.
func sameBeacons(a, b Item) bool {
	if len(a) != len(b) {
		return false
	}
	for name, av := range a {
		switch x := av.(type) {
		case *types.AttributeValueMemberS:
			y, ok := b[name].(*types.AttributeValueMemberS)
			if !ok || x.Value != y.Value {
				return false
			}
		case *types.AttributeValueMemberSS:
			y, ok := b[name].(*types.AttributeValueMemberSS)
			if !ok || len(x.Value) != len(y.Value) {
				return false
			}
			for _, m := range x.Value {
				if !slices.Contains(y.Value, m) {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// beaconsIn is EncryptedBeacons in the given partition.
func (s *Search) beaconsIn(plaintext, encrypted Item, keys *hmacKeys, partition int) (Item, error) {
	out := make(Item, len(s.stdOrder)+len(s.cmpOrder)+1)
	for _, b := range s.stdOrder {
		if b.partOnly {
			continue
		}
		v, ok, err := s.standardValue(b, plaintext, keys, partition)
		if err != nil {
			return nil, err
		}
		if ok {
			out[BeaconPrefix+b.name] = v
		}
	}
	for _, c := range s.cmpOrder {
		if c.signed {
			continue
		}
		v, ok, err := s.compoundValue(c, plaintext, keys, partition)
		if err != nil {
			return nil, err
		}
		if ok {
			out[BeaconPrefix+c.name] = &types.AttributeValueMemberS{Value: v}
		}
	}
	out[VersionTag] = &types.AttributeValueMemberS{Value: " "}
	for k := range out {
		if _, clash := encrypted[k]; clash {
			return nil, &ItemError{Beacon: k, Attribute: k, Reason: "the encrypted item already has this attribute"}
		}
	}
	return out, nil
}

func (s *Search) partition(item Item) (int, error) {
	if s.maxPart == 1 {
		return 0, nil
	}
	if s.selector == nil {
		return rand.IntN(s.maxPart), nil
	}
	p, err := s.selector.PartitionNumber(item, s.maxPart, s.opts.LogicalTableName)
	if err != nil {
		return 0, fmt.Errorf("search: partition selector: %w", err)
	}
	if p < 0 || p >= s.maxPart {
		return 0, fmt.Errorf("%w: the partition selector returned %d, want 0..%d", ErrInvalidItem, p, s.maxPart-1)
	}
	return p, nil
}

// BeaconKeyIDFromHeader returns the branch key id that encrypted a DB-ESDK
// item: the provider info of its header's only encrypted data key, which
// must be the hierarchical keyring's.
func BeaconKeyIDFromHeader(encrypted Item) (string, error) {
	h, ok := encrypted[dbe.HeaderAttribute].(*types.AttributeValueMemberB)
	if !ok {
		return "", fmt.Errorf("%w: multi-tenant beacons need the DB-ESDK header (%s) of the encrypted item", ErrBeaconKey, dbe.HeaderAttribute)
	}
	hd, err := header.Parse(h.Value)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBeaconKey, err)
	}
	if len(hd.EDKs) != 1 {
		return "", fmt.Errorf("%w: the header has %d encrypted data keys; multi-tenant beacons need exactly one", ErrBeaconKey, len(hd.EDKs))
	}
	if hd.EDKs[0].ProviderID != hierarchy.ProviderID {
		return "", fmt.Errorf("%w: the item's data key is not wrapped by the hierarchical keyring", ErrBeaconKey)
	}
	id := hd.EDKs[0].ProviderInfo
	if len(id) == 0 || !utf8.Valid(id) {
		return "", fmt.Errorf("%w: the header's branch key id is not valid UTF-8", ErrBeaconKey)
	}
	return string(id), nil
}

// RemoveBeacons is the DB-ESDK's RemoveBeacons: a copy of item without the
// attributes whose names start with ReservedPrefix (aws_dbe_b_ beacons,
// the version tag). Signed beacons stay: they are the customer's.
func RemoveBeacons(item Item) Item {
	out := make(Item, len(item))
	for k, v := range item {
		if !IsReserved(k) {
			out[k] = v
		}
	}
	return out
}

// StandardBeaconValues returns the stored values the standard beacon
// named beacon (neither AsSet nor PartOnly) takes for an item whose value
// at the beacon's location is v: one per beacon partition an item may have
// been written in, without duplicates, in partition order. It is what a
// store that can send one disjunction (MongoDB's $in) queries; the DB-ESDK
// sends one query per partition instead. Only a single key source is
// supported: a multi-tenant query must name its branch key, which this call
// has no way to take. It is Term's Values for an Equals query; Term also
// answers compound beacons, prefixes, sets and multi-tenant queries.
func (s *Search) StandardBeaconValues(ctx context.Context, beacon string, v types.AttributeValue) ([]string, error) {
	t, err := s.Term(ctx, TermQuery{Beacon: beacon, Value: v})
	if err != nil {
		return nil, err
	}
	return t.Values, nil
}

// Protect writes item as every adapter with beacons stores it: encrypt (an
// itemcrypto Encryptor's Encrypt, under a policy that makes each signed
// beacon SignOnly, see [Config.SignOnlyOverrides]) runs on item with its
// signed beacons (AddSignedBeacons), so they are signed with it; the stored
// beacons and the version tag (EncryptedBeacons, outside the signature) are
// added to what encrypt returned. Nothing is returned on error.
func (s *Search) Protect(ctx context.Context, item Item, encrypt func(context.Context, Item) (Item, error)) (Item, error) {
	// Beacons are written here only: an item that brings an aws_dbe_
	// attribute of its own is refused by the encryptor.
	signed, err := s.AddSignedBeacons(item)
	if err != nil {
		return nil, err
	}
	stored, err := encrypt(ctx, signed)
	if err != nil {
		return nil, err
	}
	beacons, err := s.EncryptedBeacons(ctx, item, stored)
	if err != nil {
		return nil, err
	}
	maps.Copy(stored, beacons)
	return stored, nil
}
