package mapenc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// ErrNoSearch: a beacon query on a Codec whose Config has no Search. It is
// wrapped in a *search.QueryError naming the beacon.
var ErrNoSearch = errors.New("mapenc: the Config has no Search (beacons)")

// protector is the encryptor of one policy (the Config's, or a struct
// type's) and, with Config.Search, its beacons.
type protector struct {
	enc    *itemcrypto.Encryptor
	search *search.Search // nil without Config.Search
}

// newProtector builds the encryptor of policy and, with Config.Search, the
// beacons checked against it (the DB-ESDK's rules: a standard beacon's
// attribute encrypted, a signed part SignOnly, ...).
func (c *Codec) newProtector(policy *actions.Policy) (*protector, error) {
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: c.cfg.TableName, Policy: policy, Provider: c.cfg.Provider, Format: c.cfg.Format, DBESDK: c.cfg.DBESDK}, c.opts.Itemcrypto...)
	if err != nil {
		return nil, err
	}
	p := &protector{enc: enc}
	if c.cfg.Search != nil {
		p.search, err = search.New(*c.cfg.Search, policy, func(o *search.Options) {
			o.LogicalTableName = c.cfg.TableName
			o.AllowedUnsigned = c.cfg.DBESDK.AllowedUnsigned
			o.AllowedUnsignedPrefix = c.cfg.DBESDK.AllowedUnsignedPrefix
		})
		if err != nil {
			return nil, fmt.Errorf("Config.Search: %w", err)
		}
	}
	return p, nil
}

func (p *protector) encryptor() *itemcrypto.Encryptor {
	if p == nil {
		return nil
	}
	return p.enc
}

// Encrypt protects item, with its beacons when the Config has them.
func (p *protector) Encrypt(ctx context.Context, item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	if p.search == nil {
		return p.enc.Encrypt(ctx, item)
	}
	return p.search.Protect(ctx, item, p.enc.Encrypt)
}

// Decrypt verifies and decrypts item.
func (p *protector) Decrypt(ctx context.Context, item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	pt, _, err := p.decryptMatch(ctx, item, nil)
	return pt, err
}

// decryptMatch is Decrypt; with a term, an item of another branch key is
// not decrypted and a plaintext the term does not keep is dropped: both
// return false.
func (p *protector) decryptMatch(ctx context.Context, item map[string]types.AttributeValue, term *search.Term) (map[string]types.AttributeValue, bool, error) {
	if term != nil && !term.KeyMatches(item) {
		return nil, false, nil
	}
	pt, err := p.enc.Decrypt(ctx, item)
	if err != nil {
		return nil, false, err
	}
	// pt has no aws_dbe_ attribute: the encryptor leaves the beacons and
	// the version tag out (TestBeaconsDecryptOutput).
	if term == nil {
		return pt, true, nil
	}
	ok, err := term.Keep(pt)
	if err != nil || !ok {
		return nil, false, err
	}
	return pt, true, nil
}

// TermOptions tune [Codec.Term].
type TermOptions struct {
	// BranchKeyID names the tenant's branch key when the beacon key source
	// is multi-tenant (search.KeySource.Multi); it must be empty with a
	// single key source.
	BranchKeyID string
}

// Term returns what a store compares to find the items whose beacon
// matches value: the stored beacon attribute (Term.Attribute, e.g.
// aws_dbe_b_email) holds one of Term.Values (match search.Equals), a set
// holding one of them (search.Contains, an AsSet beacon), or a string that
// begins with one of them (search.BeginsWith, a compound beacon). value is
// a plain Go value, converted as the Codec converts fields (a string, a
// number, []byte, or a types.AttributeValue as it is); for a compound beacon
// it is the string of pieces, each a part's prefix and value, joined by the
// split character, as search.TermQuery takes it.
//
// Beacons are truncated hashes: the store returns every matching item and
// some that only collide. Decrypt each with [Codec.DecryptMatch], which
// drops them (and, multi-tenant, items of other branch keys), or check a
// decrypted value with [Codec.Keep].
//
// Errors are a *search.QueryError naming the beacon, never the value: no
// Config.Search ([ErrNoSearch]), an unknown beacon (search.ErrNoBeacon), a
// match the beacon cannot answer (search.ErrOperator), a multi-tenant query
// without TermOptions.BranchKeyID (search.ErrBeaconKey), a value that does
// not convert (a [*ConvertError] inside).
//
// Term uses the Config's own policy: a Codec whose partition key only a
// struct tag names answers through [TypedCodec.Term].
func (c *Codec) Term(ctx context.Context, beacon string, match search.Match, value any, optFns ...func(*TermOptions)) (*search.Term, error) {
	p, err := c.baseEncryptor()
	if err != nil {
		return nil, err
	}
	return c.term(ctx, p, beacon, match, value, optFns)
}

func (c *Codec) term(ctx context.Context, p *protector, beacon string, match search.Match, value any, optFns []func(*TermOptions)) (*search.Term, error) {
	if p.search == nil {
		return nil, &search.QueryError{Attribute: beacon, Err: ErrNoSearch}
	}
	var opts TermOptions
	for _, fn := range optFns {
		fn(&opts)
	}
	av, ok := value.(types.AttributeValue)
	if !ok {
		var err error
		av, err = c.encoder.Encode(value)
		if err == nil && av == nil {
			err = fmt.Errorf("%w: %T encodes to nothing", ErrUnsupportedType, value)
		}
		if err != nil {
			return nil, &search.QueryError{Attribute: beacon, Err: &ConvertError{Op: "encode", Type: reflect.TypeOf(value), Err: err}}
		}
	}
	return p.search.Term(ctx, search.TermQuery{Beacon: beacon, Match: match, Value: av, BranchKeyID: opts.BranchKeyID})
}

// Keep reports whether v, a decrypted value (a struct, a map, a pointer to
// one, or a map[string]types.AttributeValue), matches term exactly: false
// for an item a beacon collision brought. v is converted back to attribute
// values as [Codec.Encrypt] converts it; [Codec.DecryptMatch] checks the
// decrypted attribute values themselves, before decoding, and is the
// surer way where a Go type does not hold every attribute the term reads.
// A nil term keeps every value.
func (c *Codec) Keep(term *search.Term, v any) (bool, error) {
	if term == nil {
		return true, nil
	}
	item, err := c.marshal(v, nil)
	if err != nil {
		return false, err
	}
	return term.Keep(item)
}

// DecryptMatch is [Codec.Decrypt] for a candidate that a store returned
// for term: it returns false, without decrypting, for an item of another
// tenant's branch key (term.KeyMatches), and false for an item whose
// plaintext does not match term (term.Keep: a beacon collision), leaving
// *out untouched; otherwise it decodes into out and returns true. A nil
// term keeps every item. Every failure of authenticity is an error
// matching itemcrypto.ErrAuthentication.
func (c *Codec) DecryptMatch(ctx context.Context, item map[string]types.AttributeValue, term *search.Term, out any) (bool, error) {
	return c.decrypt(ctx, item, out, term)
}

// Term is [Codec.Term] under T's policy (the Config's plus T's tags).
func (tc *TypedCodec[T]) Term(ctx context.Context, beacon string, match search.Match, value any, optFns ...func(*TermOptions)) (*search.Term, error) {
	return tc.c.term(ctx, tc.enc, beacon, match, value, optFns)
}

// DecryptMatch is [Codec.DecryptMatch] for T: the decrypted T and true,
// or the zero T and false for an item term does not keep.
func (tc *TypedCodec[T]) DecryptMatch(ctx context.Context, item map[string]types.AttributeValue, term *search.Term) (T, bool, error) {
	return tc.decrypt(ctx, item, term)
}

// Beacons returns the beacon fields of a protected item, what a store
// indexes beside the document (a column, a secondary key, a field): by
// stored attribute name (a [search.Term]'s Attribute), each standard or
// compound beacon (aws_dbe_b_<beacon>) and each signed beacon (under its
// own name) the item has, as one string, and each AsSet beacon as the
// strings of its set. The version tag aws_dbe_v_1, which every item with
// beacons carries, is not a beacon; nor is anything else. The result is
// empty for a Codec without Config.Search.
func (c *Codec) Beacons(item map[string]types.AttributeValue) map[string][]string {
	out := map[string][]string{}
	if c.cfg.Search == nil {
		return out
	}
	add := func(name string) {
		switch v := item[name].(type) {
		case *types.AttributeValueMemberS:
			out[name] = []string{v.Value}
		case *types.AttributeValueMemberSS:
			out[name] = slices.Clone(v.Value)
		}
	}
	for name := range item {
		if strings.HasPrefix(name, search.BeaconPrefix) {
			add(name)
		}
	}
	for _, name := range c.cfg.Search.SignedBeacons() {
		add(name)
	}
	return out
}
