package mongoenc

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Cursor iterates the documents of a [Collection.Find], verifying and
// decrypting each one as Next reaches it. Its methods are those of
// *mongo.Cursor, which cannot be built around decryption from outside the
// driver.
//
// A document that fails verification makes that Next return false, and Err
// then returns a [*DocumentError] naming the document's _id; every later
// Next returns false too. No document is ever skipped silently.
//
// A Cursor is not safe for concurrent use, like *mongo.Cursor.
type Cursor struct {
	// Current is the current document, verified and decrypted (and
	// projected). It is valid until the next call to Next or TryNext.
	Current bson.Raw

	c    *Collection
	op   string
	cur  *mongo.Cursor
	proj *projection
	err  error
	n    int
	// match, with a rewritten beacon filter, drops the false positives;
	// skip and limit are then applied here, to the documents that match.
	match         *cond
	skip, limit   int64
	skipped, sent int64
}

// Next advances to the next document, verifies and decrypts it, and
// reports whether there is one. It returns false at the end of the results,
// on an error of the server, and on a document that fails verification;
// Err says which.
func (c *Cursor) Next(ctx context.Context) bool { return c.next(ctx, c.cur.Next) }

// TryNext is Next for tailable cursors: it returns false without an error
// when no document is available yet (see mongo.Cursor.TryNext).
func (c *Cursor) TryNext(ctx context.Context) bool { return c.next(ctx, c.cur.TryNext) }

func (c *Cursor) next(ctx context.Context, advance func(context.Context) bool) bool {
	if c.err != nil {
		return false
	}
	c.Current = nil
	for {
		if c.limit > 0 && c.sent >= c.limit {
			return false
		}
		if !advance(ctx) {
			return false
		}
		stored := c.cur.Current
		if !c.match.keyMatches(bsoncore.Document(stored)) {
			continue // another tenant's document
		}
		plain, err := c.c.decryptDoc(ctx, stored)
		if err != nil {
			c.err = &DocumentError{Op: c.op, Collection: c.c.ns, Index: c.n, ID: idOf(stored), Err: err}
			return false
		}
		if c.c.schema.noop {
			plain = bytes.Clone(plain) // the driver reuses its batch
		}
		if c.match != nil {
			ok, err := c.match.keep(c.c.beacons, bsoncore.Document(plain))
			if err != nil {
				c.err = &DocumentError{Op: c.op, Collection: c.c.ns, Index: c.n, ID: idOf(stored), Err: err}
				return false
			}
			if !ok {
				continue // a false positive of a beacon
			}
			if c.skipped < c.skip {
				c.skipped++
				continue
			}
			c.sent++
		}
		c.Current = c.proj.apply(plain)
		c.n++
		return true
	}
}

// Decode unmarshals the current document into val.
func (c *Cursor) Decode(val any) error {
	if c.Current == nil {
		return fmt.Errorf("mongoenc: %s: Decode called without a current document", c.op)
	}
	return c.c.decode(c.Current, val)
}

// decode unmarshals doc into val with the collection's registry.
func (c *Collection) decode(doc bson.Raw, val any) error {
	dec := bson.NewDecoder(bson.NewDocumentReader(bytes.NewReader(doc)))
	if c.reg != nil {
		dec.SetRegistry(c.reg)
	}
	return dec.Decode(val)
}

// Err returns the error that ended the iteration: a [*DocumentError] for a
// document that failed verification, an [*OpError] for an error of the
// server or the driver; nil at the end of the results.
func (c *Cursor) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.c.opErr(c.op, c.cur.Err())
}

// Close closes the cursor on the server. It is idempotent.
func (c *Cursor) Close(ctx context.Context) error {
	return c.c.opErr(c.op, c.cur.Close(ctx))
}

// All iterates the rest of the cursor, verifying and decrypting every
// document, and decodes them into results, a pointer to a slice, which is
// overwritten. It closes the cursor. The first document that fails
// verification fails the call with a [*DocumentError], and results is left
// unchanged.
func (c *Cursor) All(ctx context.Context, results any) error {
	rv := reflect.ValueOf(results)
	if rv.Kind() != reflect.Pointer {
		return fmt.Errorf("results argument must be a pointer to a slice, but was a %s", rv.Kind())
	}
	sv := rv.Elem()
	if sv.Kind() == reflect.Interface {
		sv = sv.Elem()
	}
	if sv.Kind() != reflect.Slice {
		return fmt.Errorf("results argument must be a pointer to a slice, but was a pointer to %s", sv.Kind())
	}
	defer c.Close(context.Background())
	elem := sv.Type().Elem()
	out := reflect.MakeSlice(sv.Type(), 0, max(sv.Cap(), c.cur.RemainingBatchLength()))
	for c.Next(ctx) {
		v := reflect.New(elem)
		if err := c.c.decode(c.Current, v.Interface()); err != nil {
			return err
		}
		out = reflect.Append(out, v.Elem())
	}
	if err := c.Err(); err != nil {
		return err
	}
	if out.Len() == 0 && sv.IsNil() {
		return nil // as the driver: a nil slice stays nil
	}
	rv.Elem().Set(out)
	return nil
}

// ID returns the cursor's server-side ID, 0 once it is exhausted or closed.
func (c *Cursor) ID() int64 { return c.cur.ID() }

// RemainingBatchLength returns how many documents are left in the current
// batch; 0 means the next Next asks the server for more.
func (c *Cursor) RemainingBatchLength() int { return c.cur.RemainingBatchLength() }

// SetBatchSize sets the number of documents of the following getMore
// batches.
func (c *Cursor) SetBatchSize(batchSize int32) { c.cur.SetBatchSize(batchSize) }

// SetMaxAwaitTime sets the time a tailable, awaitData cursor's getMore
// waits for new documents.
func (c *Cursor) SetMaxAwaitTime(d time.Duration) { c.cur.SetMaxAwaitTime(d) }

// SetComment sets the comment of the following getMore commands.
func (c *Cursor) SetComment(comment any) { c.cur.SetComment(comment) }
