package mongoenc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// protect marshals a document, gives it an _id (id, or a new ObjectID, when
// it has none), and encrypts and signs it. Errors are [*DocumentError]s.
func (c *Collection) protect(ctx context.Context, op string, index int, document any, id bsoncore.Value) (bson.Raw, error) {
	doc, err := c.marshal(document)
	if err != nil {
		return nil, &DocumentError{Op: op, Collection: c.ns, Index: index, Err: err}
	}
	doc, _, err = withID(doc, id)
	if err != nil {
		return nil, &DocumentError{Op: op, Collection: c.ns, Index: index, Err: err}
	}
	stored, err := c.encryptDoc(ctx, doc)
	if err != nil {
		return nil, &DocumentError{Op: op, Collection: c.ns, Index: index, ID: idOf(doc), Err: err}
	}
	return bson.Raw(stored), nil
}

// protectReplacement is protect for a replacement document: without an
// _id of its own it takes the one the filter pins ({_id: v} or
// {_id: {$eq: v}}), since the signature binds _id.
func (c *Collection) protectReplacement(ctx context.Context, op string, index int, filter bson.Raw, replacement any) (bson.Raw, error) {
	doc, err := c.marshal(replacement)
	if err != nil {
		return nil, &DocumentError{Op: op, Collection: c.ns, Index: index, Err: err}
	}
	if c.schema.noop {
		return bson.Raw(doc), nil
	}
	if _, err := doc.LookupErr(IDField); err != nil {
		id, ok := filterID(filter)
		if !ok {
			return nil, &DocumentError{Op: op, Collection: c.ns, Index: index, Err: fmt.Errorf("%w: give it one, "+
				"or filter on {_id: <value>}", ErrMissingID)}
		}
		return c.protect(ctx, op, index, doc, id)
	}
	return c.protect(ctx, op, index, doc, bsoncore.Value{})
}

// protectReplacementOf is protectReplacement for the replacement of the
// stored document read by a beacon filter: without an _id of its own, the
// replacement takes the stored document's.
func (c *Collection) protectReplacementOf(ctx context.Context, op string, stored bsoncore.Document, replacement any) (bson.Raw, error) {
	id, err := stored.LookupErr(IDField)
	if err != nil {
		return nil, &DocumentError{Op: op, Collection: c.ns, Err: ErrMissingID}
	}
	idDoc := bsoncore.NewDocumentBuilder().AppendValue(IDField, id).Build()
	return c.protectReplacement(ctx, op, 0, bson.Raw(idDoc), replacement)
}

// refuseBeaconReplace refuses a collation, and upsert, beside a beacon
// filter: whether to insert would be decided by the server's superset.
func refuseBeaconReplace(g guard, coll *options.Collation, upsert *bool) error {
	if err := refuseCollation(g, coll); err != nil {
		return err
	}
	if upsert != nil && *upsert {
		return g.refuse("", "upsert with a filter on a field with a beacon: the server would decide whether to "+
			"insert from the beacons' candidates, not from the matching documents; find first, then insert or replace by _id")
	}
	return nil
}

// filterID returns the _id a filter pins by equality.
func filterID(filter bson.Raw) (bsoncore.Value, bool) {
	v, err := bsoncore.Document(filter).LookupErr(IDField)
	if err != nil {
		return bsoncore.Value{}, false
	}
	doc, ok := v.DocumentOK()
	if !ok {
		return v, v.Type != bsoncore.TypeRegex
	}
	first, err := doc.IndexErr(0)
	if err != nil || len(first.Key()) == 0 || first.Key()[0] != '$' {
		return v, true // an embedded document _id
	}
	if elems, err := doc.Elements(); err == nil && len(elems) == 1 && first.Key() == "$eq" {
		return first.Value(), true
	}
	return bsoncore.Value{}, false
}

// InsertOne encrypts and signs document and inserts it. A document without
// _id gets a new ObjectID first, as the driver does, since the signature
// binds _id.
func (c *Collection) InsertOne(ctx context.Context, document any,
	opts ...options.Lister[options.InsertOneOptions],
) (*mongo.InsertOneResult, error) {
	const op = "InsertOne"
	stored, err := c.protect(ctx, op, 0, document, bsoncore.Value{})
	if err != nil {
		return nil, err
	}
	res, err := c.coll.InsertOne(ctx, stored, opts...)
	return res, c.opErr(op, err)
}

// InsertMany encrypts and signs every document (a slice, as for the
// driver) and inserts them. Nothing is sent unless every document could be
// protected; the first that cannot fails the call with a [*DocumentError]
// giving its index.
func (c *Collection) InsertMany(ctx context.Context, documents any,
	opts ...options.Lister[options.InsertManyOptions],
) (*mongo.InsertManyResult, error) {
	const op = "InsertMany"
	dv := reflect.ValueOf(documents)
	if dv.Kind() != reflect.Slice {
		return nil, c.opErr(op, fmt.Errorf("invalid documents: %w", mongo.ErrNotSlice))
	}
	if dv.Len() == 0 {
		return nil, c.opErr(op, fmt.Errorf("invalid documents: %w", mongo.ErrEmptySlice))
	}
	stored := make([]any, dv.Len())
	for i := range dv.Len() {
		s, err := c.protect(ctx, op, i, dv.Index(i).Interface(), bsoncore.Value{})
		if err != nil {
			return nil, err
		}
		stored[i] = s
	}
	res, err := c.coll.InsertMany(ctx, stored, opts...)
	return res, c.opErr(op, err)
}

// ReplaceOne replaces a document with replacement, encrypted and signed.
// The filter and the sort may not read encrypted fields ({$exists: ...}
// excepted). A replacement without _id takes the one the filter pins by
// equality, or is refused (the signature binds _id). Upsert is allowed: the
// inserted document is the protected replacement.
func (c *Collection) ReplaceOne(ctx context.Context, filter any, replacement any,
	opts ...options.Lister[options.ReplaceOptions],
) (*mongo.UpdateResult, error) {
	const op = "ReplaceOne"
	g := c.guard(op)
	f, match, err := c.searchFilter(ctx, g, filter)
	if err != nil {
		return nil, err
	}
	o, err := collect(opts)
	if err != nil {
		return nil, c.opErr(op, err)
	}
	if err := g.sort("sort", o.Sort, c); err != nil {
		return nil, err
	}
	if match != nil {
		if err := refuseBeaconReplace(g, o.Collation, o.Upsert); err != nil {
			return nil, err
		}
		opts = without(opts, func(o *options.ReplaceOptions) { o.Sort, o.Hint = nil, nil })
		res := &mongo.UpdateResult{Acknowledged: true}
		err := c.firstMatching(ctx, op, f, match, candidates{sort: o.Sort, hint: o.Hint, comment: o.Comment, let: o.Let},
			func(p bson.Raw, stored bsoncore.Document) (bool, error) {
				r, err := c.protectReplacementOf(ctx, op, stored, replacement)
				if err != nil {
					return false, err
				}
				if res, err = c.coll.ReplaceOne(ctx, p, r, opts...); err != nil {
					return false, c.opErr(op, err)
				}
				return res.MatchedCount > 0, nil
			})
		return res, err
	}
	stored, err := c.protectReplacement(ctx, op, 0, f, replacement)
	if err != nil {
		return nil, err
	}
	res, err := c.coll.ReplaceOne(ctx, f, stored, opts...)
	return res, c.opErr(op, err)
}

// FindOneAndReplace replaces a document with replacement, encrypted and
// signed (see [Collection.ReplaceOne]), and returns the old or the new
// document (options.After) verified and decrypted, with the rules of
// [Collection.FindOne] for the projection. When the returned document fails
// verification the result's error is a [*DocumentError] with Written set:
// the replacement did happen.
func (c *Collection) FindOneAndReplace(ctx context.Context, filter any, replacement any,
	opts ...options.Lister[options.FindOneAndReplaceOptions],
) *mongo.SingleResult {
	const op = "FindOneAndReplace"
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
	if match != nil {
		if err := refuseBeaconReplace(g, o.Collation, o.Upsert); err != nil {
			return errResult(err)
		}
		opts = unprojected(opts, proj, func(o *options.FindOneAndReplaceOptions) { o.Projection = nil })
		opts = without(opts, func(o *options.FindOneAndReplaceOptions) { o.Sort, o.Hint = nil, nil })
		return c.findOneAndMatching(ctx, op, f, match, candidates{sort: o.Sort, hint: o.Hint, comment: o.Comment, let: o.Let}, proj,
			func(p bson.Raw, stored bsoncore.Document) (*mongo.SingleResult, error) {
				r, err := c.protectReplacementOf(ctx, op, stored, replacement)
				if err != nil {
					return nil, err
				}
				return c.coll.FindOneAndReplace(ctx, p, r, opts...), nil
			})
	}
	stored, err := c.protectReplacement(ctx, op, 0, f, replacement)
	if err != nil {
		return errResult(err)
	}
	opts = unprojected(opts, proj, func(o *options.FindOneAndReplaceOptions) { o.Projection = nil })
	return c.decryptResult(ctx, op, c.coll.FindOneAndReplace(ctx, f, stored, opts...), proj, true)
}

// checkUpdate checks the filter, the update, upsert and the sort of an
// update and returns the filter and update to send.
func (c *Collection) checkUpdate(g guard, filter, update any, upsert *bool, sort any) (bson.Raw, any, error) {
	f, err := c.checkFilter(g, "filter", filter)
	if err != nil {
		return nil, nil, err
	}
	u, err := c.checkUpdateOnly(g, update, upsert, sort)
	return f, u, err
}

// searchUpdate is checkUpdate with a filter that may hold beacon
// conditions (match non-nil).
func (c *Collection) searchUpdate(ctx context.Context, g guard, filter, update any, upsert *bool, sort any) (bson.Raw, *cond, any, error) {
	f, match, err := c.searchFilter(ctx, g, filter)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := c.checkUpdateOnly(g, update, upsert, sort)
	return f, match, u, err
}

// checkUpdateOnly checks the update, upsert and the sort of an update.
func (c *Collection) checkUpdateOnly(g guard, update any, upsert *bool, sort any) (any, error) {
	u, err := g.update(update, c)
	if err != nil {
		return nil, err
	}
	if err := g.upsert(upsert); err != nil {
		return nil, err
	}
	if err := g.sort("sort", sort, c); err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateOne updates a document in place. It is allowed only when every
// field the update touches is DoNothing and holds no signed field: the
// signature covers the whole document, and a partial update cannot re-sign
// it. Anything else, an aggregation-pipeline update and upsert are refused
// with an [*UnsafeOperationError] before any request; replace the whole
// document instead. The filter and the sort may not read encrypted fields.
func (c *Collection) UpdateOne(ctx context.Context, filter any, update any,
	opts ...options.Lister[options.UpdateOneOptions],
) (*mongo.UpdateResult, error) {
	const op = "UpdateOne"
	g := c.guard(op)
	o, err := collect(opts)
	if err != nil {
		return nil, c.opErr(op, err)
	}
	f, match, u, err := c.searchUpdate(ctx, g, filter, update, o.Upsert, o.Sort)
	if err != nil {
		return nil, err
	}
	if match != nil {
		if err := refuseCollation(g, o.Collation); err != nil {
			return nil, err
		}
		opts = without(opts, func(o *options.UpdateOneOptions) { o.Sort, o.Hint = nil, nil })
		return c.updateMatching(ctx, op, f, match, false, candidates{sort: o.Sort, hint: o.Hint, comment: o.Comment, let: o.Let},
			func(p bson.Raw) (*mongo.UpdateResult, error) { return c.coll.UpdateOne(ctx, p, u, opts...) })
	}
	res, err := c.coll.UpdateOne(ctx, f, u, opts...)
	return res, c.opErr(op, err)
}

// UpdateByID is UpdateOne with the filter {_id: id}.
func (c *Collection) UpdateByID(ctx context.Context, id any, update any,
	opts ...options.Lister[options.UpdateOneOptions],
) (*mongo.UpdateResult, error) {
	if id == nil {
		return nil, c.opErr("UpdateByID", mongo.ErrNilValue)
	}
	return c.UpdateOne(ctx, bson.D{{Key: IDField, Value: id}}, update, opts...)
}

// UpdateMany updates documents in place, with the rules of
// [Collection.UpdateOne].
func (c *Collection) UpdateMany(ctx context.Context, filter any, update any,
	opts ...options.Lister[options.UpdateManyOptions],
) (*mongo.UpdateResult, error) {
	const op = "UpdateMany"
	g := c.guard(op)
	o, err := collect(opts)
	if err != nil {
		return nil, c.opErr(op, err)
	}
	f, match, u, err := c.searchUpdate(ctx, g, filter, update, o.Upsert, nil)
	if err != nil {
		return nil, err
	}
	if match != nil {
		if err := refuseCollation(g, o.Collation); err != nil {
			return nil, err
		}
		opts = without(opts, func(o *options.UpdateManyOptions) { o.Hint = nil })
		return c.updateMatching(ctx, op, f, match, true, candidates{hint: o.Hint, comment: o.Comment, let: o.Let},
			func(p bson.Raw) (*mongo.UpdateResult, error) { return c.coll.UpdateMany(ctx, p, u, opts...) })
	}
	res, err := c.coll.UpdateMany(ctx, f, u, opts...)
	return res, c.opErr(op, err)
}

// FindOneAndUpdate updates a document in place, with the rules of
// [Collection.UpdateOne], and returns the old or the new document verified
// and decrypted, with the rules of [Collection.FindOne] for the projection.
func (c *Collection) FindOneAndUpdate(ctx context.Context, filter any, update any,
	opts ...options.Lister[options.FindOneAndUpdateOptions],
) *mongo.SingleResult {
	const op = "FindOneAndUpdate"
	g := c.guard(op)
	o, err := collect(opts)
	if err != nil {
		return errResult(c.opErr(op, err))
	}
	f, match, u, err := c.searchUpdate(ctx, g, filter, update, o.Upsert, o.Sort)
	if err != nil {
		return errResult(err)
	}
	proj, err := c.checkRead(g, readOptions{projection: o.Projection})
	if err != nil {
		return errResult(err)
	}
	opts = unprojected(opts, proj, func(o *options.FindOneAndUpdateOptions) { o.Projection = nil })
	if match != nil {
		if err := refuseCollation(g, o.Collation); err != nil {
			return errResult(err)
		}
		opts = without(opts, func(o *options.FindOneAndUpdateOptions) { o.Sort, o.Hint = nil, nil })
		return c.findOneAndMatching(ctx, op, f, match, candidates{sort: o.Sort, hint: o.Hint, comment: o.Comment, let: o.Let}, proj,
			func(p bson.Raw, _ bsoncore.Document) (*mongo.SingleResult, error) {
				return c.coll.FindOneAndUpdate(ctx, p, u, opts...), nil
			})
	}
	return c.decryptResult(ctx, op, c.coll.FindOneAndUpdate(ctx, f, u, opts...), proj, true)
}

// BulkWrite runs the models with the rules of the single operations:
// inserted and replacing documents are encrypted and signed, filters and
// sorts are checked, updates must touch DoNothing fields only and may not
// upsert. Every model is checked and protected before anything is sent;
// the first that cannot be fails the call (an [*UnsafeOperationError] whose
// reason starts with "models[i]", or a [*DocumentError] with Index i).
//
// A delete, update or replace model whose filter has a beacon condition
// (Config.Search) runs on its own through [Collection.DeleteOne],
// DeleteMany, UpdateOne, UpdateMany or ReplaceOne, which act only on the
// matching documents; the models between them go in one BulkWrite per run.
// The BulkWrite must then be ordered (the default); the results are summed,
// upsert and write-error indexes are those of models, and the first error
// stops the call (its error starts with "models[i]" for a beacon model). A
// beacon ReplaceOne model's replacement is protected when it runs.
func (c *Collection) BulkWrite(ctx context.Context, models []mongo.WriteModel,
	opts ...options.Lister[options.BulkWriteOptions],
) (*mongo.BulkWriteResult, error) {
	const op = "BulkWrite"
	out := make([]mongo.WriteModel, len(models))
	// beacon[i] runs models[i], whose filter has a beacon condition, through
	// the single operation (which pins what it writes); nil for the others.
	beacon := make([]func(context.Context) (*mongo.BulkWriteResult, error), len(models))
	for i, m := range models {
		g := c.guard(op)
		g.where = fmt.Sprintf("models[%d]: ", i)
		run, err := c.beaconModel(ctx, g, m)
		if err != nil {
			return nil, c.opErr(op, err)
		}
		if run != nil {
			beacon[i] = run
			continue
		}
		switch m := m.(type) {
		case *mongo.InsertOneModel:
			var stored bson.Raw
			if stored, err = c.protect(ctx, op, i, m.Document, bsoncore.Value{}); err == nil {
				out[i] = &mongo.InsertOneModel{Document: stored}
			}
		case *mongo.ReplaceOneModel:
			cp := *m
			if cp.Filter, err = c.checkFilter(g, "filter", m.Filter); err != nil {
				break
			}
			if err = g.sort("sort", m.Sort, c); err != nil {
				break
			}
			if cp.Replacement, err = c.protectReplacement(ctx, op, i, cp.Filter.(bson.Raw), m.Replacement); err == nil {
				out[i] = &cp
			}
		case *mongo.UpdateOneModel:
			cp := *m
			if cp.Filter, cp.Update, err = c.checkUpdate(g, m.Filter, m.Update, m.Upsert, m.Sort); err == nil {
				out[i] = &cp
			}
		case *mongo.UpdateManyModel:
			cp := *m
			if cp.Filter, cp.Update, err = c.checkUpdate(g, m.Filter, m.Update, m.Upsert, nil); err == nil {
				out[i] = &cp
			}
		case *mongo.DeleteOneModel:
			cp := *m
			if cp.Filter, err = c.checkFilter(g, "filter", m.Filter); err == nil {
				out[i] = &cp
			}
		case *mongo.DeleteManyModel:
			cp := *m
			if cp.Filter, err = c.checkFilter(g, "filter", m.Filter); err == nil {
				out[i] = &cp
			}
		default:
			err = g.refuse("", "unsupported write model %T", m)
		}
		if err != nil {
			return nil, c.opErr(op, err)
		}
	}
	if !slices.ContainsFunc(beacon, func(f func(context.Context) (*mongo.BulkWriteResult, error)) bool { return f != nil }) {
		res, err := c.coll.BulkWrite(ctx, out, opts...)
		return res, c.opErr(op, err)
	}
	o, err := collect(opts)
	if err != nil {
		return nil, c.opErr(op, err)
	}
	if o.Ordered != nil && !*o.Ordered {
		return nil, c.guard(op).refuse("", "an unordered BulkWrite with a filter on a field with a beacon: such a model "+
			"runs on its own, in order, after the models before it")
	}
	return c.bulkSegments(ctx, op, out, beacon, opts)
}

// bulkSegments runs an ordered BulkWrite whose beacon models (beacon[i]
// non-nil) run on their own: the other models go in one BulkWrite per run
// of consecutive ones. Results are summed, and the indexes of upserts and
// write errors are those of models. The first error stops the call, with
// the results so far.
func (c *Collection) bulkSegments(ctx context.Context, op string, out []mongo.WriteModel,
	beacon []func(context.Context) (*mongo.BulkWriteResult, error), opts []options.Lister[options.BulkWriteOptions],
) (*mongo.BulkWriteResult, error) {
	total := &mongo.BulkWriteResult{Acknowledged: true, UpsertedIDs: map[int64]any{}}
	add := func(r *mongo.BulkWriteResult, offset int) {
		if r == nil {
			return
		}
		total.InsertedCount += r.InsertedCount
		total.MatchedCount += r.MatchedCount
		total.ModifiedCount += r.ModifiedCount
		total.DeletedCount += r.DeletedCount
		total.UpsertedCount += r.UpsertedCount
		for k, v := range r.UpsertedIDs {
			total.UpsertedIDs[k+int64(offset)] = v
		}
		total.Acknowledged = total.Acknowledged && r.Acknowledged
	}
	for i := 0; i < len(out); {
		if run := beacon[i]; run != nil {
			res, err := run(ctx)
			add(res, i)
			if err != nil {
				return total, fmt.Errorf("models[%d]: %w", i, err)
			}
			i++
			continue
		}
		j := i
		for j < len(out) && beacon[j] == nil {
			j++
		}
		res, err := c.coll.BulkWrite(ctx, out[i:j], opts...)
		add(res, i)
		if err != nil {
			var bwe mongo.BulkWriteException
			if errors.As(err, &bwe) {
				bwe.WriteErrors = slices.Clone(bwe.WriteErrors)
				for k := range bwe.WriteErrors {
					bwe.WriteErrors[k].Index += i
				}
				err = bwe
			}
			return total, c.opErr(op, err)
		}
		i = j
	}
	return total, nil
}

// beaconModel returns, for a write model whose filter has a beacon
// condition, a function that runs it through the single operation, after
// checking everything that operation would refuse; nil for the others.
func (c *Collection) beaconModel(ctx context.Context, g guard, m mongo.WriteModel) (func(context.Context) (*mongo.BulkWriteResult, error), error) {
	if c.beacons == nil {
		return nil, nil
	}
	hasBeacon := func(filter any) (bool, error) {
		_, match, err := c.searchFilter(ctx, g, filter)
		return match != nil, err
	}
	var filter any
	switch m := m.(type) {
	case *mongo.DeleteOneModel:
		filter = m.Filter
	case *mongo.DeleteManyModel:
		filter = m.Filter
	case *mongo.UpdateOneModel:
		filter = m.Filter
	case *mongo.UpdateManyModel:
		filter = m.Filter
	case *mongo.ReplaceOneModel:
		filter = m.Filter
	default:
		return nil, nil
	}
	if ok, err := hasBeacon(filter); err != nil || !ok {
		return nil, err
	}
	deleted := func(r *mongo.DeleteResult, err error) (*mongo.BulkWriteResult, error) {
		if r == nil {
			return nil, err
		}
		return &mongo.BulkWriteResult{DeletedCount: r.DeletedCount, Acknowledged: r.Acknowledged}, err
	}
	updated := func(r *mongo.UpdateResult, err error) (*mongo.BulkWriteResult, error) {
		if r == nil {
			return nil, err
		}
		return &mongo.BulkWriteResult{MatchedCount: r.MatchedCount, ModifiedCount: r.ModifiedCount, Acknowledged: r.Acknowledged}, err
	}
	switch m := m.(type) {
	case *mongo.DeleteOneModel:
		if err := refuseCollation(g, m.Collation); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (*mongo.BulkWriteResult, error) {
			return deleted(c.DeleteOne(ctx, m.Filter, options.DeleteOne().SetHint(m.Hint)))
		}, nil
	case *mongo.DeleteManyModel:
		if err := refuseCollation(g, m.Collation); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (*mongo.BulkWriteResult, error) {
			return deleted(c.DeleteMany(ctx, m.Filter, options.DeleteMany().SetHint(m.Hint)))
		}, nil
	case *mongo.UpdateOneModel:
		if err := refuseCollation(g, m.Collation); err != nil {
			return nil, err
		}
		if _, err := c.checkUpdateOnly(g, m.Update, m.Upsert, m.Sort); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (*mongo.BulkWriteResult, error) {
			return updated(c.UpdateOne(ctx, m.Filter, m.Update,
				options.UpdateOne().SetHint(m.Hint).SetSort(m.Sort).SetArrayFilters(m.ArrayFilters)))
		}, nil
	case *mongo.UpdateManyModel:
		if err := refuseCollation(g, m.Collation); err != nil {
			return nil, err
		}
		if _, err := c.checkUpdateOnly(g, m.Update, m.Upsert, nil); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (*mongo.BulkWriteResult, error) {
			return updated(c.UpdateMany(ctx, m.Filter, m.Update, options.UpdateMany().SetHint(m.Hint).SetArrayFilters(m.ArrayFilters)))
		}, nil
	case *mongo.ReplaceOneModel:
		if err := refuseBeaconReplace(g, m.Collation, m.Upsert); err != nil {
			return nil, err
		}
		if err := g.sort("sort", m.Sort, c); err != nil {
			return nil, err
		}
		if _, err := c.marshal(m.Replacement); err != nil {
			return nil, &DocumentError{Op: g.op, Collection: c.ns, Err: err}
		}
		return func(ctx context.Context) (*mongo.BulkWriteResult, error) {
			return updated(c.ReplaceOne(ctx, m.Filter, m.Replacement, options.Replace().SetHint(m.Hint).SetSort(m.Sort)))
		}, nil
	}
	return nil, nil
}
