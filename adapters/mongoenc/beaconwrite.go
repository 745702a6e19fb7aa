package mongoenc

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Writes and counts with a beacon filter. A beacon is truncated, so the
// rewritten filter selects a superset of the matching documents; the server
// cannot be trusted to tell them apart. Every operation below therefore
// works in two steps:
//
//  1. read the candidates with the rewritten filter, verify and decrypt
//     each, and evaluate the original filter on the plaintext;
//  2. act on each matching document by a pinned filter:
//     {$and: [<rewritten filter>, {_id: <its _id>, aws_dbe_foot: <the footer read>}]}.
//
// The footer holds the document's signatures, computed over a fresh header
// (a new message ID and data key) by every encryption, so it changes
// whenever any signed or encrypted field is rewritten: a colliding document
// never has the _id and footer of a document that matched, and a document
// replaced between the two steps no longer has the footer that was read,
// so it is not touched (the operation moves on, as though the change had
// come first). The rewritten filter in the pinned filter keeps the server's
// part of the answer (conditions on plaintext fields) true at the time of
// the write; the footer does not cover DoNothing fields, so the plaintext
// fields the client evaluated (inside an $or with a beacon condition) are
// pinned to the values read as well (see pin). Counts come from what the server reports it acted on.

// footField is the DB-ESDK footer, the only format beacons are written in.
const footField = "aws_dbe_foot"

// pinBatch is how many documents one UpdateMany or DeleteMany of step 2
// pins (a variable for the tests).
var pinBatch = 256

// errNoFooter: a candidate that decrypted without a footer (not possible
// with beacons, which need the DB-ESDK format and refuse plaintext
// policies).
var errNoFooter = errors.New("mongoenc: a document read by a beacon filter has no aws_dbe_foot")

// pin returns the condition {_id: <id>, aws_dbe_foot: <footer>} of the
// stored document, plus, for each top-level field that holds a plaintext
// condition the client evaluated (inside an $or with a beacon condition),
// its stored value ({f: <value>}, or {f: {$exists: false}}): the footer
// does not cover DoNothing fields, so a change of one since the read must
// fail the pinned filter too.
func pin(stored bsoncore.Document, match *cond) (bsoncore.Document, error) {
	id, err := stored.LookupErr(IDField)
	if err != nil {
		return nil, fmt.Errorf("mongoenc: a document read by a beacon filter has no _id: %w", err)
	}
	foot, err := stored.LookupErr(footField)
	if err != nil {
		return nil, errNoFooter
	}
	b := bsoncore.NewDocumentBuilder().AppendValue(IDField, id).AppendValue(footField, foot)
	var fields []string
	match.clientFields(true, &fields)
	for _, f := range fields {
		if v, err := stored.LookupErr(f); err == nil {
			b.AppendDocument(f, bsoncore.NewDocumentBuilder().AppendValue("$eq", v).Build())
		} else {
			b.AppendDocument(f, bsoncore.NewDocumentBuilder().AppendBoolean("$exists", false).Build())
		}
	}
	return b.Build(), nil
}

// clientFields appends the top-level fields of the plaintext conditions
// that match evaluates on the client (known as for match), once each.
func (n *cond) clientFields(known bool, out *[]string) {
	if n == nil || known && !n.beacons {
		return
	}
	switch n.kind {
	case condAnd:
		for _, c := range n.children {
			c.clientFields(known, out)
		}
	case condOr, condNor:
		for _, c := range n.children {
			if n.kind == condOr || c.beacons {
				c.clientFields(false, out)
			}
		}
	case condPlain:
		if n.plain != nil && len(n.plain.path) > 0 && n.plain.path[0] != IDField && !slices.Contains(*out, n.plain.path[0]) {
			*out = append(*out, n.plain.path[0])
		}
	}
}

// pinned returns {$and: [f, pins[0]]}, or {$and: [f, {$or: pins}]}.
func pinned(f bson.Raw, pins []bsoncore.Document) bson.Raw {
	var p bsoncore.Document
	if len(pins) == 1 {
		p = pins[0]
	} else {
		or := bsoncore.NewArrayBuilder()
		for _, d := range pins {
			or.AppendDocument(d)
		}
		p = bsoncore.NewDocumentBuilder().AppendArray("$or", or.Build()).Build()
	}
	and := bsoncore.NewArrayBuilder().AppendDocument(bsoncore.Document(f)).AppendDocument(p).Build()
	return bson.Raw(bsoncore.NewDocumentBuilder().AppendArray("$and", and).Build())
}

// candidates are the options of the read of step 1.
type candidates struct {
	sort, hint, comment, let any
}

// eachMatch reads the documents f returns (in the order of sort), verifies
// and decrypts each, and calls fn with the stored document and its
// plaintext when the original filter matches; fn returns false to stop. A
// document that fails verification fails the call with a [*DocumentError]:
// it is neither acted on nor skipped silently.
func (c *Collection) eachMatch(ctx context.Context, op string, f bson.Raw, match *cond, o candidates,
	fn func(stored bsoncore.Document, plain bson.Raw) (bool, error),
) error {
	fo := options.Find()
	if o.sort != nil {
		fo.SetSort(o.sort)
	}
	if o.hint != nil {
		fo.SetHint(o.hint)
	}
	if o.comment != nil {
		fo.SetComment(o.comment)
	}
	if o.let != nil {
		fo.SetLet(o.let)
	}
	cur, err := c.coll.Find(ctx, f, fo)
	if err != nil {
		return c.opErr(op, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	n := 0
	for cur.Next(ctx) {
		stored := bsoncore.Document(cur.Current)
		if !match.keyMatches(stored) {
			continue // another tenant's document
		}
		plain, err := c.decryptDoc(ctx, stored)
		if err != nil {
			return &DocumentError{Op: op, Collection: c.ns, Index: n, ID: idOf(bson.Raw(stored)), Err: err}
		}
		n++
		ok, err := match.keep(c.beacons, bsoncore.Document(plain))
		if err != nil {
			return &DocumentError{Op: op, Collection: c.ns, Index: n - 1, ID: idOf(bson.Raw(stored)), Err: err}
		}
		if !ok {
			continue // a false positive of a beacon
		}
		more, err := fn(stored, plain)
		if err != nil || !more {
			return err
		}
	}
	return c.opErr(op, cur.Err())
}

// refuseCollation refuses a collation beside a beacon filter.
func refuseCollation(g guard, coll *options.Collation) error {
	if coll == nil {
		return nil
	}
	return g.refuse("", "a collation with a filter on a field with a beacon: a beacon matches exact strings only")
}

// countMatching is CountDocuments with a beacon filter.
func (c *Collection) countMatching(ctx context.Context, op string, f bson.Raw, match *cond, o *options.CountOptions) (int64, error) {
	var skip, limit, n int64
	if o.Skip != nil {
		skip = *o.Skip
	}
	if o.Limit != nil {
		limit = max(*o.Limit, -*o.Limit)
	}
	err := c.eachMatch(ctx, op, f, match, candidates{hint: o.Hint, comment: o.Comment}, func(bsoncore.Document, bson.Raw) (bool, error) {
		n++
		return limit == 0 || n < skip+limit, nil
	})
	if err != nil {
		return 0, err
	}
	return max(n-skip, 0), nil
}

// collectPins returns the pins of every matching document.
func (c *Collection) collectPins(ctx context.Context, op string, f bson.Raw, match *cond, o candidates) ([]bsoncore.Document, error) {
	var pins []bsoncore.Document
	err := c.eachMatch(ctx, op, f, match, o, func(stored bsoncore.Document, _ bson.Raw) (bool, error) {
		p, err := pin(stored, match)
		if err != nil {
			return false, c.opErr(op, err)
		}
		pins = append(pins, p)
		return true, nil
	})
	return pins, err
}

// firstMatching acts on the first matching document: act runs with its
// pinned filter and reports whether it touched it; when it did not (the
// document changed since it was read), the next match is tried.
func (c *Collection) firstMatching(ctx context.Context, op string, f bson.Raw, match *cond, o candidates,
	act func(pinned bson.Raw, stored bsoncore.Document) (bool, error),
) error {
	return c.eachMatch(ctx, op, f, match, o, func(stored bsoncore.Document, _ bson.Raw) (bool, error) {
		p, err := pin(stored, match)
		if err != nil {
			return false, c.opErr(op, err)
		}
		if testHookBeforePinned != nil {
			testHookBeforePinned(stored)
		}
		done, err := act(pinned(f, []bsoncore.Document{p}), stored)
		return !done && err == nil, err
	})
}

// testHookBeforePinned, when set by a test, runs between the read of a
// matching document and its pinned write in the One operations.
var testHookBeforePinned func(stored bsoncore.Document)

// eachBatch calls act with the pinned filter of each batch of pins.
func eachBatch(f bson.Raw, pins []bsoncore.Document, act func(bson.Raw) error) error {
	for batch := range slices.Chunk(pins, pinBatch) {
		if err := act(pinned(f, batch)); err != nil {
			return err
		}
	}
	return nil
}

// without appends an option that clears what the pinned write must not
// repeat (hint, sort, projection: the pinned filter selects one document by
// _id, or a few).
func without[T any](opts []options.Lister[T], clear func(*T)) []options.Lister[T] {
	return append(slices.Clone(opts), lister[T]{func(o *T) error { clear(o); return nil }})
}

// deleteMatching is DeleteOne (many false) and DeleteMany with a beacon
// filter.
func (c *Collection) deleteMatching(ctx context.Context, op string, f bson.Raw, match *cond, many bool, o candidates,
	del func(bson.Raw) (*mongo.DeleteResult, error),
) (*mongo.DeleteResult, error) {
	out := &mongo.DeleteResult{Acknowledged: true}
	act := func(p bson.Raw) error {
		res, err := del(p)
		if err != nil {
			return c.opErr(op, err)
		}
		out.DeletedCount += res.DeletedCount
		out.Acknowledged = res.Acknowledged
		return nil
	}
	if !many {
		err := c.firstMatching(ctx, op, f, match, o, func(p bson.Raw, _ bsoncore.Document) (bool, error) {
			before := out.DeletedCount
			err := act(p)
			return out.DeletedCount > before, err
		})
		return out, err
	}
	pins, err := c.collectPins(ctx, op, f, match, o)
	if err != nil {
		return nil, err
	}
	return out, eachBatch(f, pins, act)
}

// updateMatching is UpdateOne (many false) and UpdateMany with a beacon
// filter.
func (c *Collection) updateMatching(ctx context.Context, op string, f bson.Raw, match *cond, many bool, o candidates,
	upd func(bson.Raw) (*mongo.UpdateResult, error),
) (*mongo.UpdateResult, error) {
	out := &mongo.UpdateResult{Acknowledged: true}
	act := func(p bson.Raw) error {
		res, err := upd(p)
		if err != nil {
			return c.opErr(op, err)
		}
		out.MatchedCount += res.MatchedCount
		out.ModifiedCount += res.ModifiedCount
		out.Acknowledged = res.Acknowledged
		return nil
	}
	if !many {
		err := c.firstMatching(ctx, op, f, match, o, func(p bson.Raw, _ bsoncore.Document) (bool, error) {
			before := out.MatchedCount
			err := act(p)
			return out.MatchedCount > before, err
		})
		return out, err
	}
	pins, err := c.collectPins(ctx, op, f, match, o)
	if err != nil {
		return nil, err
	}
	return out, eachBatch(f, pins, act)
}

// findOneAndMatching is the FindOneAnd… family with a beacon filter: the
// first matching document (in the order of the sort) is deleted, updated
// or replaced by its pinned filter; act returns the server's result, and
// mongo.ErrNoDocuments there means it changed since it was read (the next
// match is tried).
func (c *Collection) findOneAndMatching(ctx context.Context, op string, f bson.Raw, match *cond, o candidates, proj *projection,
	act func(pinned bson.Raw, stored bsoncore.Document) (*mongo.SingleResult, error),
) *mongo.SingleResult {
	var found *mongo.SingleResult
	err := c.firstMatching(ctx, op, f, match, o, func(p bson.Raw, stored bsoncore.Document) (bool, error) {
		sr, err := act(p, stored)
		if err != nil {
			return false, err
		}
		if err := sr.Err(); err != nil {
			if errors.Is(err, mongo.ErrNoDocuments) {
				return false, nil
			}
			return false, c.opErr(op, err)
		}
		found = sr
		return true, nil
	})
	if err != nil {
		return errResult(err)
	}
	if found == nil {
		return errResult(mongo.ErrNoDocuments)
	}
	return c.decryptResult(ctx, op, found, proj, true)
}
