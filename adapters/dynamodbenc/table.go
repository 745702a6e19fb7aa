package dynamodbenc

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// Errors of a typed [Table], matched with errors.Is.
var (
	// ErrTableNotConfigured: NewTable was given a table the client has no
	// configuration for. The client passes such a table's requests through
	// untouched, so its items would be stored in plaintext whatever the
	// struct's tags say.
	ErrTableNotConfigured = errors.New("dynamodbenc: table not configured on the client")
	// ErrNotFound: Get found no item under the key.
	ErrNotFound = errors.New("dynamodbenc: item not found")
	// ErrInvalidKey: a key given to a typed table lacks a key attribute of
	// the table.
	ErrInvalidKey = errors.New("dynamodbenc: invalid key")
	// ErrUnprocessed: a batch of a typed table still had unprocessed items
	// or keys after its last attempt. An [*UnprocessedError] says how many.
	ErrUnprocessed = errors.New("dynamodbenc: batch items left unprocessed")
)

// UnprocessedError is a BatchPut or BatchGet of a typed [Table] that gave up
// with items (or keys) DynamoDB left unprocessed, after
// TableOptions.BatchAttempts requests of their chunk. The items of the
// chunks before were written (read); those after were not attempted.
type UnprocessedError struct {
	// Op is "BatchPut" or "BatchGet".
	Op string
	// Table is the table's name as given to NewTable.
	Table string
	// Unprocessed is the number of items (keys) of the chunk left
	// unprocessed; Remaining is that plus the items of the chunks not
	// attempted.
	Unprocessed, Remaining int
}

func (e *UnprocessedError) Error() string {
	return fmt.Sprintf("dynamodbenc: %s %q: %d items left unprocessed after the last attempt (%d not written or read in all)",
		e.Op, e.Table, e.Unprocessed, e.Remaining)
}

// Unwrap returns [ErrUnprocessed].
func (e *UnprocessedError) Unwrap() error { return ErrUnprocessed }

// TableOptions tune a typed [Table]. The zero value is the default.
type TableOptions struct {
	// TagKey is the struct tag that names attributes, as in
	// attributevalue.EncoderOptions.TagKey and mapenc.Options.TagKey: ""
	// means "dynamodbav". It is set on both the encoder and the decoder, and
	// names the attributes the itemcrypto tags are checked against.
	TagKey string
	// EncoderOptions and DecoderOptions configure attributevalue. A TagKey
	// they set is replaced by TableOptions.TagKey.
	EncoderOptions []func(*attributevalue.EncoderOptions)
	DecoderOptions []func(*attributevalue.DecoderOptions)
	// BatchAttempts bounds the BatchWriteItem (BatchGetItem) requests sent
	// for one chunk of a BatchPut (BatchGet): the first and its retries of
	// what DynamoDB left unprocessed. 0 means 8.
	BatchAttempts int
	// BatchBackoff is the pause before the first retry, doubled before each
	// next one (with jitter, up to 5 s). 0 means 50 ms.
	BatchBackoff time.Duration
}

// Table is a typed view of one configured table of a [Client]: it stores
// and returns values of the caller's type T (a struct, or a pointer to
// one), marshalled with attributevalue, through the client, which encrypts,
// signs, verifies and decrypts them and applies its guard rails. It is safe
// for concurrent use.
//
// The itemcrypto struct tags of T (see package mapenc) are not a second
// configuration: they must agree with the table's. [NewTable] refuses T
// unless every tagged field's action, and every key role a tag gives, is
// exactly what the table's TableConfig resolves for that attribute, so the
// client and the typed table always protect T's items alike, whichever
// writes them. A field tagged encrypt is never stored in plaintext because
// the TableConfig lacked it: build the TableConfig from the tags with
// mapenc.StructPolicy (see the example of NewTable).
type Table[T any] struct {
	c      *Client
	name   string
	tbl    *table
	typ    reflect.Type // T, a struct or a pointer to one
	st     reflect.Type // the struct type
	attrs  []mapenc.StructAttribute
	names  map[string]bool // T's attribute names
	fold   bool            // drop attributes that only fold to a field name
	tagged bool
	tagKey string
	enc    *attributevalue.Encoder
	dec    *attributevalue.Decoder
	opts   TableOptions

	tagCheck *tableCheck // behind a pointer: a Table formats by value
}

// tableCheck is the once-only check of T's tags against the table's policy.
type tableCheck struct {
	once sync.Once
	err  error
}

// NewTable returns a typed view of the table name, which c must configure
// ([ErrTableNotConfigured] otherwise). T is a struct type or a pointer to
// one.
//
// T's itemcrypto tags are checked against the table's configuration: a tag
// that cannot be read, or that contradicts the configuration (another action
// for the attribute than the table's Default or Overrides give it, a key role
// on an attribute that is not that key), is a [*mapenc.TagError] matching
// mapenc.ErrTagConflict or mapenc.ErrInvalidTag. When the TableConfig names
// no PartitionKey (the key names come from DescribeTable), the check runs on
// the table's first operation instead, and every operation fails with the
// same error.
func NewTable[T any](c *Client, name string, optFns ...func(*TableOptions)) (*Table[T], error) {
	if c == nil {
		return nil, errors.New("dynamodbenc: NewTable: client is nil")
	}
	var opts TableOptions
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.BatchAttempts <= 0 {
		opts.BatchAttempts = 8
	}
	if opts.BatchBackoff <= 0 {
		opts.BatchBackoff = 50 * time.Millisecond
	}
	tbl := c.lookup(&name)
	if tbl == nil {
		return nil, fmt.Errorf("%w: NewTable %q (its items would be stored in plaintext)", ErrTableNotConfigured, name)
	}
	typ := reflect.TypeFor[T]()
	st := typ
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: NewTable needs a struct type or a pointer to one, got %v", mapenc.ErrUnsupportedType, typ)
	}
	tagKey := opts.TagKey
	if tagKey == "" {
		tagKey = "dynamodbav"
	}
	attrs, err := mapenc.StructAttributes(st, func(o *mapenc.Options) { o.TagKey = tagKey })
	if err != nil {
		return nil, err
	}
	t := &Table[T]{
		tagCheck: new(tableCheck),
		c:        c, name: name, tbl: tbl, typ: typ, st: st, attrs: attrs, names: make(map[string]bool, len(attrs)),
		fold: mapenc.DecodesFieldByField(st), tagKey: tagKey, opts: opts,
	}
	for _, a := range attrs {
		t.names[a.Name] = true
		t.tagged = t.tagged || a.Tagged
	}
	encFns := append(slices.Clone(opts.EncoderOptions), func(o *attributevalue.EncoderOptions) { o.TagKey = tagKey })
	decFns := append(slices.Clone(opts.DecoderOptions), func(o *attributevalue.DecoderOptions) { o.TagKey = tagKey })
	t.enc = attributevalue.NewEncoder(encFns...)
	t.dec = attributevalue.NewDecoder(decFns...)
	if b := tbl.built.Load(); b != nil {
		if err := t.check(b.enc.Policy()); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Name returns the table's name, as given to NewTable.
func (t *Table[T]) Name() string { return t.name }

// Client returns the client the table sends its requests through.
func (t *Table[T]) Client() *Client { return t.c }

// check compares T's tags with the table's resolved policy, once.
func (t *Table[T]) check(p *actions.Policy) error {
	t.tagCheck.once.Do(func() { t.tagCheck.err = t.checkPolicy(p) })
	return t.tagCheck.err
}

func (t *Table[T]) checkPolicy(p *actions.Policy) error {
	if !t.tagged {
		return nil
	}
	pk, sk := p.Keys()
	base := actions.Options{Default: p.Default(), Overrides: p.Overrides(), PartitionKey: pk, SortKey: sk, NoPartitionKey: pk == ""}
	// The one reading of the tags: a tag that contradicts an override or
	// names another key fails here.
	ao, err := mapenc.StructPolicy(t.st, base, func(o *mapenc.Options) { o.TagKey = t.tagKey })
	if err != nil {
		return err
	}
	tagged, err := actions.New(ao)
	if err != nil {
		return &mapenc.TagError{Type: t.st, Err: fmt.Errorf("%w: %w", mapenc.ErrTagConflict, err)}
	}
	// A tag that adds an action the configuration lacks must say what the
	// configuration says anyway: else the client, which cannot see tags,
	// would protect the attribute otherwise (store an encrypt-tagged field
	// in plaintext under a SignOnly Default).
	for _, a := range t.attrs {
		if !a.Tagged {
			continue
		}
		if want, got := tagged.Action(a.Name), p.Action(a.Name); want != got {
			return &mapenc.TagError{Type: t.st, Field: a.Field, Attribute: a.Name, Err: fmt.Errorf(
				"%w: the tag says %v, table %q's configuration gives the attribute %v (its Default, with no override); "+
					"build the TableConfig from the tags with mapenc.StructPolicy, or set the override",
				mapenc.ErrTagConflict, want, t.name, got)}
		}
	}
	return nil
}

// ready returns the table's policy, learning the key names and checking T's
// tags against them on first use where NewTable could not.
func (t *Table[T]) ready(ctx context.Context, op string, optFns []func(*dynamodb.Options)) (*actions.Policy, error) {
	b, err := t.tbl.state(ctx, describer{t.c.api, optFns})
	if err != nil {
		return nil, &OpError{Op: op, Table: t.name, Err: err}
	}
	p := b.enc.Policy()
	if err := t.check(p); err != nil {
		return nil, err
	}
	return p, nil
}

func (t *Table[T]) marshal(v T) (map[string]types.AttributeValue, error) {
	av, err := t.enc.Encode(v)
	if err != nil {
		return nil, &mapenc.ConvertError{Op: "encode", Type: t.typ, Err: err}
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("%w: a %v encodes to %T (a nil pointer?)", mapenc.ErrUnsupportedType, t.typ, av)
	}
	return m.Value, nil
}

// unmarshal decodes a verified, decrypted item into a T. Attributes that
// are no field's name but fold to one are dropped first: attributevalue
// would decode them into that field, so an attribute outside the signature
// could overwrite a signed one.
func (t *Table[T]) unmarshal(item map[string]types.AttributeValue) (T, error) {
	var v T
	if t.fold {
		var out map[string]types.AttributeValue
		for name := range item {
			if t.names[name] || !t.foldsToField(name) {
				continue
			}
			if out == nil {
				out = maps.Clone(item)
			}
			delete(out, name)
		}
		if out != nil {
			item = out
		}
	}
	if err := t.dec.Decode(&types.AttributeValueMemberM{Value: item}, &v); err != nil {
		var zero T
		return zero, &mapenc.ConvertError{Op: "decode", Type: t.typ, Err: err}
	}
	return v, nil
}

func (t *Table[T]) foldsToField(name string) bool {
	for _, a := range t.attrs {
		if strings.EqualFold(a.Name, name) {
			return true
		}
	}
	return false
}

func (t *Table[T]) unmarshalAll(items []map[string]types.AttributeValue) ([]T, error) {
	out := make([]T, 0, len(items))
	for _, item := range items {
		v, err := t.unmarshal(item)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Key returns the primary key of the table's item named by key: a T (or any
// struct or map attributevalue encodes) from which the key attributes are
// taken, or a map[string]types.AttributeValue. It fails with [ErrInvalidKey]
// when a key attribute is missing.
func (t *Table[T]) Key(ctx context.Context, key any, optFns ...func(*dynamodb.Options)) (map[string]types.AttributeValue, error) {
	p, err := t.ready(ctx, "Key", optFns)
	if err != nil {
		return nil, err
	}
	return t.key(p, key)
}

func (t *Table[T]) key(p *actions.Policy, key any) (map[string]types.AttributeValue, error) {
	item, ok := key.(map[string]types.AttributeValue)
	if !ok {
		av, err := t.enc.Encode(key)
		if err != nil {
			return nil, &mapenc.ConvertError{Op: "encode", Type: reflect.TypeOf(key), Err: err}
		}
		m, ok := av.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("%w: table %q: a key must encode to a map, %T does not", ErrInvalidKey, t.name, key)
		}
		item = m.Value
	}
	pk, sk := p.Keys()
	out := make(map[string]types.AttributeValue, 2)
	for _, k := range []string{pk, sk} {
		if k == "" {
			continue
		}
		v, ok := item[k]
		if !ok {
			return nil, fmt.Errorf("%w: table %q: the key has no attribute %q", ErrInvalidKey, t.name, k)
		}
		out[k] = v
	}
	return out, nil
}

// Put stores v (PutItem), replacing any item with its key.
func (t *Table[T]) Put(ctx context.Context, v T, optFns ...func(*dynamodb.Options)) error {
	_, err := t.PutItem(ctx, v, nil, optFns...)
	return err
}

// PutItem stores v with the parameters of in (a condition, ReturnValues,
// ...; nil for none): a copy of in is sent, with the table's name and v as
// its Item.
func (t *Table[T]) PutItem(ctx context.Context, v T, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := t.ready(ctx, "PutItem", optFns); err != nil {
		return nil, err
	}
	item, err := t.marshal(v)
	if err != nil {
		return nil, err
	}
	var req dynamodb.PutItemInput
	if in != nil {
		req = *in
	}
	req.TableName, req.Item = &t.name, item
	return t.c.PutItem(ctx, &req, optFns...)
}

// Get returns the item under key (see [Table.Key]); [ErrNotFound] when
// there is none.
func (t *Table[T]) Get(ctx context.Context, key any, optFns ...func(*dynamodb.Options)) (T, error) {
	return t.GetItem(ctx, key, nil, optFns...)
}

// GetItem is Get with the parameters of in (ConsistentRead, a
// ProjectionExpression, ...; nil for none): a copy of in is sent, with the
// table's name and key.
func (t *Table[T]) GetItem(ctx context.Context, key any, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (T, error) {
	var zero T
	p, err := t.ready(ctx, "GetItem", optFns)
	if err != nil {
		return zero, err
	}
	k, err := t.key(p, key)
	if err != nil {
		return zero, err
	}
	var req dynamodb.GetItemInput
	if in != nil {
		req = *in
	}
	req.TableName, req.Key = &t.name, k
	out, err := t.c.GetItem(ctx, &req, optFns...)
	if err != nil {
		return zero, err
	}
	if out.Item == nil {
		return zero, fmt.Errorf("dynamodbenc: GetItem %q: %w", t.name, ErrNotFound)
	}
	return t.unmarshal(out.Item)
}

// Delete deletes the item under key (see [Table.Key]), if there is one.
func (t *Table[T]) Delete(ctx context.Context, key any, optFns ...func(*dynamodb.Options)) error {
	p, err := t.ready(ctx, "DeleteItem", optFns)
	if err != nil {
		return err
	}
	k, err := t.key(p, key)
	if err != nil {
		return err
	}
	_, err = t.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &t.name, Key: k}, optFns...)
	return err
}

// QueryPage runs one Query (a copy of in, with the table's name) and
// returns its items and LastEvaluatedKey (nil on the last page), to pass as
// ExclusiveStartKey for the next.
func (t *Table[T]) QueryPage(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) ([]T, map[string]types.AttributeValue, error) {
	var req dynamodb.QueryInput
	if in != nil {
		req = *in
	}
	req.TableName = &t.name
	return t.page(ctx, "Query", optFns, func() ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
		out, err := t.c.Query(ctx, &req, optFns...)
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	})
}

// Query returns the items of in (a Query, sent with the table's name) page
// after page, as long as the caller ranges: in.Limit bounds each page, not
// the total; break to stop. An error ends the sequence.
func (t *Table[T]) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var req dynamodb.QueryInput
		if in != nil {
			req = *in
		}
		pages(yield, func() ([]T, map[string]types.AttributeValue, error) {
			return t.QueryPage(ctx, &req, optFns...)
		}, func(last map[string]types.AttributeValue) { req.ExclusiveStartKey = last })
	}
}

// ScanPage runs one Scan (a copy of in, with the table's name; nil for a
// whole-table scan) and returns its items and LastEvaluatedKey, as
// QueryPage does.
func (t *Table[T]) ScanPage(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) ([]T, map[string]types.AttributeValue, error) {
	var req dynamodb.ScanInput
	if in != nil {
		req = *in
	}
	req.TableName = &t.name
	return t.page(ctx, "Scan", optFns, func() ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
		out, err := t.c.Scan(ctx, &req, optFns...)
		if err != nil {
			return nil, nil, err
		}
		return out.Items, out.LastEvaluatedKey, nil
	})
}

// Scan returns the items of in (a Scan, sent with the table's name; nil
// for the whole table) page after page, as Query does.
func (t *Table[T]) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var req dynamodb.ScanInput
		if in != nil {
			req = *in
		}
		pages(yield, func() ([]T, map[string]types.AttributeValue, error) {
			return t.ScanPage(ctx, &req, optFns...)
		}, func(last map[string]types.AttributeValue) { req.ExclusiveStartKey = last })
	}
}

// page runs one Query or Scan page through call, once T's tags are checked,
// and decodes its items.
func (t *Table[T]) page(ctx context.Context, op string, optFns []func(*dynamodb.Options),
	call func() ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error)) ([]T, map[string]types.AttributeValue, error) {
	if _, err := t.ready(ctx, op, optFns); err != nil {
		return nil, nil, err
	}
	items, last, err := call()
	if err != nil {
		return nil, nil, err
	}
	vs, err := t.unmarshalAll(items)
	if err != nil {
		return nil, nil, err
	}
	return vs, last, nil
}

func pages[T any](yield func(T, error) bool, page func() ([]T, map[string]types.AttributeValue, error), next func(map[string]types.AttributeValue)) {
	for {
		vs, last, err := page()
		if err != nil {
			var zero T
			yield(zero, err)
			return
		}
		for _, v := range vs {
			if !yield(v, nil) {
				return
			}
		}
		if len(last) == 0 {
			return
		}
		next(last)
	}
}

const (
	batchWriteMax = 25
	batchGetMax   = 100
)

// BatchPut stores vs with BatchWriteItem, 25 at a time, sending again what
// DynamoDB leaves unprocessed (the client returns it as the plaintext
// requests it was given) with a growing pause, up to
// TableOptions.BatchAttempts requests per chunk; then it fails with an
// [*UnprocessedError]. Items of earlier chunks are written when a later one
// fails. Two values with one key in a chunk are refused by DynamoDB.
func (t *Table[T]) BatchPut(ctx context.Context, vs []T, optFns ...func(*dynamodb.Options)) error {
	if _, err := t.ready(ctx, "BatchWriteItem", optFns); err != nil {
		return err
	}
	for start := 0; start < len(vs); start += batchWriteMax {
		chunk := vs[start:min(start+batchWriteMax, len(vs))]
		reqs := make([]types.WriteRequest, 0, len(chunk))
		for _, v := range chunk {
			item, err := t.marshal(v)
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		for attempt := 1; len(reqs) > 0; attempt++ {
			if attempt > t.opts.BatchAttempts {
				return &UnprocessedError{Op: "BatchPut", Table: t.name, Unprocessed: len(reqs), Remaining: len(reqs) + len(vs) - start - len(chunk)}
			}
			if attempt > 1 {
				if err := t.pause(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := t.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{t.name: reqs}}, optFns...)
			if err != nil {
				return err
			}
			reqs = nil
			for _, rs := range out.UnprocessedItems {
				reqs = append(reqs, rs...)
			}
		}
	}
	return nil
}

// BatchGet reads the items under keys (each as [Table.Key] takes it) with
// BatchGetItem, 100 at a time, sending again the keys DynamoDB leaves
// unprocessed as BatchPut does. The items come in no particular order;
// keys without an item are left out. Two equal keys in a chunk are refused
// by DynamoDB.
func (t *Table[T]) BatchGet(ctx context.Context, keys []any, optFns ...func(*dynamodb.Options)) ([]T, error) {
	p, err := t.ready(ctx, "BatchGetItem", optFns)
	if err != nil {
		return nil, err
	}
	var out []T
	for start := 0; start < len(keys); start += batchGetMax {
		chunk := keys[start:min(start+batchGetMax, len(keys))]
		ks := make([]map[string]types.AttributeValue, 0, len(chunk))
		for _, key := range chunk {
			k, err := t.key(p, key)
			if err != nil {
				return nil, err
			}
			ks = append(ks, k)
		}
		for attempt := 1; len(ks) > 0; attempt++ {
			if attempt > t.opts.BatchAttempts {
				return nil, &UnprocessedError{Op: "BatchGet", Table: t.name, Unprocessed: len(ks), Remaining: len(ks) + len(keys) - start - len(chunk)}
			}
			if attempt > 1 {
				if err := t.pause(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := t.c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{t.name: {Keys: ks}}}, optFns...)
			if err != nil {
				return nil, err
			}
			for _, items := range res.Responses {
				vs, err := t.unmarshalAll(items)
				if err != nil {
					return nil, err
				}
				out = append(out, vs...)
			}
			ks = nil
			for _, ka := range res.UnprocessedKeys {
				ks = append(ks, ka.Keys...)
			}
		}
	}
	return out, nil
}

// pause waits before the given attempt (2, 3, ...): BatchBackoff doubled
// per attempt after the second, up to 5 s, with up to half of it as jitter.
func (t *Table[T]) pause(ctx context.Context, attempt int) error {
	d := t.opts.BatchBackoff
	for i := 2; i < attempt && d < 5*time.Second; i++ {
		d *= 2
	}
	d = min(d, 5*time.Second)
	d = d/2 + rand.N(d/2+1)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// String, GoString, Format, LogValue and MarshalJSON never show key material
// (a Table holds its Client's encryptors).
func (t Table[T]) String() string                { return t.redacted().String() }
func (t Table[T]) GoString() string              { return t.redacted().GoString() }
func (t Table[T]) Format(f fmt.State, verb rune) { t.redacted().Format(f, verb) }
func (t Table[T]) LogValue() slog.Value          { return t.redacted().LogValue() }
func (t Table[T]) MarshalJSON() ([]byte, error)  { return t.redacted().MarshalJSON() }
func (t Table[T]) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("dynamodbenc.Table{table: %q, keys: [redacted]}", t.name))
}
