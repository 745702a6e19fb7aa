package rotate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// PlanCollection is the collection, in the database of the collection
// being rotated, where RunMongo keeps the _id ranges of a rotation over
// several segments, so that every process of the rotation splits the
// collection the same way. Its documents are small and may be dropped once
// the rotation is done.
const PlanCollection = "itemcrypto_rotate_plans"

// DefaultMongoPageSize is the number of documents of one find request when
// Config.PageSize is 0.
const DefaultMongoPageSize = 100

// RunMongo rotates the documents of a MongoDB collection, as Run does the
// items of a DynamoDB table: source reads them as they are stored now and
// target writes them anew. Both must be collections of package mongoenc
// over the same driver collection, with the same actions and signing name
// (their keys and formats differ); Config.Table, Source and Target must be
// left empty.
//
// Segments are _id ranges: the _id values at every 1/Segments of the
// collection in _id order, computed by the first process of a rotation and
// kept in PlanCollection for the others (a dry run computes them without
// keeping them). Every _id of the collection must have one BSON type (the
// numeric types count as one), since MongoDB compares values of one type
// only. Documents are read in _id order, Config.PageSize (default
// DefaultMongoPageSize) per request, and a segment's position is the _id of
// its last document processed.
//
// A document is written back with an update on condition that it still has
// the reserved fields (signature and description, or DB-ESDK header and
// footer) it was read with: it sets only the fields whose stored bytes the
// rotation changed (encrypted fields, reserved fields, a parent document
// holding an encrypted field) and unsets the reserved fields of the old
// format, so a concurrent update of a DoNothing field survives.
//
// Beacons (mongoenc.Config.Search) are recomputed: a rotated document
// carries exactly the target's beacons, computed from its plaintext under
// the target's beacon key and configuration, and none of the beacon fields
// the target does not have. A document that is already current but whose
// beacon fields differ from the target's (written before the collection
// had beacons, or under another beacon key or length) has its beacon
// fields alone rewritten by the same conditional update, and counts as
// rotated. A rotation to the same keys with a target that has
// Config.Search is therefore how an existing collection gets beacons, and
// one with a target without it how they are removed. A document whose
// beaconed field holds a value other than a string fails (its beacon
// cannot be computed). The target's beacons are part of the rotation's
// identity: a checkpoint of a rotation to other beacons is refused. A
// target with Config.Search cannot carry the DB-ESDK legacy override
// (mongoenc refuses it): for a migration from the DDBEC give the target
// the DB-ESDK configuration alone, the source reads the DDBEC documents.
func RunMongo(ctx context.Context, source, target *mongoenc.Collection, cfg Config) (Stats, error) {
	st, err := newMongoStore(source, target, cfg)
	if err != nil {
		return Stats{}, err
	}
	cfg.Source, cfg.Target = source.Encryptor(), target.Encryptor()
	return runStore(ctx, st, cfg)
}

func newMongoStore(source, target *mongoenc.Collection, cfg Config) (*mongoStore, error) {
	switch {
	case source == nil || target == nil:
		return nil, errors.New("rotate: RunMongo needs the source and the target collection")
	case cfg.Table != "" || cfg.Source != nil || cfg.Target != nil:
		return nil, errors.New("rotate: RunMongo takes the collection and its encryptors from source and target: leave Config.Table, Source and Target empty")
	case cfg.TargetSearch != nil:
		return nil, errors.New("rotate: RunMongo takes the beacons from the target collection's Config.Search: leave Config.TargetSearch empty")
	case source.Unprotected() != target.Unprotected() &&
		(source.Database().Name() != target.Database().Name() || source.Name() != target.Name()):
		return nil, errors.New("rotate: RunMongo: source and target are not the same collection")
	case source.Encryptor().TableName() != target.Encryptor().TableName():
		return nil, errors.New("rotate: RunMongo: source and target have different signing names")
	}
	sp, tp := source.Policy(), target.Policy()
	if sp.Default() != tp.Default() || !maps.Equal(sp.Overrides(), tp.Overrides()) {
		return nil, errors.New("rotate: RunMongo: source and target must have the same actions (a document's fields are mapped once)")
	}
	for _, e := range []*itemcrypto.Encryptor{source.Encryptor(), target.Encryptor()} {
		for _, name := range e.ReservedAttributes() {
			if !source.Encryptor().IsReserved(name) || !target.Encryptor().IsReserved(name) {
				return nil, fmt.Errorf("rotate: RunMongo: %q is reserved on one side only: give the DDBEC side of a format migration the DB-ESDK configuration too (as readers during a migration have)", name)
			}
		}
	}
	size := cfg.PageSize
	if size == 0 {
		size = DefaultMongoPageSize
	}
	return &mongoStore{src: source, dst: target, coll: source.Unprotected(), pageSize: size, dryRun: cfg.DryRun,
		ns: source.Database().Name() + "." + source.Name()}, nil
}

// mongoStore is a MongoDB collection; its segments are _id ranges.
type mongoStore struct {
	src, dst *mongoenc.Collection
	coll     *mongo.Collection
	ns       string
	pageSize int32
	dryRun   bool
	// bounds are the _id values between the segments: segment i holds the
	// _ids from bounds[i-1] (included; none for the first) to bounds[i]
	// (excluded; none for the last). Fewer than segments-1 bounds leave
	// the segments after them empty.
	bounds []bson.RawValue
}

var _ store = (*mongoStore)(nil)

func (m *mongoStore) ident() string { return "mongodb:" + m.ns }

// idKey is the Key of a document's _id: its BSON type byte and value, as
// mongoenc maps it onto the core's item.
func idKey(v bson.RawValue) Key {
	b := append([]byte{byte(v.Type)}, v.Value...)
	return Key{mongoenc.IDField: &types.AttributeValueMemberB{Value: b}}
}

func keyID(k Key) (bson.RawValue, bool) {
	b, ok := k[mongoenc.IDField].(*types.AttributeValueMemberB)
	if !ok || len(b.Value) < 1 {
		return bson.RawValue{}, false
	}
	v := bson.RawValue{Type: bson.Type(b.Value[0]), Value: b.Value[1:]}
	if v.Validate() != nil {
		return bson.RawValue{}, false
	}
	return v, true
}

func (m *mongoStore) keyString(k Key) string {
	v, ok := keyID(k)
	if !ok {
		return k.String()
	}
	return `{"_id":` + v.String() + `}`
}

func (m *mongoStore) open(ctx context.Context, pk, sk string) (itemcrypto.Item, int64, error) {
	if pk != mongoenc.IDField || sk != "" {
		return nil, 0, fmt.Errorf("rotate: %s: the policies' keys are %q and %q, want _id only", m.ns, pk, sk)
	}
	n, err := m.coll.EstimatedDocumentCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("rotate: counting the documents of %s: %w", m.ns, err)
	}
	oid := bson.NewObjectID()
	return itemcrypto.Item(idKey(bson.RawValue{Type: bson.TypeObjectID, Value: oid[:]})), n, nil
}

func (m *mongoStore) count(ctx context.Context, wait func(context.Context) error) (int64, error) {
	if err := wait(ctx); err != nil {
		return 0, err
	}
	n, err := m.coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("rotate: counting the documents of %s: %w", m.ns, err)
	}
	return n, nil
}

// planDoc is a document of PlanCollection.
type planDoc struct {
	ID         string          `bson:"_id"`
	Collection string          `bson:"collection"`
	Segments   int             `bson:"segments"`
	Bounds     []bson.RawValue `bson:"bounds"`
	Created    time.Time       `bson:"created"`
}

func (m *mongoStore) plan(ctx context.Context, n int, rotation string) error {
	if n == 1 {
		return nil
	}
	plans := m.coll.Database().Collection(PlanCollection)
	load := func() (bool, error) {
		var p planDoc
		err := plans.FindOne(ctx, bson.D{{Key: "_id", Value: rotation}}).Decode(&p)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("rotate: reading the _id ranges of the rotation from %s: %w", PlanCollection, err)
		}
		if p.Segments != n || p.Collection != m.ns || len(p.Bounds) > n-1 {
			return false, fmt.Errorf("rotate: the plan %s in %s is not for %d segments of %s", rotation, PlanCollection, n, m.ns)
		}
		m.bounds = p.Bounds
		return true, nil
	}
	if !m.dryRun {
		if ok, err := load(); ok || err != nil {
			return err
		}
	}
	bounds, err := m.split(ctx, n)
	if err != nil {
		return err
	}
	m.bounds = bounds
	if m.dryRun {
		return nil
	}
	_, err = plans.InsertOne(ctx, planDoc{ID: rotation, Collection: m.ns, Segments: n, Bounds: bounds, Created: time.Now().UTC()})
	if mongo.IsDuplicateKeyError(err) { // another process was first: take its plan
		if ok, err := load(); ok || err != nil {
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("rotate: keeping the _id ranges of the rotation in %s: %w", PlanCollection, err)
	}
	return nil
}

// split computes the bounds of n segments: the _ids at every 1/n of the
// collection in _id order.
func (m *mongoStore) split(ctx context.Context, n int) ([]bson.RawValue, error) {
	idOnly := options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetSort(bson.D{{Key: "_id", Value: 1}})
	first, err := m.idAt(ctx, idOnly)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil // empty: segment 0 takes whatever comes
	}
	if err != nil {
		return nil, err
	}
	typ := any(int32(first.Type))
	if isNumber(first.Type) {
		typ = "number"
	}
	other, err := m.coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$type", Value: typ}}}}}})
	if err != nil {
		return nil, fmt.Errorf("rotate: checking the _id types of %s: %w", m.ns, err)
	}
	if other > 0 {
		return nil, fmt.Errorf("rotate: %s: %d documents have an _id of another BSON type than %s; split by _id ranges needs one type: rotate with --segments 1", m.ns, other, first.Type)
	}
	total, err := m.coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("rotate: counting the documents of %s: %w", m.ns, err)
	}
	var bounds []bson.RawValue
	for i := 1; i < n; i++ {
		skip := int64(i) * total / int64(n)
		if skip == 0 {
			continue
		}
		id, err := m.idAt(ctx, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetSort(bson.D{{Key: "_id", Value: 1}}).SetSkip(skip))
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(bounds) > 0 && bounds[len(bounds)-1].Equal(id) {
			continue
		}
		bounds = append(bounds, id)
	}
	return bounds, nil
}

func (m *mongoStore) idAt(ctx context.Context, opts *options.FindOneOptionsBuilder) (bson.RawValue, error) {
	raw, err := m.coll.FindOne(ctx, bson.D{}, opts).Raw()
	if err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return bson.RawValue{}, err
		}
		return bson.RawValue{}, fmt.Errorf("rotate: splitting %s into _id ranges: %w", m.ns, err)
	}
	v, err := raw.LookupErr("_id")
	if err != nil {
		return bson.RawValue{}, fmt.Errorf("rotate: splitting %s into _id ranges: a document without _id", m.ns)
	}
	return bson.RawValue{Type: v.Type, Value: bytes.Clone(v.Value)}, nil
}

func isNumber(t bson.Type) bool {
	return t == bson.TypeInt32 || t == bson.TypeInt64 || t == bson.TypeDouble || t == bson.TypeDecimal128
}

type mongoPager struct {
	m      *mongoStore
	seg    int
	after  *bson.RawValue
	lo, hi *bson.RawValue
	empty  bool
}

func (m *mongoStore) pages(seg int, after Key) pager {
	p := &mongoPager{m: m, seg: seg}
	if seg > 0 {
		if seg-1 >= len(m.bounds) {
			p.empty = true // fewer documents than segments
		} else {
			p.lo = &m.bounds[seg-1]
		}
	}
	if seg < len(m.bounds) {
		p.hi = &m.bounds[seg]
	}
	if v, ok := keyID(after); ok {
		p.after = &v
	}
	return p
}

func (p *mongoPager) next(ctx context.Context) ([]record, Key, bool, error) {
	if p.empty {
		return nil, nil, true, nil
	}
	var cond bson.D
	switch {
	case p.after != nil:
		cond = append(cond, bson.E{Key: "$gt", Value: *p.after})
	case p.lo != nil:
		cond = append(cond, bson.E{Key: "$gte", Value: *p.lo})
	}
	if p.hi != nil {
		cond = append(cond, bson.E{Key: "$lt", Value: *p.hi})
	}
	filter := bson.D{}
	if len(cond) > 0 {
		filter = bson.D{{Key: "_id", Value: cond}}
	}
	cur, err := p.m.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(p.m.pageSize)))
	if err != nil {
		return nil, nil, false, fmt.Errorf("rotate: find in %s segment %d: %w", p.m.ns, p.seg, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var recs []record
	for cur.Next(ctx) {
		doc := bytes.Clone(cur.Current) // the driver reuses its buffers
		idv, err := bson.Raw(doc).LookupErr("_id")
		if err != nil {
			return nil, nil, false, fmt.Errorf("rotate: %s: a document without _id", p.m.ns)
		}
		rec := record{key: idKey(idv), doc: doc}
		if rec.item, err = p.m.src.StoredItem(doc); err != nil {
			rec.err = err
		}
		recs = append(recs, rec)
	}
	if err := cur.Err(); err != nil {
		return nil, nil, false, fmt.Errorf("rotate: find in %s segment %d: %w", p.m.ns, p.seg, err)
	}
	if len(recs) == 0 {
		return nil, nil, true, nil
	}
	last, _ := keyID(recs[len(recs)-1].key)
	p.after = &last
	return recs, recs[len(recs)-1].key, len(recs) < int(p.m.pageSize), nil
}

// targetExtra is the target's beacons: a rotation to other beacons is
// another rotation.
func (m *mongoStore) targetExtra(ctx context.Context) (string, error) {
	id, err := m.dst.BeaconIdentity(ctx)
	if err != nil {
		return "", fmt.Errorf("rotate: %s: the target's beacons: %w", m.ns, err)
	}
	return id, nil
}

// frame returns the document framed anew with next, with exactly the
// target's beacons, computed from plain: those of the source that the
// target does not have are dropped.
func (m *mongoStore) frame(ctx context.Context, rec record, plain, next itemcrypto.Item) (written, error) {
	doc, err := m.dst.StoredDocument(rec.doc, next)
	if err != nil {
		return written{}, err
	}
	if doc, err = m.dst.WithBeacons(ctx, doc, plain); err != nil {
		return written{}, err
	}
	return written{doc: doc}, nil
}

// refresh returns the current document with exactly the target's beacons,
// when it does not have them already: a document written before the
// collection had beacons, or under another beacon key or configuration.
func (m *mongoStore) refresh(ctx context.Context, rec record, plain itemcrypto.Item) (written, bool, error) {
	// In any partition the document may have been written in: without a
	// partition selector a partition is picked at random on write.
	if current, err := m.dst.BeaconsCurrent(ctx, rec.doc, plain); err != nil || current {
		return written{}, false, err
	}
	// Not current: the target's beacons differ from the stored ones in
	// every partition, so the document WithBeacons returns differs too.
	doc, err := m.dst.WithBeacons(ctx, rec.doc, plain)
	if err != nil {
		return written{}, false, err
	}
	return written{doc: doc}, true, nil
}

// writeBack updates the document: it sets the fields whose stored bytes
// differ in w's document and unsets those w's document no longer has, on
// condition that the document still has the reserved fields it was read
// with.
func (m *mongoStore) writeBack(ctx context.Context, rec record, w written, reserved []string, _ func(string) bool) (outcome, *Issue, error) {
	newDoc := w.doc
	id, _ := keyID(rec.key)
	filter := bson.D{{Key: "_id", Value: id}}
	old := bsoncore.Document(rec.doc)
	for _, name := range reserved {
		if v, err := old.LookupErr(name); err == nil {
			filter = append(filter, bson.E{Key: name, Value: bson.RawValue{Type: bson.Type(v.Type), Value: v.Data}})
		}
	}
	if len(filter) == 1 { // Decrypt verified the document: cannot happen
		return 0, nil, errors.New("rotate: internal error: verified document without reserved fields")
	}
	var set, unset bson.D
	if err := diffFields("", old, bsoncore.Document(newDoc), &set, &unset); err != nil {
		return 0, nil, fmt.Errorf("rotate: internal error: %w", err)
	}
	update := bson.D{}
	if len(set) > 0 {
		update = append(update, bson.E{Key: "$set", Value: set})
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	if len(update) == 0 {
		return outRotated, nil, nil
	}
	res, err := m.coll.UpdateOne(ctx, filter, update)
	if err == nil && res.MatchedCount == 0 {
		return outConflict, &Issue{Key: rec.key, Reason: conflictReason}, nil
	}
	if err == nil {
		return outRotated, nil, nil
	}
	var we mongo.WriteException
	if errors.As(err, &we) && len(we.WriteErrors) > 0 {
		// This document cannot be written (too large under the target,
		// say); the server's message may quote values, its code does not.
		return outFailed, &Issue{Key: rec.key, Reason: fmt.Sprintf("writing it back: server error code %d", we.WriteErrors[0].Code)}, nil
	}
	return 0, nil, fmt.Errorf("rotate: writing document %s back to %s: %w", m.keyString(rec.key), m.ns, err)
}

// diffFields appends to set the fields of newDoc (at path prefix) whose
// stored bytes differ from oldDoc's, and to unset the fields of oldDoc that
// newDoc lacks. It descends into an embedded document both hold (the parent
// of a configured path such as "profile.ssn"), so that a concurrent update
// of a DoNothing field beside a rotated one ("profile.lastSeen") survives;
// a document whose field names would not read as a path ('.', '$') is set
// whole.
func diffFields(prefix string, oldDoc, newDoc bsoncore.Document, set, unset *bson.D) error {
	elems, err := newDoc.Elements()
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(elems))
	for _, e := range elems {
		key := e.Key()
		seen[key] = true
		if prefix == "" && key == mongoenc.IDField {
			continue
		}
		nv := e.Value()
		ov, err := oldDoc.LookupErr(key)
		if err == nil && ov.Type == nv.Type && bytes.Equal(ov.Data, nv.Data) {
			continue
		}
		if err == nil && ov.Type == bsoncore.TypeEmbeddedDocument && nv.Type == bsoncore.TypeEmbeddedDocument &&
			pathKeys(ov.Document()) && pathKeys(nv.Document()) {
			if err := diffFields(prefix+key+".", ov.Document(), nv.Document(), set, unset); err != nil {
				return err
			}
			continue
		}
		*set = append(*set, bson.E{Key: prefix + key, Value: bson.RawValue{Type: bson.Type(nv.Type), Value: nv.Data}})
	}
	oldElems, err := oldDoc.Elements()
	if err != nil {
		return err
	}
	for _, e := range oldElems {
		if !seen[e.Key()] {
			*unset = append(*unset, bson.E{Key: prefix + e.Key(), Value: ""})
		}
	}
	return nil
}

// pathKeys reports whether every field name of doc can be a segment of an
// update path.
func pathKeys(doc bsoncore.Document) bool {
	elems, err := doc.Elements()
	if err != nil {
		return false
	}
	for _, e := range elems {
		if k := e.Key(); k == "" || strings.Contains(k, ".") || strings.HasPrefix(k, "$") {
			return false
		}
	}
	return true
}
