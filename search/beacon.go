package search

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/mac"
)

// basicHash is the DB-ESDK's basicHash: HMAC-SHA384 of data (followed by
// the partition byte when partition is not 0) under key, the first 8 bytes
// read as a big-endian integer, its rightmost length bits in lower-case hex,
// ceil(length/4) digits.
func basicHash(key *[64]byte, data []byte, partition int, length int) string {
	w := mac.New384(key[:])
	w.Write(data)
	if partition != 0 {
		w.Write([]byte{byte(partition)})
	}
	var sum [48]byte
	w.Sum384(&sum)
	return formatBits(binary.BigEndian.Uint64(sum[:8]), length)
}

// formatBits is the rightmost length bits of v in lower-case hex, in
// ceil(length/4) digits (the DB-ESDK's BytesToHex).
func formatBits(v uint64, length int) string {
	v &= 1<<uint(length) - 1
	digits := (length + 3) / 4
	var buf [16]byte
	h := strconv.AppendUint(buf[:0], v, 16)
	if pad := digits - len(h); pad > 0 {
		return strings.Repeat("0", pad) + string(h)
	}
	return string(h)
}

// partitionFor is the partition the beacon is encoded in when the item or
// query is in partition p: p modulo the beacon's number of partitions.
func (b *standard) partitionFor(p int) int {
	if b.partitions <= 1 {
		return 0
	}
	return p % b.partitions
}

func (b *standard) hashBytes(keys *hmacKeys, data []byte, partition int) string {
	return basicHash(keys.keys[b.keyName], data, b.partitionFor(partition), b.length)
}

// valueBytes is the DB-ESDK's top-level attribute serialization of v: the
// value without its type id (strings as UTF-8, numbers normalized, binary as
// is).
func valueBytes(v types.AttributeValue) ([]byte, error) {
	out, _, err := ddbattr.Append(nil, v)
	return out, err
}

// plainBytes returns the bytes a non-set standard beacon hashes for item:
// the virtual field's UTF-8, or the serialized value at the location; false
// when the item has none.
func (s *Search) plainBytes(b *standard, item Item) ([]byte, bool, error) {
	if vf, ok := s.virt[b.loc.raw]; ok && b.loc.single() {
		str, ok, err := vf.eval(item)
		return []byte(str), ok, err
	}
	v, ok := b.loc.lookup(item)
	if !ok {
		return nil, false, nil
	}
	data, err := valueBytes(v)
	if err != nil {
		return nil, false, &ItemError{Beacon: b.name, Attribute: b.loc.raw, Reason: err.Error()}
	}
	return data, true, nil
}

// standardValue is the stored value of a standard beacon for item, and
// false when the item has none.
func (s *Search) standardValue(b *standard, item Item, keys *hmacKeys, partition int) (types.AttributeValue, bool, error) {
	if b.asSet {
		v, ok := b.loc.lookup(item)
		if !ok {
			return nil, false, nil
		}
		set, err := b.setValue(v, keys, partition)
		if err != nil {
			return nil, false, &ItemError{Beacon: b.name, Attribute: b.loc.raw, Reason: err.Error()}
		}
		return set, true, nil
	}
	data, ok, err := s.plainBytes(b, item)
	if !ok || err != nil {
		return nil, false, err
	}
	return &types.AttributeValueMemberS{Value: b.hashBytes(keys, data, partition)}, true, nil
}

var errNotSet = errors.New("an AsSet beacon's attribute must be a set (SS, NS or BS)")

// setValue is the string set of the beacons of a set's members, without
// duplicates, in the members' order.
func (b *standard) setValue(v types.AttributeValue, keys *hmacKeys, partition int) (*types.AttributeValueMemberSS, error) {
	var members []types.AttributeValue
	switch x := v.(type) {
	case *types.AttributeValueMemberSS:
		for _, m := range x.Value {
			members = append(members, &types.AttributeValueMemberS{Value: m})
		}
	case *types.AttributeValueMemberNS:
		for _, m := range x.Value {
			members = append(members, &types.AttributeValueMemberN{Value: m})
		}
	case *types.AttributeValueMemberBS:
		for _, m := range x.Value {
			members = append(members, &types.AttributeValueMemberB{Value: m})
		}
	default:
		return nil, errNotSet
	}
	if len(members) == 0 {
		return nil, errors.New("empty set")
	}
	out := &types.AttributeValueMemberSS{Value: make([]string, 0, len(members))}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		data, err := valueBytes(m)
		if err != nil {
			return nil, err
		}
		h := b.hashBytes(keys, data, partition)
		if !seen[h] {
			seen[h] = true
			out.Value = append(out.Value, h)
		}
	}
	return out, nil
}

// partString is the plaintext string of a part for item, and false when
// the item has none.
func (s *Search) partString(c *compound, p *part, item Item) (string, bool, error) {
	loc := p.loc
	if p.encrypted() {
		loc = p.std.loc
	}
	if vf, ok := s.virt[loc.raw]; ok && loc.single() {
		return vf.eval(item)
	}
	v, ok := loc.lookup(item)
	if !ok {
		return "", false, nil
	}
	str, err := attrString(v)
	if err != nil {
		return "", false, &ItemError{Beacon: c.name, Attribute: loc.raw, Reason: "part " + quote(p.name) + ": " + err.Error()}
	}
	return str, true, nil
}

// value is the prefix followed by the plaintext (signed part, or any part
// when keys is nil: the plaintext virtual database field) or its standard
// beacon (encrypted part).
func (p *part) value(plain string, keys *hmacKeys, partition int) string {
	if !p.encrypted() || keys == nil {
		return p.prefix + plain
	}
	return p.prefix + p.std.hashBytes(keys, []byte(plain), partition)
}

// compoundValue builds the compound beacon of item with the first
// constructor whose required parts are present; false when none is. keys
// is nil for signed beacons.
func (s *Search) compoundValue(c *compound, item Item, keys *hmacKeys, partition int) (string, bool, error) {
ctors:
	for _, ct := range c.ctors {
		var b strings.Builder
		for _, cp := range ct {
			str, ok, err := s.partString(c, cp.p, item)
			if err != nil {
				return "", false, err
			}
			if !ok {
				if cp.required {
					continue ctors
				}
				continue
			}
			if strings.Contains(str, c.split) {
				return "", false, &ItemError{Beacon: c.name, Attribute: cp.p.name, Reason: "the value of part " + quote(cp.p.name) + " contains the split character " + quote(c.split)}
			}
			if b.Len() > 0 {
				b.WriteString(c.split)
			}
			b.WriteString(cp.p.value(str, keys, partition))
		}
		if b.Len() == 0 {
			return "", false, &ItemError{Beacon: c.name, Reason: "empty beacon"}
		}
		return b.String(), true, nil
	}
	return "", false, nil
}

// partFromPrefix is the part whose prefix starts piece.
func (c *compound) partFromPrefix(piece string) *part {
	for _, p := range c.parts {
		if strings.HasPrefix(piece, p.prefix) {
			return p
		}
	}
	return nil
}
