package mongoenc

import (
	"fmt"
	"reflect"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// guard builds the refusals of one request.
type guard struct {
	op, ns string
	s      *schema
	// where prefixes every reason, e.g. "models[3]: " in a BulkWrite.
	where string
}

func (g guard) refuse(field, format string, args ...any) error {
	return &UnsafeOperationError{Op: g.op, Collection: g.ns, Field: field, Reason: g.where + fmt.Sprintf(format, args...)}
}

// split splits a dotted path into its segments.
func split(path string) []string { return strings.Split(path, ".") }

// insideEncrypted reports whether path lies strictly inside an encrypted
// attribute (say "card.number" when "card" is encrypted).
func (s *schema) insideEncrypted(path []string) bool {
	for i := 1; i < len(path); i++ {
		if s.attributeAt(path[:i]) && s.cover(path[:i]) == actions.EncryptAndSign {
			return true
		}
	}
	return false
}

// attributeAt reports whether path names an attribute: a top-level field or
// a configured path.
func (s *schema) attributeAt(path []string) bool {
	if len(path) == 1 {
		return true
	}
	n := s.nodes[path[0]]
	for _, p := range path[1:] {
		if n == nil {
			return false
		}
		n = n.children[p]
	}
	return n != nil
}

// filter refuses a query filter that the server would evaluate on an
// encrypted field (or on a document or array holding one). $exists on a
// whole encrypted field, or on a parent of one, is allowed: encryption keeps
// a field's presence.
func (g guard) filter(param string, doc bsoncore.Document) error {
	if g.s.noop {
		return nil
	}
	return forEach(doc, func(_ bsoncore.Element, key string, val bsoncore.Value) error {
		switch key {
		case "$and", "$or", "$nor":
			arr, ok := val.ArrayOK()
			if !ok {
				return g.refuse("", "%s: %s takes an array of filters", param, key)
			}
			return forEach(arr, func(_ bsoncore.Element, _ string, v bsoncore.Value) error {
				sub, ok := v.DocumentOK()
				if !ok {
					return g.refuse("", "%s: %s takes an array of filters", param, key)
				}
				return g.filter(param, sub)
			})
		case "$expr":
			return g.expr(param, val)
		case "$comment", "$text":
			return nil
		}
		if strings.HasPrefix(key, "$") {
			return g.refuse("", "%s: the query operator %s cannot be checked against the encrypted fields; "+
				"use field conditions, $and/$or/$nor or $expr", param, key)
		}
		path := split(key)
		if !g.s.encrypted(path) {
			return nil
		}
		if !g.s.insideEncrypted(path) && existsOnly(val) {
			return nil
		}
		return g.refuse(key, "%s names %q, which is encrypted or holds an encrypted field: the server only sees its "+
			"ciphertext and cannot compare, match or sort it; only {$exists: ...} may test an encrypted field", param, key)
	})
}

// existsOnly reports whether val is {$exists: ...}.
func existsOnly(val bsoncore.Value) bool {
	doc, ok := val.DocumentOK()
	if !ok {
		return false
	}
	n := 0
	err := forEach(doc, func(_ bsoncore.Element, key string, _ bsoncore.Value) error {
		n++
		if key != "$exists" {
			return errMalformed
		}
		return nil
	})
	return err == nil && n > 0
}

// expr refuses an aggregation expression ($expr) that reads an encrypted
// field: every string "$path" in it is a field path; "$$ROOT" and
// "$$CURRENT" read the whole document, and $getField, $setField and
// $unsetField name fields in strings.
func (g guard) expr(param string, val bsoncore.Value) error {
	switch val.Type {
	case bsoncore.TypeString:
		s := val.StringValue()
		switch {
		case strings.HasPrefix(s, "$$ROOT") || strings.HasPrefix(s, "$$CURRENT"):
			rest := strings.TrimPrefix(strings.TrimPrefix(s, "$$ROOT"), "$$CURRENT")
			if rest == "" {
				if g.s.policy.Encrypts() {
					return g.refuse("", "%s reads the whole document (%s), which holds encrypted fields", param, s)
				}
				return nil
			}
			if !strings.HasPrefix(rest, ".") {
				return nil // another variable, e.g. $$ROOTx
			}
			return g.exprPath(param, rest[1:])
		case strings.HasPrefix(s, "$$"):
			return nil // a variable
		case strings.HasPrefix(s, "$"):
			return g.exprPath(param, s[1:])
		}
		return nil
	case bsoncore.TypeEmbeddedDocument, bsoncore.TypeArray:
		return forEach(val.Data, func(_ bsoncore.Element, key string, v bsoncore.Value) error {
			switch key {
			case "$getField", "$setField", "$unsetField":
				if g.s.policy.Encrypts() {
					return g.refuse("", "%s uses %s, which names fields the client cannot check", param, key)
				}
			case "$literal":
				return nil
			}
			return g.expr(param, v)
		})
	}
	return nil
}

func (g guard) exprPath(param, path string) error {
	if g.s.encrypted(split(path)) {
		return g.refuse(path, "%s reads %q, which is encrypted or holds an encrypted field: the server only sees its ciphertext", param, path)
	}
	return nil
}

// sort refuses a sort, or min/max index bounds, on an encrypted field.
func (g guard) sort(param string, sort any, c *Collection) error {
	if sort == nil || g.s.noop {
		return nil
	}
	doc, err := c.marshal(sort)
	if err != nil {
		return g.refuse("", "%s: %v", param, err)
	}
	return forEach(doc, func(_ bsoncore.Element, key string, _ bsoncore.Value) error {
		if g.s.encrypted(split(key)) {
			return g.refuse(key, "%s names %q, which is encrypted or holds an encrypted field: the server would "+
				"order ciphertexts", param, key)
		}
		return nil
	})
}

// updateOperators are the update operators whose fields the client checks;
// every field they name is touched.
var updateOperators = map[string]bool{
	"$set": true, "$unset": true, "$inc": true, "$mul": true, "$min": true, "$max": true,
	"$currentDate": true, "$addToSet": true, "$pop": true, "$pull": true, "$push": true,
	"$pullAll": true, "$setOnInsert": true, "$bit": true, "$rename": true,
}

// update refuses an update that touches a field that is not DoNothing (or a
// field holding one): the signature covers the whole document and a partial
// update cannot re-sign it. Aggregation-pipeline updates are refused.
func (g guard) update(update any, c *Collection) (any, error) {
	if update == nil {
		return nil, g.refuse("", "the update is nil")
	}
	if isPipeline(update) {
		if g.s.noop {
			return update, nil
		}
		return nil, g.refuse("", "aggregation-pipeline updates cannot be checked against the signed fields; "+
			"use update operators ($set, $unset, ...) on DoNothing fields, or replace the whole document")
	}
	doc, err := c.marshal(update)
	if err != nil {
		return nil, g.refuse("", "update: %v", err)
	}
	if g.s.noop {
		return bson.Raw(doc), nil
	}
	err = forEach(doc, func(_ bsoncore.Element, op string, val bsoncore.Value) error {
		if !updateOperators[op] {
			if !strings.HasPrefix(op, "$") {
				return g.refuse("", "the update is a replacement document (field %q); use ReplaceOne", op)
			}
			return g.refuse("", "the update operator %s cannot be checked against the signed fields", op)
		}
		fields, ok := val.DocumentOK()
		if !ok {
			return g.refuse("", "%s takes a document", op)
		}
		return forEach(fields, func(_ bsoncore.Element, key string, v bsoncore.Value) error {
			if err := g.touch(op, key); err != nil {
				return err
			}
			if op == "$rename" {
				to, ok := v.StringValueOK()
				if !ok {
					return g.refuse(key, "$rename of %q: the new name must be a string", key)
				}
				return g.touch(op, to)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return bson.Raw(doc), nil
}

// touch refuses an update of the field at path unless it is DoNothing and
// holds no signed field. Positional segments ($, $[], $[id]) end the path:
// what lies below them is inside an array of the field before them.
func (g guard) touch(op, key string) error {
	path := split(key)
	for i, p := range path {
		if strings.HasPrefix(p, "$") {
			path = path[:i]
			break
		}
	}
	if len(path) == 0 || path[0] == "" {
		return g.refuse(key, "%s of %q: not a field path", op, key)
	}
	switch {
	case path[0] == IDField:
		return g.refuse(key, "%s touches _id, the signed document key", op)
	case g.s.enc.IsReserved(path[0]):
		return g.refuse(key, "%s touches the reserved field %q", op, path[0])
	}
	if a, field, bad := g.s.untouchable(path); bad {
		return g.refuse(field, "%s touches %q (%v): the document's signature covers it and a partial update cannot "+
			"re-sign the document; only DoNothing fields may be updated in place, replace the whole document "+
			"(ReplaceOne, FindOneAndReplace) instead", op, field, a)
	}
	return nil
}

// upsert refuses an update with upsert: it could create a document that
// was never signed.
func (g guard) upsert(upsert *bool) error {
	if g.s.noop || upsert == nil || !*upsert {
		return nil
	}
	return g.refuse("", "an update with upsert could insert a document that is not signed; insert or replace "+
		"the whole document instead (ReplaceOne with upsert is fine)")
}

// isPipeline reports whether update is an aggregation pipeline (an array)
// rather than an update document.
func isPipeline(update any) bool {
	switch u := update.(type) {
	case bson.Raw, []byte, bsoncore.Document, bson.D, bson.M:
		return false
	case bson.A, mongo.Pipeline:
		return true
	case bsoncore.Value:
		return u.Type == bsoncore.TypeArray
	}
	v := reflect.ValueOf(update)
	return v.Kind() == reflect.Slice || v.Kind() == reflect.Array
}
