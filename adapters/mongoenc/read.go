package mongoenc

import (
	stdcmp "cmp"
	"context"
	"errors"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// lister is an options.Lister of setters of our own, appended after the
// caller's (they run in order, so ours win).
type lister[T any] []func(*T) error

func (l lister[T]) List() []func(*T) error { return l }

// unprojected adds an option that removes the caller's projection from the
// request when the client applies it itself after verification (proj set):
// the server must return whole documents for the signature to be checked.
func unprojected[T any](opts []options.Lister[T], proj *projection, drop func(*T)) []options.Lister[T] {
	if proj == nil {
		return opts
	}
	return append(slices.Clone(opts), lister[T]{func(o *T) error { drop(o); return nil }})
}

// collect applies the caller's options to a zero T, as the driver does, so
// the client can read them.
func collect[T any](opts []options.Lister[T]) (*T, error) {
	var o T
	for _, l := range opts {
		if l == nil {
			continue
		}
		for _, fn := range l.List() {
			if fn == nil {
				continue
			}
			if err := fn(&o); err != nil {
				return nil, err
			}
		}
	}
	return &o, nil
}

func (c *Collection) guard(op string) guard { return guard{op: op, ns: c.ns, s: c.schema} }

// opErr wraps an error of the server, the driver or the encryptor; a
// mongo.ErrNoDocuments, and an error that already says which operation
// failed, are returned as they are.
func (c *Collection) opErr(op string, err error) error {
	if err == nil || errors.Is(err, mongo.ErrNoDocuments) {
		return err
	}
	var (
		ue *UnsafeOperationError
		de *DocumentError
		oe *OpError
	)
	if errors.As(err, &ue) || errors.As(err, &de) || errors.As(err, &oe) {
		return err
	}
	return &OpError{Op: op, Collection: c.ns, Err: err}
}

// errResult is a SingleResult that fails with err.
func errResult(err error) *mongo.SingleResult {
	return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
}

// checkFilter marshals filter and refuses it when it reads encrypted fields.
// What it checked is what is sent.
func (c *Collection) checkFilter(g guard, param string, filter any) (bson.Raw, error) {
	doc, err := c.marshal(filter)
	if err != nil {
		return nil, c.opErr(g.op, err)
	}
	if err := g.filter(param, doc); err != nil {
		return nil, err
	}
	return bson.Raw(doc), nil
}

// readOptions are the options of a read that the client checks.
type readOptions struct {
	projection, sort any
	min, max         any
	returnKey        *bool
	showRecordID     *bool
}

// checkRead refuses a sort on an encrypted field and the options that make
// the server return something other than whole documents, and parses the
// projection, which is then applied to the plaintext (nil: none, or the
// policy does nothing and the server applies it).
func (c *Collection) checkRead(g guard, o readOptions) (*projection, error) {
	if err := stdcmp.Or(g.sort("sort", o.sort, c), g.sort("min", o.min, c), g.sort("max", o.max, c)); err != nil {
		return nil, err
	}
	if c.schema.noop {
		return nil, nil
	}
	if o.returnKey != nil && *o.returnKey {
		return nil, g.refuse("", "ReturnKey returns index keys instead of documents, which cannot be verified")
	}
	if o.showRecordID != nil && *o.showRecordID {
		return nil, g.refuse("", "ShowRecordID adds a field to every document, which then cannot be verified")
	}
	if o.projection == nil {
		return nil, nil
	}
	spec, err := c.marshal(o.projection)
	if err != nil {
		return nil, g.refuse("", "projection: %v", err)
	}
	p, field, err := parseProjection(spec)
	if err != nil {
		return nil, g.refuse(field, "%v", err)
	}
	return p, nil
}

// decryptResult verifies and decrypts the document of a SingleResult.
func (c *Collection) decryptResult(ctx context.Context, op string, sr *mongo.SingleResult, proj *projection, written bool) *mongo.SingleResult {
	if c.schema.noop {
		return sr // stored as it is; the server applied any projection
	}
	raw, err := sr.Raw()
	if err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return sr
		}
		return errResult(c.opErr(op, err))
	}
	plain, err := c.decryptDoc(ctx, raw)
	if err != nil {
		return errResult(&DocumentError{Op: op, Collection: c.ns, ID: idOf(raw), Written: written, Err: err})
	}
	return mongo.NewSingleResultFromDocument(proj.apply(plain), nil, c.reg)
}

// FindOne finds a document and returns it verified and decrypted. The
// filter and the sort may not read encrypted fields ({$exists: ...}
// excepted); a projection (inclusion or exclusion of field paths) is applied
// to the plaintext, after the whole document has been read and verified. A
// document that fails verification makes the result's Err and Decode return
// a [*DocumentError]; no document is mongo.ErrNoDocuments, as with the
// driver.
//
// With Config.Search, beacon conditions are allowed: equality on a field
// with a standard beacon ({f: "v"}, $eq, $in), membership on an AsSet
// beacon's array ({f: "v"}, $eq, $in, $all), equality on a compound beacon
// or a virtual field's beacon named by the beacon's name, a literal prefix
// of a compound beacon ([BeginsWith]), under $and, $or and $nor (a $nor
// branch with a beacon condition is decided by the client, after a read of
// whatever the rest of the filter selects). The filter sent compares the
// stored beacons, and the first document that matches the original filter
// after decryption is returned (beacon collisions are skipped; Skip counts
// matching documents only). With a multi-tenant key source the filter
// names its tenant by equality on the key field at its top level. See the
// README's "Searchable encryption on MongoDB (beacons)".
func (c *Collection) FindOne(ctx context.Context, filter any,
	opts ...options.Lister[options.FindOneOptions],
) *mongo.SingleResult {
	const op = "FindOne"
	g := c.guard(op)
	f, match, err := c.searchFilter(ctx, g, filter)
	if err != nil {
		return errResult(err)
	}
	o, err := collect(opts)
	if err != nil {
		return errResult(c.opErr(op, err))
	}
	proj, err := c.checkRead(g, readOptions{projection: o.Projection, sort: o.Sort, min: o.Min, max: o.Max,
		returnKey: o.ReturnKey, showRecordID: o.ShowRecordID})
	if err != nil {
		return errResult(err)
	}
	if match != nil {
		if o.Collation != nil {
			return errResult(g.refuse("", "a collation with a filter on a field with a beacon: a beacon matches exact strings only"))
		}
		return c.findOneMatching(ctx, op, f, match, o, proj)
	}
	opts = unprojected(opts, proj, func(o *options.FindOneOptions) { o.Projection = nil })
	return c.decryptResult(ctx, op, c.coll.FindOne(ctx, f, opts...), proj, false)
}

// findOneMatching is FindOne with a rewritten beacon filter: the first
// document that matches after decryption (the server's first may be a false
// positive), found with a Find whose Skip is applied by the client.
func (c *Collection) findOneMatching(ctx context.Context, op string, f bson.Raw, match *cond, o *options.FindOneOptions, proj *projection) *mongo.SingleResult {
	fo := &options.FindOptions{AllowPartialResults: o.AllowPartialResults, Collation: o.Collation, Comment: o.Comment,
		Hint: o.Hint, Max: o.Max, Min: o.Min, Sort: o.Sort}
	cur, err := c.coll.Find(ctx, f, lister[options.FindOptions]{func(dst *options.FindOptions) error { *dst = *fo; return nil }})
	if err != nil {
		return errResult(c.opErr(op, err))
	}
	cr := &Cursor{c: c, op: op, cur: cur, proj: proj, match: match, limit: 1}
	if o.Skip != nil {
		cr.skip = *o.Skip
	}
	defer cr.Close(context.WithoutCancel(ctx))
	if !cr.Next(ctx) {
		if err := cr.Err(); err != nil {
			return errResult(err)
		}
		return errResult(mongo.ErrNoDocuments)
	}
	return mongo.NewSingleResultFromDocument(cr.Current, nil, c.reg)
}

// Find finds documents and returns a [*Cursor] that verifies and decrypts
// each one as it iterates, with the rules of [Collection.FindOne] for the
// filter, the sort and the projection. A document that fails verification
// fails that Next (Err returns a [*DocumentError] naming its _id); it is
// never skipped. With a beacon filter (see [Collection.FindOne]) the cursor
// drops the documents that only a beacon collision returned, and applies
// Skip and Limit itself, to the matching documents.
func (c *Collection) Find(ctx context.Context, filter any,
	opts ...options.Lister[options.FindOptions],
) (*Cursor, error) {
	const op = "Find"
	g := c.guard(op)
	f, match, err := c.searchFilter(ctx, g, filter)
	if err != nil {
		return nil, err
	}
	o, err := collect(opts)
	if err != nil {
		return nil, c.opErr(op, err)
	}
	proj, err := c.checkRead(g, readOptions{projection: o.Projection, sort: o.Sort, min: o.Min, max: o.Max,
		returnKey: o.ReturnKey, showRecordID: o.ShowRecordID})
	if err != nil {
		return nil, err
	}
	opts = unprojected(opts, proj, func(o *options.FindOptions) { o.Projection = nil })
	var skip, limit int64
	if match != nil {
		if o.Collation != nil {
			return nil, g.refuse("", "a collation with a filter on a field with a beacon: a beacon matches exact strings only")
		}
		// The server's skip and limit would count the false positives.
		if o.Skip != nil {
			skip = *o.Skip
		}
		if o.Limit != nil {
			limit = max(*o.Limit, -*o.Limit)
		}
		opts = append(slices.Clone(opts), lister[options.FindOptions]{func(o *options.FindOptions) error {
			o.Skip, o.Limit = nil, nil
			return nil
		}})
	}
	cur, err := c.coll.Find(ctx, f, opts...)
	if err != nil {
		return nil, c.opErr(op, err)
	}
	return &Cursor{c: c, op: op, cur: cur, proj: proj, match: match, skip: skip, limit: limit}, nil
}

// FindOneAndDelete deletes a document and returns it verified and
// decrypted, with the rules of [Collection.FindOne] for the filter, the sort
// and the projection. When the deleted document fails verification, the
// result's error is a [*DocumentError] with Written set: the delete did
// happen. With a beacon filter, the first document in the order of the
// sort that matches after decryption is deleted, as for
// [Collection.DeleteOne].
func (c *Collection) FindOneAndDelete(ctx context.Context, filter any,
	opts ...options.Lister[options.FindOneAndDeleteOptions],
) *mongo.SingleResult {
	const op = "FindOneAndDelete"
	g := c.guard(op)
	f, match, err := c.searchFilter(ctx, g, filter)
	if err != nil {
		return errResult(err)
	}
	o, err := collect(opts)
	if err != nil {
		return errResult(c.opErr(op, err))
	}
	proj, err := c.checkRead(g, readOptions{projection: o.Projection, sort: o.Sort})
	if err != nil {
		return errResult(err)
	}
	opts = unprojected(opts, proj, func(o *options.FindOneAndDeleteOptions) { o.Projection = nil })
	if match != nil {
		if err := refuseCollation(g, o.Collation); err != nil {
			return errResult(err)
		}
		opts = without(opts, func(o *options.FindOneAndDeleteOptions) { o.Sort, o.Hint = nil, nil })
		return c.findOneAndMatching(ctx, op, f, match, candidates{sort: o.Sort, hint: o.Hint, comment: o.Comment, let: o.Let}, proj,
			func(p bson.Raw, _ bsoncore.Document) (*mongo.SingleResult, error) {
				return c.coll.FindOneAndDelete(ctx, p, opts...), nil
			})
	}
	return c.decryptResult(ctx, op, c.coll.FindOneAndDelete(ctx, f, opts...), proj, true)
}

// CountDocuments counts the documents that match filter, which may not read
// encrypted fields ({$exists: ...} excepted). With Config.Search, equality on
// a field with a beacon is allowed as in [Collection.FindOne]: the
// candidates are read, verified and decrypted, and only those that match
// the original filter are counted (Skip and Limit count those), so the
// count is exact, at the cost of reading every candidate.
func (c *Collection) CountDocuments(ctx context.Context, filter any,
	opts ...options.Lister[options.CountOptions],
) (int64, error) {
	const op = "CountDocuments"
	g := c.guard(op)
	f, match, err := c.searchFilter(ctx, g, filter)
	if err != nil {
		return 0, err
	}
	if match != nil {
		o, err := collect(opts)
		if err != nil {
			return 0, c.opErr(op, err)
		}
		if err := refuseCollation(g, o.Collation); err != nil {
			return 0, err
		}
		return c.countMatching(ctx, op, f, match, o)
	}
	n, err := c.coll.CountDocuments(ctx, f, opts...)
	return n, c.opErr(op, err)
}

// EstimatedDocumentCount passes through: it reads only collection metadata.
func (c *Collection) EstimatedDocumentCount(ctx context.Context,
	opts ...options.Lister[options.EstimatedDocumentCountOptions],
) (int64, error) {
	n, err := c.coll.EstimatedDocumentCount(ctx, opts...)
	return n, c.opErr("EstimatedDocumentCount", err)
}

// DeleteOne deletes a document. The filter may not read encrypted fields
// ({$exists: ...} excepted), except for equality on a field with a beacon
// (Config.Search, see [Collection.FindOne]): then the first candidate that
// matches after decryption is deleted by its _id and the footer that was
// read, so a document that only shares a beacon is never deleted, nor one
// that changed since it was read (the next match is tried instead). See
// the README's "Writes with a beacon filter".
func (c *Collection) DeleteOne(ctx context.Context, filter any,
	opts ...options.Lister[options.DeleteOneOptions],
) (*mongo.DeleteResult, error) {
	const op = "DeleteOne"
	g := c.guard(op)
	f, match, err := c.searchFilter(ctx, g, filter)
	if err != nil {
		return nil, err
	}
	if match != nil {
		o, err := collect(opts)
		if err != nil {
			return nil, c.opErr(op, err)
		}
		if err := refuseCollation(g, o.Collation); err != nil {
			return nil, err
		}
		opts = without(opts, func(o *options.DeleteOneOptions) { o.Hint = nil })
		return c.deleteMatching(ctx, op, f, match, false, candidates{hint: o.Hint, comment: o.Comment, let: o.Let},
			func(p bson.Raw) (*mongo.DeleteResult, error) { return c.coll.DeleteOne(ctx, p, opts...) })
	}
	res, err := c.coll.DeleteOne(ctx, f, opts...)
	return res, c.opErr(op, err)
}

// DeleteMany deletes documents. The filter may not read encrypted fields
// ({$exists: ...} excepted), except for equality on a field with a beacon,
// as for [Collection.DeleteOne]: every candidate is read and verified, and
// the matching ones are deleted by _id and footer, in batches; DeletedCount
// is what the server deleted.
func (c *Collection) DeleteMany(ctx context.Context, filter any,
	opts ...options.Lister[options.DeleteManyOptions],
) (*mongo.DeleteResult, error) {
	const op = "DeleteMany"
	g := c.guard(op)
	f, match, err := c.searchFilter(ctx, g, filter)
	if err != nil {
		return nil, err
	}
	if match != nil {
		o, err := collect(opts)
		if err != nil {
			return nil, c.opErr(op, err)
		}
		if err := refuseCollation(g, o.Collation); err != nil {
			return nil, err
		}
		opts = without(opts, func(o *options.DeleteManyOptions) { o.Hint = nil })
		return c.deleteMatching(ctx, op, f, match, true, candidates{hint: o.Hint, comment: o.Comment, let: o.Let},
			func(p bson.Raw) (*mongo.DeleteResult, error) { return c.coll.DeleteMany(ctx, p, opts...) })
	}
	res, err := c.coll.DeleteMany(ctx, f, opts...)
	return res, c.opErr(op, err)
}
