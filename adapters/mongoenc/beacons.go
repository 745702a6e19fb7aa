package mongoenc

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
// string (or null, or nothing, which get no beacon); for an AsSet beacon,
// other than an array of strings. The DB-ESDK hashes a DynamoDB value's
// serialization; in MongoDB only strings have one obvious counterpart, so
// beacons (standard, compound parts, virtual field parts) are computed on
// strings only, and a document that would need another rule is refused
// rather than given a beacon no other client would compute. Matched
// through a [*DocumentError].
var ErrBeaconValue = errors.New("mongoenc: a field with a beacon holds a value that is not a string")

// ErrBeaconField: a document to be written has a top-level field named as
// a beacon that filters name directly (a compound beacon with an encrypted
// part, a standard beacon on a virtual field), or a field named as a signed
// beacon whose value is not the one its parts build. Matched through a
// [*DocumentError].
var ErrBeaconField = errors.New("mongoenc: a document field has the name of a beacon")

// beacons are a collection's beacons (Config.Search).
type beacons struct {
	s *search.Search
	// list holds the queryable standard beacons on fields, by name.
	list   []*beaconField
	byPath map[string]*beaconField
	// byName holds what filters name by the beacon's name: compound
	// beacons and standard beacons on virtual fields.
	byName map[string]*namedBeacon
	// refs are the field paths the beacons read, each one an attribute of
	// the item the Search hashes.
	refs     []*fieldRef
	attrPath map[string]string // attribute -> field path
	// signed are the signed beacons (compound beacons without an encrypted
	// part), stored as SignOnly fields under their own names.
	signed []string
	// keyField is the multi-tenant key field ("" with a single key source).
	keyField string
	// stored are the beacon fields written beside each document, in order,
	// the version tag last.
	stored []string
	// partPath is the field path of each part of a compound beacon, by
	// beacon and part name ("beacon\x00part").
	partPath map[string]string
	schema   *schema
}

type partPrefix struct {
	prefix    string
	encrypted bool
}

// beaconField is a standard beacon on a field: filters name its path.
type beaconField struct {
	name  string
	path  string
	parts []string
	asSet bool
}

func (b *beaconField) stored() string { return search.BeaconPrefix + b.name }

// namedBeacon is a beacon filters name by its name.
type namedBeacon struct {
	name     string
	compound bool
	split    string
}

// fieldRef is a field path the beacons read.
type fieldRef struct {
	path  string
	parts []string
	attr  string
	asSet bool
}

// isBeaconField reports whether a stored top-level field is a beacon or
// the version tag: written beside the document, outside its signature.
func isBeaconField(key string) bool {
	return strings.HasPrefix(key, search.BeaconPrefix) || key == search.VersionTag
}

func unsupported(name, attr, reason string) error {
	return &search.ConfigError{Name: name, Attribute: attr, Reason: reason + " (not supported by mongoenc)"}
}

// attrSep replaces the dots of a field path in the name of its attribute
// (a location of the search package may not hold a dot).
const attrSep = "\x1f"

// newBeacons checks cfg against the collection's schema and builds its
// Search. The DB-ESDK locates a beacon, a signed part and a virtual field's
// part at an attribute of the item; here each location (a beacon's Loc, its
// Name when empty) is a MongoDB field path, top-level or dotted. The Search
// is built over one attribute per field path the beacons read, with the
// path's action, so that the values are those the DB-ESDK computes for the
// same strings.
func newBeacons(cfg search.Config, s *schema, signing string, d *itemcrypto.DBESDKConfig) (*beacons, error) {
	if len(cfg.Versions) != 1 {
		return nil, &search.ConfigError{Reason: fmt.Sprintf("%d beacon versions, want exactly 1", len(cfg.Versions))}
	}
	v := cfg.Versions[0]
	b := &beacons{byPath: map[string]*beaconField{}, byName: map[string]*namedBeacon{}, attrPath: map[string]string{},
		partPath: map[string]string{}, schema: s}
	overrides := map[string]actions.Action{}
	refs := map[string]*fieldRef{}
	// ref validates the field path path of name and returns its attribute.
	ref := func(name, path string, asSet bool) (string, error) {
		if r, ok := refs[path]; ok {
			r.asSet = r.asSet || asSet
			return r.attr, nil
		}
		parts := split(path)
		for _, p := range parts {
			if p == "" || strings.HasPrefix(p, "$") || strings.ContainsAny(p, "[]"+attrSep) {
				return "", &search.ConfigError{Name: name, Attribute: path, Reason: "not a MongoDB field path (dotted names of embedded documents, no array index)"}
			}
		}
		if s.enc.IsReserved(parts[0]) {
			return "", &search.ConfigError{Name: name, Attribute: path, Reason: "the reserved fields cannot be read by a beacon"}
		}
		r := &fieldRef{path: path, parts: parts, attr: strings.Join(parts, attrSep), asSet: asSet}
		if other, clash := b.attrPath[r.attr]; clash {
			return "", &search.ConfigError{Name: name, Attribute: path, Reason: fmt.Sprintf("the field path clashes with %q", other)}
		}
		refs[path] = r
		b.refs = append(b.refs, r)
		b.attrPath[r.attr] = path
		if r.attr != IDField {
			overrides[r.attr] = s.cover(parts)
		}
		return r.attr, nil
	}
	virtual := map[string]bool{}
	v.VirtualFields = slices.Clone(v.VirtualFields)
	for i, f := range v.VirtualFields {
		virtual[f.Name] = true
		f.Parts = slices.Clone(f.Parts)
		for j, p := range f.Parts {
			attr, err := ref(f.Name, p.Loc, false)
			if err != nil {
				return nil, err
			}
			f.Parts[j].Loc = attr
		}
		v.VirtualFields[i] = f
	}
	v.StandardBeacons = slices.Clone(v.StandardBeacons)
	stdLoc := map[string]string{} // standard beacon -> field path or virtual field
	for i, sb := range v.StandardBeacons {
		loc := sb.Loc
		if loc == "" {
			loc = sb.Name
		}
		asSet := sb.Style.Kind == search.StyleAsSet || sb.Style.Kind == search.StyleSharedSet
		stdLoc[sb.Name] = loc
		if virtual[loc] {
			if asSet {
				return nil, unsupported(sb.Name, loc, "an AsSet beacon on a virtual field (a virtual field is a string, not a set)")
			}
			if sb.Style.Kind != search.StylePartOnly {
				b.byName[sb.Name] = &namedBeacon{name: sb.Name}
			}
			continue
		}
		parts := split(loc)
		switch {
		case parts[0] == IDField:
			return nil, &search.ConfigError{Name: sb.Name, Attribute: loc, Reason: "_id cannot have a beacon"}
		case s.cover(parts) != actions.EncryptAndSign:
			return nil, &search.ConfigError{Name: sb.Name, Attribute: loc, Reason: "a standard beacon's field must be EncryptAndSign (a beacon on a readable field would only reveal it)"}
		case b.byPath[loc] != nil:
			return nil, &search.ConfigError{Name: sb.Name, Attribute: loc, Reason: fmt.Sprintf("standard beacon %q has the same field", b.byPath[loc].name)}
		}
		attr, err := ref(sb.Name, loc, asSet)
		if err != nil {
			return nil, err
		}
		v.StandardBeacons[i].Loc = attr
		if sb.Style.Kind != search.StylePartOnly {
			f := &beaconField{name: sb.Name, path: loc, parts: parts, asSet: asSet}
			b.byPath[loc] = f
			b.list = append(b.list, f)
		}
	}
	slices.SortFunc(b.list, func(x, y *beaconField) int { return strings.Compare(x.name, y.name) })
	v.SignedParts = slices.Clone(v.SignedParts)
	signedPart := func(beacon string, p *search.SignedPart) error {
		loc := p.Loc
		if loc == "" {
			loc = p.Name
		}
		attr, err := ref(beacon, loc, false)
		p.Loc = attr
		return err
	}
	global := map[string]partPrefix{}
	globalPath := map[string]string{}
	for i := range v.SignedParts {
		if err := signedPart(v.SignedParts[i].Name, &v.SignedParts[i]); err != nil {
			return nil, err
		}
		global[v.SignedParts[i].Name] = partPrefix{prefix: v.SignedParts[i].Prefix}
		globalPath[v.SignedParts[i].Name] = b.attrPath[v.SignedParts[i].Loc]
	}
	for _, p := range v.EncryptedParts {
		global[p.Name] = partPrefix{prefix: p.Prefix, encrypted: true}
		globalPath[p.Name] = stdLoc[p.Name]
	}
	v.CompoundBeacons = slices.Clone(v.CompoundBeacons)
	for i, cb := range v.CompoundBeacons {
		cb.Signed = slices.Clone(cb.Signed)
		var prefixes []partPrefix
		for j := range cb.Signed {
			if err := signedPart(cb.Name, &cb.Signed[j]); err != nil {
				return nil, err
			}
			prefixes = append(prefixes, partPrefix{prefix: cb.Signed[j].Prefix})
			b.partPath[cb.Name+"\x00"+cb.Signed[j].Name] = b.attrPath[cb.Signed[j].Loc]
		}
		encrypted := len(cb.Encrypted) > 0
		for _, p := range cb.Encrypted {
			prefixes = append(prefixes, partPrefix{prefix: p.Prefix, encrypted: true})
			b.partPath[cb.Name+"\x00"+p.Name] = stdLoc[p.Name]
		}
		for _, ct := range cb.Constructors {
			for _, p := range ct.Parts {
				if g, ok := global[p.Name]; ok && !slices.Contains(prefixes, g) {
					prefixes = append(prefixes, g)
					encrypted = encrypted || g.encrypted
					b.partPath[cb.Name+"\x00"+p.Name] = globalPath[p.Name]
				}
			}
		}
		v.CompoundBeacons[i] = cb
		b.byName[cb.Name] = &namedBeacon{name: cb.Name, compound: true, split: cb.Split}
		if !encrypted {
			// A signed beacon: a SignOnly top-level field of the document.
			b.signed = append(b.signed, cb.Name)
			if n := s.nodes[cb.Name]; n != nil && n.interior() {
				return nil, &search.ConfigError{Name: cb.Name, Attribute: cb.Name, Reason: "a signed beacon is stored as a top-level field, which here holds configured fields"}
			}
			overrides[cb.Name] = s.cover([]string{cb.Name})
		}
	}
	for name := range b.byName {
		switch {
		case strings.Contains(name, "."):
			return nil, &search.ConfigError{Name: name, Reason: "a beacon that filters name cannot have a '.' in its name"}
		case b.byPath[name] != nil || refs[name] != nil:
			return nil, &search.ConfigError{Name: name, Attribute: name, Reason: "filters name this beacon by its name (a signed beacon is also stored under it), which is a field path the beacons read"}
		case !slices.Contains(b.signed, name) && (s.nodes[name] != nil || name == IDField):
			return nil, &search.ConfigError{Name: name, Attribute: name, Reason: "filters name this beacon by its name, which is a configured field of the documents"}
		}
	}
	if m := v.KeySource.Multi; m != nil {
		k := m.KeyFieldName
		if strings.Contains(k, ".") || k == "" {
			return nil, unsupported("", k, "a multi-tenant key field that is not a top-level field")
		}
		if b.byName[k] != nil {
			return nil, &search.ConfigError{Name: k, Attribute: k, Reason: "the key field name is the name of a beacon"}
		}
		b.keyField = k
		if _, isRef := refs[k]; !isRef && k != IDField {
			overrides[k] = s.cover([]string{k})
		}
	}
	if sel := v.PartitionSelector; sel != nil {
		// The selector sees the strings the beacons read, by field path.
		v.PartitionSelector = search.PartitionSelectorFunc(func(item search.Item, n int, table string) (int, error) {
			byPath := make(search.Item, len(item))
			for attr, val := range item {
				byPath[b.pathOf(attr)] = val
			}
			return sel.PartitionNumber(byPath, n, table)
		})
	}
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
		return nil, b.translate(err)
	}
	for _, name := range b.s.BeaconAttributes() {
		if !slices.Contains(b.signed, name) {
			b.stored = append(b.stored, name)
		}
	}
	return b, nil
}

// pathOf is the field path of an attribute of the Search's item.
func (b *beacons) pathOf(attr string) string {
	if p, ok := b.attrPath[attr]; ok {
		return p
	}
	return strings.ReplaceAll(attr, attrSep, ".")
}

// translate replaces the attribute names of the Search's errors by the
// field paths they stand for.
func (b *beacons) translate(err error) error {
	path := b.pathOf
	var ce *search.ConfigError
	if errors.As(err, &ce) {
		out := *ce
		out.Attribute = path(ce.Attribute)
		return &out
	}
	var ie *search.ItemError
	if errors.As(err, &ie) {
		out := *ie
		out.Attribute = path(ie.Attribute)
		return &out
	}
	return err
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

// item is the plaintext item the Search hashes for doc: the string at each
// field path the beacons read under the path's attribute (an AsSet
// beacon's array of strings as a string set: duplicates count once, an
// empty array gets no beacon), and the document's value of each signed
// beacon. Null and missing fields get no beacon; any other value is
// refused, and so is, when forWrite, a field named as a beacon that filters
// name.
func (b *beacons) item(doc bsoncore.Document, forWrite bool) (search.Item, error) {
	item := make(search.Item, len(b.refs))
	for _, r := range b.refs {
		v, ok, err := lookup(doc, r.parts)
		if err != nil {
			return nil, fieldErr(r.path, actions.EncryptAndSign, err)
		}
		if !ok || v.Type == bsoncore.TypeNull || v.Type == bsoncore.TypeUndefined {
			continue
		}
		if r.asSet {
			set, err := stringSet(v)
			if err != nil {
				return nil, fieldErr(r.path, actions.EncryptAndSign, err)
			}
			if len(set) > 0 {
				item[r.attr] = &types.AttributeValueMemberSS{Value: set}
			}
			continue
		}
		str, isStr := v.StringValueOK()
		if !isStr {
			return nil, fieldErr(r.path, actions.EncryptAndSign, fmt.Errorf("%w (field of type %s)", ErrBeaconValue, v.Type))
		}
		item[r.attr] = &types.AttributeValueMemberS{Value: str}
	}
	for name, nb := range b.byName {
		v, err := doc.LookupErr(name)
		if err != nil {
			continue
		}
		if !slices.Contains(b.signed, name) {
			if !forWrite {
				continue
			}
			return nil, fieldErr(name, actions.DoNothing, fmt.Errorf("%w: filters read %q as the beacon", ErrBeaconField, nb.name))
		}
		str, ok := v.StringValueOK()
		if !ok {
			return nil, fieldErr(name, actions.SignOnly, fmt.Errorf("%w: the signed beacon's field holds a %s", ErrBeaconField, v.Type))
		}
		item[name] = &types.AttributeValueMemberS{Value: str}
	}
	return item, nil
}

// stringSet returns the distinct members of an array of strings, in order.
func stringSet(v bsoncore.Value) ([]string, error) {
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, fmt.Errorf("%w: an AsSet beacon's field holds an array of strings, not a %s", ErrBeaconValue, v.Type)
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, errMalformed
	}
	out := make([]string, 0, len(vals))
	for _, m := range vals {
		s, ok := m.StringValueOK()
		if !ok {
			return nil, fmt.Errorf("%w: an AsSet beacon's array holds a %s", ErrBeaconValue, m.Type)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// prepare returns the document to encrypt (doc with the signed beacons its
// fields build appended, a supplied one checked) and the item whose
// beacons [beacons.appendBeacons] writes.
func (b *beacons) prepare(doc []byte) ([]byte, search.Item, error) {
	item, err := b.item(doc, true)
	if err != nil {
		return nil, nil, err
	}
	if len(b.signed) == 0 {
		return doc, item, nil
	}
	parts := maps.Clone(item)
	for _, name := range b.signed {
		delete(parts, name)
	}
	built, err := b.s.AddSignedBeacons(parts)
	if err != nil {
		return nil, nil, b.itemErr(err)
	}
	out := slices.Clip(doc[:len(doc)-1])
	added := false
	for _, name := range b.signed {
		v, ok := built[name].(*types.AttributeValueMemberS)
		if supplied, has := item[name].(*types.AttributeValueMemberS); has {
			if !ok || v.Value != supplied.Value {
				return nil, nil, fieldErr(name, actions.SignOnly, fmt.Errorf("%w: the document's value of the signed beacon is not the one its parts build", ErrBeaconField))
			}
			continue
		}
		if ok {
			out = bsoncore.AppendStringElement(out, name, v.Value)
			added = true
		}
	}
	if !added {
		return doc, item, nil
	}
	out = append(out, 0)
	return bsoncore.UpdateLength(out, 0, int32(len(out))), item, nil
}

// itemErr is an error of the Search on a document's item, with field paths.
func (b *beacons) itemErr(err error) error {
	var ie *search.ItemError
	if !errors.As(err, &ie) {
		return err
	}
	t := b.translate(err).(*search.ItemError)
	if p, ok := b.partPath[ie.Beacon+"\x00"+ie.Attribute]; ok {
		t.Attribute = p
	}
	return fieldErr(t.Attribute, b.schema.cover(split(t.Attribute)), t)
}

// appendBeacons appends the beacons of item (see [beacons.prepare]) to the
// stored document stored, whose encrypted item is encrypted.
func (b *beacons) appendBeacons(ctx context.Context, stored []byte, item search.Item, encrypted itemcrypto.Item) ([]byte, error) {
	fields, err := b.s.EncryptedBeacons(ctx, item, encrypted)
	if err != nil {
		return nil, b.itemErr(err)
	}
	out := stored[: len(stored)-1 : len(stored)-1]
	for _, name := range b.stored {
		switch v := fields[name].(type) {
		case nil:
		case *types.AttributeValueMemberS:
			out = bsoncore.AppendStringElement(out, name, v.Value)
		case *types.AttributeValueMemberSS:
			arr := bsoncore.NewArrayBuilder()
			for _, s := range v.Value {
				arr.AppendString(s)
			}
			out = bsoncore.AppendArrayElement(out, name, arr.Build())
		default:
			return nil, fmt.Errorf("mongoenc: beacon %s is neither a string nor a string set", name)
		}
	}
	out = append(out, 0)
	return bsoncore.UpdateLength(out, 0, int32(len(out))), nil
}

// BeaconIndexes returns the index models [Collection.CreateBeaconIndexes]
// creates: one ascending index on each beacon's stored field
// (aws_dbe_b_<name>, or a signed beacon's own field), named after the field
// with "_1" appended; none without Config.Search.
func (c *Collection) BeaconIndexes() []mongo.IndexModel {
	if c.beacons == nil {
		return nil
	}
	out := make([]mongo.IndexModel, 0, len(c.beacons.stored))
	for _, name := range c.beacons.s.BeaconAttributes() {
		if name == search.VersionTag {
			continue
		}
		out = append(out, mongo.IndexModel{
			Keys:    bson.D{{Key: name, Value: 1}},
			Options: options.Index().SetName(name + "_1"),
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
