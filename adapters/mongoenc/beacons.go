package mongoenc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// ErrBeaconValue: a field that has a beacon holds a value other than a
// string (or null, or nothing, which get no beacon). The DB-ESDK hashes a
// DynamoDB value's serialization; in MongoDB only strings have one obvious
// counterpart, so beacons are computed on strings only, and a document that
// would need another rule is refused rather than given a beacon no other
// client would compute. Matched through a [*DocumentError].
var ErrBeaconValue = errors.New("mongoenc: a field with a beacon holds a value that is not a string")

// beacons are a collection's standard beacons (Config.Search).
type beacons struct {
	s      *search.Search
	list   []*beaconField // by name
	byPath map[string]*beaconField
}

// beaconField is one standard beacon: its name and the field path it
// hashes.
type beaconField struct {
	name  string
	path  string
	parts []string
}

func (b *beaconField) stored() string { return search.BeaconPrefix + b.name }

// isBeaconField reports whether a stored top-level field is a beacon or
// the version tag: written beside the document, outside its signature.
func isBeaconField(key string) bool {
	return strings.HasPrefix(key, search.BeaconPrefix) || key == search.VersionTag
}

func unsupported(name, attr, reason string) error {
	return &search.ConfigError{Name: name, Attribute: attr, Reason: reason + " (not supported by mongoenc yet)"}
}

// newBeacons checks cfg against the collection's schema and builds its
// Search. The DB-ESDK locates a beacon at an attribute of the item; here a
// beacon's Loc (its Name when empty) is a MongoDB field path, top-level or
// dotted, which must be encrypted. The Search is built over one attribute
// per beacon, named as the beacon, so that the values are those the DB-ESDK
// computes for the same string.
func newBeacons(cfg search.Config, s *schema, signing string, d *itemcrypto.DBESDKConfig) (*beacons, error) {
	if len(cfg.Versions) != 1 {
		return nil, &search.ConfigError{Reason: fmt.Sprintf("%d beacon versions, want exactly 1", len(cfg.Versions))}
	}
	v := cfg.Versions[0]
	switch {
	case len(v.CompoundBeacons) > 0:
		return nil, unsupported(v.CompoundBeacons[0].Name, "", "compound beacons")
	case len(v.VirtualFields) > 0:
		return nil, unsupported(v.VirtualFields[0].Name, "", "virtual fields")
	case len(v.EncryptedParts) > 0 || len(v.SignedParts) > 0:
		return nil, unsupported("", "", "global parts of compound beacons")
	case v.KeySource.Multi != nil:
		return nil, unsupported("", v.KeySource.Multi.KeyFieldName, "a multi-tenant key source")
	case v.PartitionSelector != nil:
		return nil, unsupported("", "", "a partition selector (it would see the beacon's own attributes, not the document)")
	}
	b := &beacons{byPath: map[string]*beaconField{}}
	overrides := map[string]actions.Action{}
	v.StandardBeacons = slices.Clone(v.StandardBeacons)
	for i, sb := range v.StandardBeacons {
		switch sb.Style.Kind {
		case search.StylePlain, search.StyleShared:
		default:
			return nil, unsupported(sb.Name, "", "beacon styles other than plain and Shared (AsSet, SharedSet, PartOnly)")
		}
		path := sb.Loc
		if path == "" {
			path = sb.Name
		}
		parts := split(path)
		for _, p := range parts {
			if p == "" || strings.HasPrefix(p, "$") || strings.ContainsAny(p, "[]") {
				return nil, &search.ConfigError{Name: sb.Name, Attribute: path, Reason: "not a MongoDB field path (dotted names of embedded documents, no array index)"}
			}
		}
		switch {
		case parts[0] == IDField || s.enc.IsReserved(parts[0]):
			return nil, &search.ConfigError{Name: sb.Name, Attribute: path, Reason: "_id and the reserved fields cannot have a beacon"}
		case s.cover(parts) != actions.EncryptAndSign:
			return nil, &search.ConfigError{Name: sb.Name, Attribute: path, Reason: "a standard beacon's field must be EncryptAndSign (a beacon on a readable field would only reveal it)"}
		case b.byPath[path] != nil:
			return nil, &search.ConfigError{Name: sb.Name, Attribute: path, Reason: fmt.Sprintf("standard beacon %q has the same field", b.byPath[path].name)}
		}
		f := &beaconField{name: sb.Name, path: path, parts: parts}
		b.byPath[path] = f
		b.list = append(b.list, f)
		v.StandardBeacons[i].Loc = "" // the beacon's own attribute
		overrides[sb.Name] = actions.EncryptAndSign
	}
	slices.SortFunc(b.list, func(x, y *beaconField) int { return strings.Compare(x.name, y.name) })
	policy, err := actions.New(actions.Options{Default: actions.DoNothing, Overrides: overrides, PartitionKey: IDField})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", search.ErrInvalidConfig, err)
	}
	cfg.Versions = []search.BeaconVersion{v}
	b.s, err = search.New(cfg, policy, func(o *search.Options) {
		o.LogicalTableName = signing
		o.AllowedUnsigned = d.AllowedUnsigned
		o.AllowedUnsignedPrefix = d.AllowedUnsignedPrefix
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// lookup returns the value at path in doc, through embedded documents
// only; false when a field on the path is missing (or is not a document).
// An array on the path is an error: a beacon hashes one value.
func lookup(doc bsoncore.Document, path []string) (bsoncore.Value, bool, error) {
	for i, p := range path {
		v, err := doc.LookupErr(p)
		if err != nil {
			return bsoncore.Value{}, false, nil
		}
		if i == len(path)-1 {
			return v, true, nil
		}
		switch v.Type {
		case bsoncore.TypeEmbeddedDocument:
			doc = v.Data
		case bsoncore.TypeArray:
			return bsoncore.Value{}, false, ErrArrayOnPath
		default:
			return bsoncore.Value{}, false, nil
		}
	}
	return bsoncore.Value{}, false, nil
}

// item is the plaintext item the Search hashes for doc: each beacon's
// string under the beacon's name. Null and missing fields get no beacon;
// any other non-string is refused.
func (b *beacons) item(doc bsoncore.Document) (search.Item, error) {
	item := make(search.Item, len(b.list))
	for _, f := range b.list {
		v, ok, err := lookup(doc, f.parts)
		if err != nil {
			return nil, fieldErr(f.path, actions.EncryptAndSign, err)
		}
		if !ok || v.Type == bsoncore.TypeNull || v.Type == bsoncore.TypeUndefined {
			continue
		}
		str, isStr := v.StringValueOK()
		if !isStr {
			return nil, fieldErr(f.path, actions.EncryptAndSign, fmt.Errorf("%w (beacon %q, field of type %s)", ErrBeaconValue, f.name, v.Type))
		}
		item[f.name] = &types.AttributeValueMemberS{Value: str}
	}
	return item, nil
}

// appendBeacons appends the beacons of the plaintext doc to the stored
// document stored, whose encrypted item is encrypted.
func (b *beacons) appendBeacons(ctx context.Context, stored, doc []byte, encrypted itemcrypto.Item) ([]byte, error) {
	item, err := b.item(doc)
	if err != nil {
		return nil, err
	}
	fields, err := b.s.EncryptedBeacons(ctx, item, encrypted)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(fields))
	for _, f := range b.list {
		if _, ok := fields[f.stored()]; ok {
			names = append(names, f.stored())
		}
	}
	names = append(names, search.VersionTag)
	out := stored[: len(stored)-1 : len(stored)-1]
	for _, name := range names {
		s, ok := fields[name].(*types.AttributeValueMemberS)
		if !ok {
			return nil, fmt.Errorf("mongoenc: beacon %s is not a string", name)
		}
		out = bsoncore.AppendStringElement(out, name, s.Value)
	}
	out = append(out, 0)
	return bsoncore.UpdateLength(out, 0, int32(len(out))), nil
}

// queryValues returns the stored beacon values that a document whose
// field f equals one of strs may hold.
func (b *beacons) queryValues(ctx context.Context, f *beaconField, strs []string) ([]string, error) {
	var out []string
	for _, s := range strs {
		vs, err := b.s.StandardBeaconValues(ctx, f.name, &types.AttributeValueMemberS{Value: s})
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// BeaconIndexes returns the index models [Collection.CreateBeaconIndexes]
// creates: one ascending index on each beacon's stored field
// (aws_dbe_b_<name>), named "aws_dbe_b_<name>_1"; none without
// Config.Search.
func (c *Collection) BeaconIndexes() []mongo.IndexModel {
	if c.beacons == nil {
		return nil
	}
	out := make([]mongo.IndexModel, 0, len(c.beacons.list))
	for _, f := range c.beacons.list {
		out = append(out, mongo.IndexModel{
			Keys:    bson.D{{Key: f.stored(), Value: 1}},
			Options: options.Index().SetName(f.stored() + "_1"),
		})
	}
	return out
}

// CreateBeaconIndexes creates the indexes that beacon queries need (see
// [Collection.BeaconIndexes]), one at a time, and returns their names. Creating an index
// that exists is a no-op on the server. Without them every query, count,
// update or delete with a beacon filter scans the whole collection on the
// server (a COLLSCAN); with them the server reads only the candidates, the
// matching documents and the beacon's false positives (about a 2^-Length
// share of the others per queried value). Beacons are written beside every
// document and compared with $in, so an ordinary ascending index serves
// them; it is not unique (beacons collide on purpose).
func (c *Collection) CreateBeaconIndexes(ctx context.Context, opts ...options.Lister[options.CreateIndexesOptions]) ([]string, error) {
	models := c.BeaconIndexes()
	if len(models) == 0 {
		return nil, nil
	}
	// One createIndexes command per index: FerretDB v1 fails on a command
	// that creates several.
	names := make([]string, 0, len(models))
	for _, m := range models {
		name, err := c.coll.Indexes().CreateOne(ctx, m, opts...)
		if err != nil {
			return names, c.opErr("CreateBeaconIndexes", err)
		}
		names = append(names, name)
	}
	return names, nil
}
