package mongoenc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// PipelineError is an aggregation pipeline refused before anything was
// sent: a stage the client does not check, a stage that writes or runs
// code, or a reference to a field whose stored value is ciphertext, a
// beacon or the format's own fields. It names the stage, the operator and
// the field, never a value. errors.Is(err, [ErrUnsafeOperation]) holds, and
// errors.As finds an [*UnsafeOperationError] with the same Op, Collection,
// Field and Reason.
type PipelineError struct {
	// Op is "Aggregate" or "AggregateDocuments".
	Op string
	// Collection is the collection's namespace, "database.collection".
	Collection string
	// Stage is the index of the top-level stage concerned (-1 for the
	// options, or the pipeline as a whole).
	Stage int
	// Where locates a nested stage inside the top-level one, e.g.
	// "$facet.byStatus[1]" or "$lookup.pipeline[0]"; "" for the top-level
	// stage itself.
	Where string
	// Operator is the stage or expression operator concerned, e.g. "$group"
	// or "$function"; "" when the reason is about the pipeline as a whole.
	Operator string
	// Field is the field path concerned, "" when the reason is not about one
	// field.
	Field string
	// Reason explains the refusal and what to do instead.
	Reason string
}

func (e *PipelineError) Error() string {
	return fmt.Sprintf("mongoenc: %s on %s refused before sending: %s", e.Op, e.Collection, e.reason())
}

func (e *PipelineError) reason() string {
	var b strings.Builder
	if e.Stage >= 0 {
		fmt.Fprintf(&b, "pipeline stage %d", e.Stage)
		if e.Where != "" {
			b.WriteString(" (" + e.Where + ")")
		}
		if e.Operator != "" {
			b.WriteString(", " + e.Operator)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns an [*UnsafeOperationError] (which matches
// [ErrUnsafeOperation]).
func (e *PipelineError) Unwrap() error {
	return &UnsafeOperationError{Op: e.Op, Collection: e.Collection, Field: e.Field, Reason: e.reason()}
}

// docState is what the documents flowing between two stages are.
type docState uint8

const (
	// stateWhole: the stored documents, untouched.
	stateWhole docState = iota
	// stateModified: stored documents with fields added or removed; they
	// may still hold ciphertext, beacons and the format's fields.
	stateModified
	// stateComputed: documents the pipeline built (by $group, an inclusion
	// $project, ...): every field in them was computed from fields the
	// walk checked.
	stateComputed
)

func (s docState) stored() bool { return s != stateComputed }

// touched is the state after a stage that adds or removes fields.
func (s docState) touched() docState {
	if s == stateWhole {
		return stateModified
	}
	return s
}

// pipeCheck walks one pipeline.
type pipeCheck struct {
	c     *Collection
	op    string
	stage int
	where string
}

func (p *pipeCheck) refuse(operator, field, format string, args ...any) error {
	return &PipelineError{Op: p.op, Collection: p.c.ns, Stage: p.stage, Where: p.where, Operator: operator,
		Field: field, Reason: fmt.Sprintf(format, args...)}
}

// stageCheck returns the check of the stage op, nil for a stage Aggregate
// does not check (an allow-list).
func (p *pipeCheck) stageCheck(op string) func(v bsoncore.Value, st docState) (docState, error) {
	switch op {
	case "$match":
		return p.matchStage
	case "$sort":
		return p.sortStage
	case "$skip":
		return p.numberStage
	case "$limit":
		return p.numberStage
	case "$sample":
		return p.sampleStage
	case "$count":
		return p.countStage
	case "$project":
		return p.projectStage
	case "$addFields":
		return p.addFieldsStage
	case "$set":
		return p.addFieldsStage
	case "$unset":
		return p.unsetStage
	case "$group":
		return p.groupStage
	case "$bucket":
		return p.bucketStage
	case "$bucketAuto":
		return p.bucketStage
	case "$sortByCount":
		return p.sortByCountStage
	case "$replaceRoot":
		return p.replaceRootStage
	case "$replaceWith":
		return p.replaceWithStage
	case "$unwind":
		return p.unwindStage
	case "$facet":
		return p.facetStage
	case "$lookup":
		return p.lookupStage
	case "$unionWith":
		return p.unionWithStage
	}
	return nil
}

// pipelineArray marshals a pipeline (mongo.Pipeline, bson.A, a slice of
// stage documents, bson.RawArray, bsoncore.Array) with the collection's
// registry into the array that is checked and sent.
func (c *Collection) pipelineArray(pipeline any) (bsoncore.Array, error) {
	switch a := pipeline.(type) {
	case bsoncore.Array:
		if err := a.Validate(); err != nil {
			return nil, err
		}
		return a, nil
	case bson.RawArray:
		return c.pipelineArray(bsoncore.Array(a))
	case bson.D, bson.M, bson.Raw, bsoncore.Document, nil:
		return nil, fmt.Errorf("the pipeline is a %T: give an array of stages (mongo.Pipeline, bson.A)", pipeline)
	}
	doc, err := c.marshal(bson.D{{Key: "p", Value: pipeline}})
	if err != nil {
		return nil, err
	}
	v, err := doc.LookupErr("p")
	if err != nil {
		return nil, err
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, fmt.Errorf("the pipeline marshals to a %s: give an array of stages (mongo.Pipeline, bson.A)", v.Type)
	}
	return arr, nil
}

// stages calls fn with each stage of arr: its index, operator and
// argument.
func (p *pipeCheck) stages(arr []byte, fn func(i int, op string, v bsoncore.Value) error) error {
	i := 0
	return forEach(arr, func(_ bsoncore.Element, _ string, v bsoncore.Value) error {
		if p.where == "" {
			p.stage = i // a top-level stage
		}
		doc, ok := v.DocumentOK()
		if !ok {
			return p.refuse("", "", "stage %d is a %s, not a document", i, v.Type)
		}
		elems, err := doc.Elements()
		if err != nil || len(elems) != 1 {
			return p.refuse("", "", "stage %d must have exactly one field, its operator", i)
		}
		err = fn(i, elems[0].Key(), elems[0].Value())
		i++
		return err
	})
}

// pipeline checks the stages of arr, whose input documents are in state
// in, and returns the state of its output.
func (p *pipeCheck) pipeline(arr []byte, in docState) (docState, error) {
	st := in
	err := p.stages(arr, func(_ int, op string, v bsoncore.Value) error {
		switch op {
		case "$out", "$merge":
			return p.refuse(op, "", "%s writes the pipeline's output into a collection, where it would be neither "+
				"encrypted nor signed; write through the Collection instead", op)
		}
		fn := p.stageCheck(op)
		if fn == nil {
			return p.refuse(op, "", "%s is not one of the stages the client checks against the encrypted fields "+
				"($match, $sort, $skip, $limit, $sample, $count, $project, $addFields, $set, $unset, $group, $bucket, "+
				"$bucketAuto, $sortByCount, $replaceRoot, $replaceWith, $unwind, $facet, $lookup, $unionWith)", op)
		}
		var err error
		st, err = fn(v, st)
		return err
	})
	return st, err
}

// nested checks a sub-pipeline (of $facet, $lookup, $unionWith) located at
// where inside the current stage, whose output must be documents the
// pipeline computed.
func (p *pipeCheck) nested(op, where string, v bsoncore.Value, in docState) (docState, error) {
	arr, ok := v.ArrayOK()
	if !ok {
		return 0, p.refuse(op, "", "%s takes an array of stages", where)
	}
	sub := *p
	if sub.where != "" {
		sub.where += "."
	}
	sub.where += where
	st, err := sub.pipeline(arr, in)
	if err != nil {
		return 0, err
	}
	if st.stored() && !p.c.schema.noop {
		return 0, p.refuse(op, "", "the sub-pipeline %s outputs stored documents, which hold ciphertext, beacons and "+
			"the signature fields; end it with a stage that builds documents of its own ($project with inclusions, "+
			"$group, $count, $replaceWith)", where)
	}
	return st, nil
}

// field refuses a reference to the field at path of a stored document: an
// encrypted field (or a document holding one, or a field inside one), a
// beacon, or a field of the format (header, footer, material description,
// signature). exists allows {$exists: ...} of a whole encrypted field.
func (p *pipeCheck) field(op, path string, st docState, exists bool) error {
	if !st.stored() {
		return nil
	}
	parts := split(path)
	top := parts[0]
	switch {
	case top == "":
		return p.refuse(op, path, "%q is not a field path", path)
	case isBeaconField(top):
		return p.refuse(op, top, "%q is a beacon, a truncated HMAC of an encrypted field: distinct values collide, "+
			"so grouping, counting, sorting or comparing beacons gives wrong answers (AggregateDocuments and Find "+
			"answer equality on an encrypted field exactly)", top)
	case top == itemcrypto.MaterialDescriptionAttribute || top == itemcrypto.SignatureAttribute ||
		strings.HasPrefix(top, "aws_dbe_") || p.c.enc.IsReserved(top):
		return p.refuse(op, top, "%q is a field of the encryption format (header, footer, material description or "+
			"signature), not data", top)
	case p.c.schema.encrypted(parts):
		if exists && !p.c.schema.insideEncrypted(parts) {
			return nil
		}
		if p.c.beacons != nil && p.c.beacons.byPath[path] != nil {
			return p.refuse(op, path, "%q is encrypted; its beacon answers equality only up to collisions, and the "+
				"stages after it would compute over the false positives: use AggregateDocuments or Find, which drop "+
				"them after decryption", path)
		}
		return p.refuse(op, path, "%q is encrypted or holds an encrypted field: the server only sees its ciphertext "+
			"and would compute on it; only {$exists: ...} in a $match may test an encrypted field", path)
	}
	return nil
}

// expr checks an aggregation expression: every string "$path" is a field
// path, "$$ROOT" and "$$CURRENT" are the whole document, $function,
// $accumulator and $where run code, and $getField, $setField and
// $unsetField name fields in strings.
func (p *pipeCheck) expr(op string, v bsoncore.Value, st docState) error {
	switch v.Type {
	case bsoncore.TypeString:
		s := v.StringValue()
		switch {
		case strings.HasPrefix(s, "$$ROOT") || strings.HasPrefix(s, "$$CURRENT"):
			rest := strings.TrimPrefix(strings.TrimPrefix(s, "$$ROOT"), "$$CURRENT")
			if rest == "" {
				if st.stored() && !p.c.schema.noop {
					return p.refuse(op, "", "%s is the whole stored document, which holds ciphertext, beacons and the "+
						"signature fields; name the plaintext fields instead", s)
				}
				return nil
			}
			if !strings.HasPrefix(rest, ".") {
				return nil // another variable, e.g. $$ROOTx
			}
			return p.field(op, rest[1:], st, false)
		case strings.HasPrefix(s, "$$"):
			return nil // a variable
		case strings.HasPrefix(s, "$"):
			return p.field(op, s[1:], st, false)
		}
		return nil
	case bsoncore.TypeEmbeddedDocument, bsoncore.TypeArray:
		return forEach(v.Data, func(_ bsoncore.Element, key string, sub bsoncore.Value) error {
			switch key {
			case "$function", "$accumulator", "$where":
				return p.refuse(key, "", "%s runs JavaScript on the server, which the client cannot check", key)
			case "$getField", "$setField", "$unsetField":
				if st.stored() && !p.c.schema.noop {
					return p.refuse(key, "", "%s names fields in strings the client does not check; use field paths", key)
				}
			case "$literal":
				return nil
			}
			inner := op
			if strings.HasPrefix(key, "$") && v.Type == bsoncore.TypeEmbeddedDocument {
				inner = key
			}
			return p.expr(inner, sub, st)
		})
	}
	return nil
}

// filter checks a query filter ($match): field conditions, $and/$or/$nor,
// $expr. Other top-level operators ($where, $text, $jsonSchema, ...) are
// refused.
func (p *pipeCheck) filter(doc []byte, st docState) error {
	return forEach(doc, func(_ bsoncore.Element, key string, val bsoncore.Value) error {
		switch key {
		case "$and", "$or", "$nor":
			arr, ok := val.ArrayOK()
			if !ok {
				return p.refuse("$match", "", "%s takes an array of filters", key)
			}
			return forEach(arr, func(_ bsoncore.Element, _ string, v bsoncore.Value) error {
				sub, ok := v.DocumentOK()
				if !ok {
					return p.refuse("$match", "", "%s takes an array of filters", key)
				}
				return p.filter(sub, st)
			})
		case "$expr":
			return p.expr("$expr", val, st)
		case "$comment":
			return nil
		case "$where":
			return p.refuse(key, "", "$where runs JavaScript on the server, which the client cannot check")
		}
		if strings.HasPrefix(key, "$") {
			return p.refuse(key, "", "the query operator %s cannot be checked against the encrypted fields; use field "+
				"conditions, $and/$or/$nor or $expr", key)
		}
		return p.field("$match", key, st, existsOnly(val))
	})
}

func (p *pipeCheck) doc(op string, v bsoncore.Value) (bsoncore.Document, error) {
	d, ok := v.DocumentOK()
	if !ok {
		return nil, p.refuse(op, "", "%s takes a document", op)
	}
	return d, nil
}

func (p *pipeCheck) matchStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$match", v)
	if err != nil {
		return 0, err
	}
	return st, p.filter(d, st)
}

func (p *pipeCheck) sortStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$sort", v)
	if err != nil {
		return 0, err
	}
	return st, forEach(d, func(_ bsoncore.Element, key string, _ bsoncore.Value) error {
		return p.field("$sort", key, st, false)
	})
}

func (p *pipeCheck) numberStage(v bsoncore.Value, st docState) (docState, error) {
	if !v.IsNumber() {
		return 0, p.refuse("", "", "$skip and $limit take a number")
	}
	return st, nil
}

func (p *pipeCheck) sampleStage(v bsoncore.Value, st docState) (docState, error) {
	_, err := p.doc("$sample", v)
	return st, err
}

func (p *pipeCheck) countStage(v bsoncore.Value, _ docState) (docState, error) {
	if _, ok := v.StringValueOK(); !ok {
		return 0, p.refuse("$count", "", "$count takes the name of its output field")
	}
	return stateComputed, nil
}

// projectStage checks a $project: inclusions read their fields,
// expressions are checked, exclusions read nothing. With any inclusion or
// expression the output is computed; with exclusions only, it is the
// input with fields removed.
func (p *pipeCheck) projectStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$project", v)
	if err != nil {
		return 0, err
	}
	builds := false
	var walk func(prefix string, d bsoncore.Document) error
	walk = func(prefix string, d bsoncore.Document) error {
		return forEach(d, func(_ bsoncore.Element, key string, val bsoncore.Value) error {
			path := prefix + key
			switch {
			case val.IsNumber() || val.Type == bsoncore.TypeBoolean:
				include := val.Type == bsoncore.TypeBoolean && val.Boolean() || val.IsNumber() && val.AsFloat64() != 0
				if !include {
					return nil
				}
				builds = true
				return p.field("$project", path, st, false)
			case val.Type == bsoncore.TypeEmbeddedDocument && !isOperatorDoc(val.Document()):
				return walk(path+".", val.Document())
			}
			builds = true
			return p.expr("$project", val, st)
		})
	}
	if err := walk("", d); err != nil {
		return 0, err
	}
	if builds {
		return stateComputed, nil
	}
	return st.touched(), nil
}

func (p *pipeCheck) addFieldsStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$addFields", v)
	if err != nil {
		return 0, err
	}
	if err := p.expr("$addFields", bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: d}, st); err != nil {
		return 0, err
	}
	return st.touched(), nil
}

func (p *pipeCheck) unsetStage(v bsoncore.Value, st docState) (docState, error) {
	switch v.Type {
	case bsoncore.TypeString, bsoncore.TypeArray:
		return st.touched(), nil
	}
	return 0, p.refuse("$unset", "", "$unset takes a field name or an array of them")
}

// accumulators are the $group (and $bucket) accumulators the client
// checks; $accumulator runs JavaScript.
var accumulators = map[string]bool{
	"$sum": true, "$avg": true, "$min": true, "$max": true, "$first": true, "$last": true, "$push": true,
	"$addToSet": true, "$count": true, "$stdDevPop": true, "$stdDevSamp": true, "$mergeObjects": true,
	"$top": true, "$bottom": true, "$topN": true, "$bottomN": true, "$firstN": true, "$lastN": true,
	"$maxN": true, "$minN": true, "$median": true, "$percentile": true,
}

// accumulatorFields checks {name: {$acc: arg}, ...}, skipping the names
// in skip.
func (p *pipeCheck) accumulatorFields(stage string, d bsoncore.Document, st docState, skip string) error {
	return forEach(d, func(_ bsoncore.Element, name string, val bsoncore.Value) error {
		if name == skip {
			return nil
		}
		acc, ok := val.DocumentOK()
		if !ok {
			return p.refuse(stage, "", "the output field %q takes an accumulator document", name)
		}
		return forEach(acc, func(_ bsoncore.Element, op string, arg bsoncore.Value) error {
			if op == "$accumulator" {
				return p.refuse(op, "", "$accumulator runs JavaScript on the server, which the client cannot check")
			}
			if !accumulators[op] {
				return p.refuse(op, "", "%s is not one of the accumulators the client checks", op)
			}
			if a, ok := arg.DocumentOK(); ok && (op == "$top" || op == "$bottom" || op == "$topN" || op == "$bottomN") {
				if sortBy, ok := a.Lookup("sortBy").DocumentOK(); ok {
					if err := forEach(sortBy, func(_ bsoncore.Element, key string, _ bsoncore.Value) error {
						return p.field(op, key, st, false)
					}); err != nil {
						return err
					}
				}
			}
			return p.expr(op, arg, st)
		})
	})
}

func (p *pipeCheck) groupStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$group", v)
	if err != nil {
		return 0, err
	}
	id, err := d.LookupErr("_id")
	if err != nil {
		return 0, p.refuse("$group", "", "$group needs an _id")
	}
	if err := p.expr("$group", id, st); err != nil {
		return 0, err
	}
	return stateComputed, p.accumulatorFields("$group", d, st, "_id")
}

func (p *pipeCheck) bucketStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$bucket", v)
	if err != nil {
		return 0, err
	}
	err = forEach(d, func(_ bsoncore.Element, key string, val bsoncore.Value) error {
		if key == "output" {
			out, ok := val.DocumentOK()
			if !ok {
				return p.refuse("$bucket", "", "output takes a document of accumulators")
			}
			return p.accumulatorFields("$bucket", out, st, "")
		}
		return p.expr("$bucket", val, st)
	})
	return stateComputed, err
}

func (p *pipeCheck) sortByCountStage(v bsoncore.Value, st docState) (docState, error) {
	return stateComputed, p.expr("$sortByCount", v, st)
}

func (p *pipeCheck) replaceRootStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$replaceRoot", v)
	if err != nil {
		return 0, err
	}
	root, err := d.LookupErr("newRoot")
	if err != nil {
		return 0, p.refuse("$replaceRoot", "", "$replaceRoot needs newRoot")
	}
	return stateComputed, p.expr("$replaceRoot", root, st)
}

func (p *pipeCheck) replaceWithStage(v bsoncore.Value, st docState) (docState, error) {
	return stateComputed, p.expr("$replaceWith", v, st)
}

func (p *pipeCheck) unwindStage(v bsoncore.Value, st docState) (docState, error) {
	path := v
	if d, ok := v.DocumentOK(); ok {
		var err error
		if path, err = d.LookupErr("path"); err != nil {
			return 0, p.refuse("$unwind", "", "$unwind needs a path")
		}
	}
	s, ok := path.StringValueOK()
	if !ok || !strings.HasPrefix(s, "$") || strings.HasPrefix(s, "$$") {
		return 0, p.refuse("$unwind", "", "$unwind takes a field path (\"$field\")")
	}
	if err := p.field("$unwind", s[1:], st, false); err != nil {
		return 0, err
	}
	return st.touched(), nil
}

func (p *pipeCheck) facetStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$facet", v)
	if err != nil {
		return 0, err
	}
	err = forEach(d, func(_ bsoncore.Element, name string, sub bsoncore.Value) error {
		_, err := p.nested("$facet", "$facet."+name, sub, st)
		return err
	})
	return stateComputed, err
}

// sameCollection refuses a $lookup or $unionWith of another collection:
// the client knows how this collection is protected, not another.
func (p *pipeCheck) sameCollection(op string, from bsoncore.Value, err error) error {
	name, ok := from.StringValueOK()
	if err != nil || !ok {
		return p.refuse(op, "", "%s needs the name of the collection", op)
	}
	if name != p.c.Name() {
		return p.refuse(op, "", "%s of another collection: the client knows how this collection's documents are "+
			"protected, not that one's; only the collection itself may be joined", op)
	}
	return nil
}

func (p *pipeCheck) lookupStage(v bsoncore.Value, st docState) (docState, error) {
	d, err := p.doc("$lookup", v)
	if err != nil {
		return 0, err
	}
	from, ferr := d.LookupErr("from")
	if err := p.sameCollection("$lookup", from, ferr); err != nil {
		return 0, err
	}
	sub, err := d.LookupErr("pipeline")
	if err != nil {
		return 0, p.refuse("$lookup", "", "$lookup without a pipeline joins whole stored documents, which hold "+
			"ciphertext, beacons and the signature fields; give it a pipeline that ends with a stage building "+
			"documents of its own ($project with inclusions, $group, ...)")
	}
	err = forEach(d, func(_ bsoncore.Element, key string, val bsoncore.Value) error {
		switch key {
		case "from", "as", "pipeline":
			return nil
		case "localField":
			s, ok := val.StringValueOK()
			if !ok {
				return p.refuse("$lookup", "", "localField takes a field path")
			}
			return p.field("$lookup", s, st, false)
		case "foreignField":
			s, ok := val.StringValueOK()
			if !ok {
				return p.refuse("$lookup", "", "foreignField takes a field path")
			}
			return p.field("$lookup", s, stateWhole, false)
		case "let":
			return p.expr("$lookup", val, st)
		}
		return p.refuse("$lookup", "", "the $lookup option %q is not one the client checks", key)
	})
	if err != nil {
		return 0, err
	}
	if _, err := p.nested("$lookup", "$lookup.pipeline", sub, stateWhole); err != nil {
		return 0, err
	}
	return st.touched(), nil
}

func (p *pipeCheck) unionWithStage(v bsoncore.Value, st docState) (docState, error) {
	var from bsoncore.Value
	var ferr error
	var sub bsoncore.Value
	if d, ok := v.DocumentOK(); ok {
		from, ferr = d.LookupErr("coll")
		if s, err := d.LookupErr("pipeline"); err == nil {
			sub = s
		}
		if err := forEach(d, func(_ bsoncore.Element, key string, _ bsoncore.Value) error {
			if key != "coll" && key != "pipeline" {
				return p.refuse("$unionWith", "", "the $unionWith option %q is not one the client checks", key)
			}
			return nil
		}); err != nil {
			return 0, err
		}
	} else {
		from = v
	}
	if err := p.sameCollection("$unionWith", from, ferr); err != nil {
		return 0, err
	}
	if sub.Type == 0 {
		return 0, p.refuse("$unionWith", "", "$unionWith without a pipeline adds whole stored documents, which hold "+
			"ciphertext, beacons and the signature fields; give it a pipeline that ends with a stage building "+
			"documents of its own")
	}
	if _, err := p.nested("$unionWith", "$unionWith.pipeline", sub, stateWhole); err != nil {
		return 0, err
	}
	return st, nil
}

// checkAggregateOptions refuses options the client cannot check: Custom
// (fields added to the command as they are). Let is checked as expressions
// that see no document.
func (p *pipeCheck) checkAggregateOptions(o *options.AggregateOptions) error {
	//lint:ignore SA1019 deprecated for callers, but still settable: a field it adds would bypass the checks
	if len(o.Custom) > 0 && !p.c.schema.noop {
		return p.refuse("", "", "the Custom option adds fields to the command that the client cannot check")
	}
	if o.Let == nil {
		return nil
	}
	let, err := p.c.marshal(o.Let)
	if err != nil {
		return p.refuse("", "", "Let: %v", err)
	}
	return p.expr("let", bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: let}, stateComputed)
}

// prepareAggregate marshals the pipeline and checks the options of op.
func (c *Collection) prepareAggregate(op string, pipeline any, opts []options.Lister[options.AggregateOptions],
) (*pipeCheck, bsoncore.Array, *options.AggregateOptions, error) {
	p := &pipeCheck{c: c, op: op, stage: -1}
	arr, err := c.pipelineArray(pipeline)
	if err != nil {
		return nil, nil, nil, p.refuse("", "", "%v", err)
	}
	o, err := collect(opts)
	if err != nil {
		return nil, nil, nil, c.opErr(op, err)
	}
	if err := p.checkAggregateOptions(o); err != nil {
		return nil, nil, nil, err
	}
	return p, arr, o, nil
}

// Aggregate runs an aggregation pipeline whose output documents the
// pipeline computes from plaintext and signed fields, and returns the
// driver's cursor over them, as the server computed them: they are not
// protected documents, nothing in them is verified or decrypted. A signed
// field is used as stored, unverified: whoever can write to the database
// can change what the pipeline computes (as they can change what a filter
// matches). Treat the results as the server's word.
//
// Every stage and expression is checked before anything is sent, and the
// pipeline is refused with a [*PipelineError] when
//
//   - a stage is not one of $match, $sort, $skip, $limit, $sample, $count,
//     $project, $addFields, $set, $unset, $group, $bucket, $bucketAuto,
//     $sortByCount, $replaceRoot, $replaceWith, $unwind, $facet, $lookup,
//     $unionWith (an allow-list: $out and $merge write, and the others are
//     not checked);
//   - it reads a stored document's encrypted field (or a document holding
//     one, or a field inside one), a beacon (aws_dbe_b_<name>, aws_dbe_v_1)
//     or a field of the format (aws_dbe_head, aws_dbe_foot and any other
//     aws_dbe_ field, the DDBEC material description and signature): as a
//     field path ("$f", "$$ROOT.f"), a $match condition ({$exists: ...} of
//     an encrypted field excepted, as in Find), a $sort key, a $project
//     inclusion, an $unwind path, a $lookup localField or foreignField, the
//     whole document ("$$ROOT", "$$CURRENT"), or $getField, $setField,
//     $unsetField (names in strings). An equality on an encrypted field with
//     a beacon is refused too: later stages would compute over the beacon's
//     false positives (use [Collection.AggregateDocuments] or Find);
//   - it runs code ($function, $accumulator, $where) or uses a query
//     operator the client does not check ($text, $jsonSchema, ...), or an
//     accumulator outside the usual ones;
//   - $lookup or $unionWith names another collection (its protection is
//     unknown here), or has no pipeline, or its pipeline (or a $facet's)
//     outputs stored documents;
//   - the pipeline's own output is stored documents, whole or with fields
//     added or removed (no stage builds documents of its own): they would
//     hold ciphertext and the signature fields. Use
//     [Collection.AggregateDocuments] for whole documents;
//   - the option Custom is set, or Let holds $function.
//
// The checks follow the documents through the pipeline: after a stage that
// builds documents of its own ($group, $project with an inclusion or an
// expression, $count, $replaceWith, ...), field names are the pipeline's,
// and are no longer checked against the collection's configuration. With a
// policy that does nothing (every field DoNothing) only the stages that
// write or run code and the unknown stages are refused.
func (c *Collection) Aggregate(ctx context.Context, pipeline any,
	opts ...options.Lister[options.AggregateOptions],
) (*mongo.Cursor, error) {
	p, arr, _, err := c.prepareAggregate("Aggregate", pipeline, opts)
	if err != nil {
		return nil, err
	}
	st, err := p.pipeline(arr, stateWhole)
	if err != nil {
		return nil, err
	}
	p.stage = -1
	if st.stored() && !c.schema.noop {
		return nil, p.refuse("", "", "the pipeline outputs stored documents, which hold ciphertext, beacons and the "+
			"signature fields: end it with a stage that builds documents of its own ($project with inclusions, "+
			"$group, $count, $replaceWith), or use AggregateDocuments to have whole documents verified and decrypted")
	}
	cur, err := c.coll.Aggregate(ctx, arr, opts...)
	if err != nil {
		return nil, c.opErr(p.op, err)
	}
	return cur, nil
}

// AggregateDocuments runs a pipeline whose output documents are whole
// stored documents, and returns a [*Cursor] that verifies and decrypts each
// one, as [Collection.Find] does. The pipeline may hold only $match, $sort,
// $skip and $limit stages; each $match and $sort follows the rules of
// Find's filter and sort. With Config.Search, a $match may hold equality on
// a field with a beacon (see [Collection.FindOne]): the cursor drops the
// beacon's false positives after decryption, and such a $match may not be
// followed by $skip or $limit, which the server would apply to the
// candidates, false positives included (Find's Skip and Limit are applied
// by the client instead). A collation beside a beacon $match is refused.
// Refusals are [*PipelineError]s and nothing is sent.
func (c *Collection) AggregateDocuments(ctx context.Context, pipeline any,
	opts ...options.Lister[options.AggregateOptions],
) (*Cursor, error) {
	const op = "AggregateDocuments"
	p, arr, o, err := c.prepareAggregate(op, pipeline, opts)
	if err != nil {
		return nil, err
	}
	var (
		out     = bsoncore.NewArrayBuilder()
		matches []*cond
		g       = c.guard(op)
	)
	// asPipelineError turns a refusal of Find's checks into one naming the
	// stage.
	asPipelineError := func(operator string, err error) error {
		var ue *UnsafeOperationError
		if errors.As(err, &ue) {
			return p.refuse(operator, ue.Field, "%s", ue.Reason)
		}
		return err
	}
	err = p.stages(arr, func(i int, stage string, v bsoncore.Value) error {
		g.where = "pipeline[" + strconv.Itoa(i) + "]: "
		switch stage {
		case "$match":
			d, err := p.doc(stage, v)
			if err != nil {
				return err
			}
			// Code and the operators Aggregate does not check first, then
			// Find's rules for the fields.
			if err := p.filter(d, stateComputed); err != nil {
				return err
			}
			f, match, err := c.searchFilter(ctx, g, bson.Raw(d))
			if err != nil {
				return asPipelineError(stage, err)
			}
			if match != nil {
				matches = append(matches, match)
			}
			out.AppendDocument(bsoncore.NewDocumentBuilder().AppendDocument(stage, f).Build())
			return nil
		case "$sort":
			d, err := p.doc(stage, v)
			if err != nil {
				return err
			}
			if err := g.sort("sort", bson.Raw(d), c); err != nil {
				return asPipelineError(stage, err)
			}
		case "$skip", "$limit":
			if len(matches) > 0 {
				return p.refuse(stage, "", "%s after a $match on a field with a beacon would count the beacon's false "+
					"positives; use Find with Skip and Limit, which the client applies to the matching documents", stage)
			}
			if _, err := p.numberStage(v, stateWhole); err != nil {
				return err
			}
		default:
			return p.refuse(stage, "", "AggregateDocuments takes only $match, $sort, $skip and $limit, whose output "+
				"is whole stored documents; use Aggregate for documents the pipeline computes")
		}
		out.AppendDocument(bsoncore.NewDocumentBuilder().AppendValue(stage, v).Build())
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.stage = -1
	var match *cond
	switch len(matches) {
	case 0:
	case 1:
		match = matches[0]
	default:
		match = &cond{kind: condAnd, children: matches, beacons: true}
	}
	if match != nil && o.Collation != nil {
		return nil, p.refuse("", "", "a collation with a $match on a field with a beacon: a beacon matches exact strings only")
	}
	cur, err := c.coll.Aggregate(ctx, bsoncore.Array(out.Build()), opts...)
	if err != nil {
		return nil, c.opErr(op, err)
	}
	return &Cursor{c: c, op: op, cur: cur, match: match}, nil
}
