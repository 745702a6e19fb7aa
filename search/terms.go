package search

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbexpr"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// Match is the kind of condition a [TermQuery] puts on a beacon.
type Match uint8

const (
	// Equals: the beacon's plaintext equals the value (a standard beacon
	// that is not AsSet, or a compound beacon).
	Equals Match = iota
	// Contains: the set attribute of an AsSet standard beacon holds the
	// value (a string, number or binary member), as DynamoDB's contains.
	Contains
	// BeginsWith: the compound beacon's value begins with the value, as
	// DynamoDB's begins_with: whole pieces (prefix and plaintext), the last
	// of which may be a part's bare prefix.
	BeginsWith
)

func (m Match) String() string {
	switch m {
	case Equals:
		return "Equals"
	case Contains:
		return "Contains"
	case BeginsWith:
		return "BeginsWith"
	}
	return fmt.Sprintf("Match(%d)", uint8(m))
}

// TermQuery is one condition on one beacon, for a store that does not take
// DynamoDB expressions (MongoDB, SQL, a key-value store, a file).
type TermQuery struct {
	// Beacon is the name of a standard or compound beacon.
	Beacon string
	// Match is the condition; Equals when zero.
	Match Match
	// Value is the query value: for a standard beacon the value of its
	// attribute (or of its virtual field, as a string); for a compound
	// beacon a string of pieces, each a part's prefix and plaintext, joined
	// by the split character, as a DynamoDB query on the beacon takes it.
	Value types.AttributeValue
	// BranchKeyID names the tenant's branch key when the key source is
	// multi-tenant; it must be empty with a single key source.
	BranchKeyID string
}

// Term is what a store compares to answer a [TermQuery]: the stored
// attribute Attribute holds one of Values (Match Equals), a set holding one
// of Values (Contains), or a string beginning with one of Values
// (BeginsWith). Truncated beacons collide, so the store's answer is a
// superset of the matching items: Keep decides each decrypted item exactly.
type Term struct {
	// Attribute is the stored beacon attribute: aws_dbe_b_<beacon>, or the
	// beacon's own name for a signed compound beacon.
	Attribute string
	// Match is the query's.
	Match Match
	// Values are the beacon values an item matching the query may hold, one
	// per beacon partition it may have been written in, without
	// duplicates, in partition order. Values hold no key material.
	Values []string

	filter *ResultFilter
}

// String, GoString, Format, LogValue and MarshalJSON never show key
// material (the Term reaches the Search and its beacon keys) nor the values.
func (t Term) String() string                { return t.redacted().String() }
func (t Term) GoString() string              { return t.redacted().GoString() }
func (t Term) Format(f fmt.State, verb rune) { t.redacted().Format(f, verb) }
func (t Term) LogValue() slog.Value          { return t.redacted().LogValue() }
func (t Term) MarshalJSON() ([]byte, error)  { return t.redacted().MarshalJSON() }
func (t Term) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("search.Term{%s %v, %d values, keys: [redacted]}", t.Attribute, t.Match, len(t.Values)))
}

// Keep reports whether a decrypted item matches the query exactly, as the
// same condition on its plaintext would. An error means the item cannot be
// evaluated.
func (t *Term) Keep(plaintext Item) (bool, error) { return t.filter.Keep(plaintext) }

// KeyMatches reports whether an encrypted item was written under the
// query's branch key: an item of another tenant whose beacon collides must
// be dropped before decryption. Always true with a single key source.
func (t *Term) KeyMatches(encrypted Item) bool { return t.filter.KeyMatches(encrypted) }

// Term computes the beacon values of one query condition: what a store that
// is not DynamoDB indexes and compares (see [Term]). It checks the
// condition as TransformQuery does and refuses, with a *QueryError naming
// the beacon, what a beacon cannot answer exactly: an unknown or PartOnly
// beacon (ErrNoBeacon, ErrOperator), Contains on a beacon that is not
// AsSet, Equals on an AsSet beacon, BeginsWith on a standard beacon, a
// compound value whose pieces match no part or come in an order no
// constructor builds, a multi-tenant query without BranchKeyID
// (ErrBeaconKey). The query value never appears in an error.
func (s *Search) Term(ctx context.Context, q TermQuery) (*Term, error) {
	if q.Value == nil {
		return nil, &QueryError{Attribute: q.Beacon, Err: fmt.Errorf("%w: no value", ErrOperator)}
	}
	rw := &rewriter{s: s, ctx: ctx}
	switch {
	case s.keyField != "" && q.BranchKeyID == "":
		return nil, &QueryError{Attribute: q.Beacon, Err: fmt.Errorf("%w: a multi-tenant query names its branch key (TermQuery.BranchKeyID)", ErrBeaconKey)}
	case s.keyField == "" && q.BranchKeyID != "":
		return nil, &QueryError{Attribute: q.Beacon, Err: fmt.Errorf("%w: a branch key named with a single key source", ErrBeaconKey)}
	case s.keyField != "":
		rw.keyID = q.BranchKeyID
	default:
		rw.keyID = s.singleKeyID
	}
	path := &ddbexpr.Path{Elems: []ddbexpr.PathElem{{Name: BeaconPrefix + q.Beacon}}}
	val := &ddbexpr.Value{V: q.Value}
	var cond ddbexpr.Expr
	var value func(partition int) (types.AttributeValue, error)
	t := &Term{Match: q.Match}
	if b, ok := s.std[q.Beacon]; ok {
		if b.partOnly {
			return nil, &QueryError{Attribute: q.Beacon, Err: fmt.Errorf("%w: a PartOnly beacon is queried through its compound beacons", ErrOperator)}
		}
		switch {
		case q.Match == Equals && !b.asSet:
			cond = &ddbexpr.Compare{Op: ddbexpr.OpEq, Left: path, Right: val}
		case q.Match == Contains && b.asSet:
			cond = &ddbexpr.Call{Func: ddbexpr.FuncContains, Args: []ddbexpr.Operand{path, val}}
		default:
			kind := "a standard beacon"
			if b.asSet {
				kind = "an AsSet beacon"
			}
			return nil, &QueryError{Attribute: q.Beacon, Err: fmt.Errorf("%w: %v on %s", ErrOperator, q.Match, kind)}
		}
		t.Attribute = BeaconPrefix + b.name
		value = func(p int) (types.AttributeValue, error) { return rw.standardValue(b, val, q.Match == Contains, p) }
	} else if c, ok := s.cmp[q.Beacon]; ok {
		switch q.Match {
		case Equals:
			cond = &ddbexpr.Compare{Op: ddbexpr.OpEq, Left: path, Right: val}
		case BeginsWith:
			cond = c.prefixCond(path, val)
		default:
			return nil, &QueryError{Attribute: q.Beacon, Err: fmt.Errorf("%w: %v on a compound beacon", ErrOperator, q.Match)}
		}
		t.Attribute = c.storedName()
		value = func(p int) (types.AttributeValue, error) { return rw.compoundValue(c, val, q.Match == Equals, p) }
	} else {
		return nil, &QueryError{Attribute: q.Beacon, Err: fmt.Errorf("%w: no standard or compound beacon has this name", ErrNoBeacon)}
	}
	for p := range s.maxPart {
		v, err := value(p)
		if err != nil {
			return nil, err
		}
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			// Contains with a set value (an AsSet beacon asked for a set):
			// refused, a store compares one member.
			return nil, &QueryError{Attribute: q.Beacon, Err: fmt.Errorf("%w: Contains takes one member, not a set", ErrOperator)}
		}
		if !slices.Contains(t.Values, sv.Value) {
			t.Values = append(t.Values, sv.Value)
		}
		if !rw.partitioned {
			break // no beacon value depends on the partition
		}
	}
	t.filter = &ResultFilter{s: s, exprs: []ddbexpr.Expr{cond}, used: map[string]bool{q.Beacon: true}, needed: true}
	if s.keyField != "" {
		t.filter.branchKeyID = rw.keyID
	}
	return t, nil
}
