package mapenc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// Config is what a [Codec] protects: the items of one table or collection.
// Readers and writers of the items must agree on all of it.
type Config struct {
	// TableName is bound into every signature: an item cannot move to a
	// store of another name. For a store that is not DynamoDB, name the
	// place the items live, e.g. "db.collection" or "redis:sessions".
	// Required.
	TableName string
	// Provider hands out the keys of the DDBEC format. Required unless
	// Format is itemcrypto.FormatDBESDK.
	Provider cmp.Provider
	// Format is what is written: itemcrypto.FormatDDBEC (the zero value) or
	// itemcrypto.FormatDBESDK; reading takes the format from each item.
	Format itemcrypto.Format
	// DBESDK configures the AWS Database Encryption SDK format (keyring,
	// suite, allowed-unsigned attributes, legacy and plaintext policies).
	// Required for itemcrypto.FormatDBESDK; with the DDBEC format it lets
	// the table read DB-ESDK items too.
	DBESDK *itemcrypto.DBESDKConfig

	// Default is the action of every attribute without an override or a
	// struct tag. Required: the zero value is refused (an error matching
	// actions.ErrDefaultNotSet). Most stores want actions.EncryptAndSign.
	Default actions.Action
	// Overrides sets the action of individual attributes, by attribute name
	// (the dynamodbav tag name or the field name). A struct tag may repeat an
	// override but not contradict it.
	Overrides map[string]actions.Action
	// PartitionKey and SortKey name the attributes that identify an item.
	// They are signed, never encrypted, and must be present in every item.
	// A struct may name them with the tags itemcrypto:"partition" and
	// itemcrypto:"sort" instead. A partition key is required, here or by a
	// tag, unless NoPartitionKey is set: maps and structs without one fail
	// with an error matching actions.ErrPartitionKeyNotSet, so that the key
	// is never encrypted by omission.
	PartitionKey, SortKey string
	// NoPartitionKey says the items have no partition key: every attribute
	// gets its action, none is kept readable as a key.
	NoPartitionKey bool

	// Search configures searchable encryption (DB-ESDK beacons), as
	// dynamodbenc's TableConfig.Search does: every Encrypt, EncryptMap and
	// EncryptJSON adds the item's beacon attributes (aws_dbe_b_<beacon>,
	// outside the signature), its signed beacons (compound beacons with no
	// encrypted part, under their own names, made SignOnly and signed with
	// the item) and the version tag aws_dbe_v_1, with the names and values
	// the DB-ESDK writes for the same configuration and item. Store them
	// with the item and index the beacon attributes; [Codec.Term] gives the
	// values a query compares them with. Decryption leaves the aws_dbe_
	// attributes out of its result. Search needs the DB-ESDK format
	// (Format itemcrypto.FormatDBESDK with DBESDK) without a legacy or
	// plaintext override (an error matching
	// itemcrypto.ErrOverrideWithBeacons), and the Config's own actions must
	// satisfy the beacons (a standard beacon's attribute encrypted, a
	// signed part SignOnly: a *search.ConfigError otherwise). See the
	// search package. It must not be modified after New.
	Search *search.Config
}

// Options tune a [Codec]. The zero value is the default.
type Options struct {
	// TagKey is the struct tag that names attributes, as in
	// attributevalue.EncoderOptions.TagKey: "" means "dynamodbav". The
	// dynamodbav tag is always read; another key wins where both are present.
	// It is set on both the encoder and the decoder.
	TagKey string
	// EncoderOptions and DecoderOptions configure attributevalue, e.g.
	// EncodeTime, UseEncodingMarshalers, UseNumber (to decode numbers into
	// an `any` as attributevalue.Number, losslessly, instead of float64).
	// A TagKey they set is replaced by Options.TagKey.
	EncoderOptions []func(*attributevalue.EncoderOptions)
	DecoderOptions []func(*attributevalue.DecoderOptions)
	// Itemcrypto configures the item encryptor (itemcrypto.Options, e.g.
	// MaxItemSize).
	Itemcrypto []func(*itemcrypto.Options)
}

// Codec encrypts Go values into protected items and decrypts them back. It
// is safe for concurrent use.
type Codec struct {
	cfg     Config // Overrides include the signed beacons (SignOnly)
	opts    Options
	base    *protector // the Config's policy: maps and untagged structs
	baseErr error      // why there is no base (no partition key named)
	encoder *attributevalue.Encoder
	decoder *attributevalue.Decoder
	types   *typeCache
}

// typeCache is what a Codec learns of struct types, behind a pointer so
// that a Codec value (its String method) copies no lock.
type typeCache struct {
	m      sync.Map     // reflect.Type (a struct type) → *typeEntry
	builds atomic.Int64 // struct types reflected on; read by tests
}

// String, GoString, Format, LogValue and MarshalJSON describe the Codec
// without its keys (a Config.Search holds beacon keys).
func (c Codec) String() string                { return c.redacted().String() }
func (c Codec) GoString() string              { return c.redacted().GoString() }
func (c Codec) Format(f fmt.State, verb rune) { c.redacted().Format(f, verb) }
func (c Codec) LogValue() slog.Value          { return c.redacted().LogValue() }
func (c Codec) MarshalJSON() ([]byte, error)  { return c.redacted().MarshalJSON() }
func (c Codec) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("mapenc.Codec{table: %q, format: %v, beacons: %t, keys: [redacted]}", c.cfg.TableName, c.cfg.Format, c.cfg.Search != nil))
}

// New validates cfg and returns a Codec.
func New(cfg Config, optFns ...func(*Options)) (*Codec, error) {
	var opts Options
	for _, fn := range optFns {
		fn(&opts)
	}
	opts.EncoderOptions = slices.Clone(opts.EncoderOptions)
	opts.DecoderOptions = slices.Clone(opts.DecoderOptions)
	opts.Itemcrypto = slices.Clone(opts.Itemcrypto)
	if opts.TagKey == "" {
		opts.TagKey = defaultTagKey
	}
	cfg.Overrides = maps.Clone(cfg.Overrides)
	if cfg.TableName == "" {
		return nil, errors.New("mapenc: Config.TableName is required")
	}
	if cfg.Provider == nil && cfg.Format != itemcrypto.FormatDBESDK {
		return nil, errors.New("mapenc: Config.Provider is required (or Format: itemcrypto.FormatDBESDK with DBESDK)")
	}
	if cfg.Default == 0 {
		return nil, fmt.Errorf("mapenc: Config.Default: %w", actions.ErrDefaultNotSet)
	}
	if cfg.Search != nil {
		if cfg.Format != itemcrypto.FormatDBESDK || cfg.DBESDK == nil {
			return nil, errors.New("mapenc: Config.Search (beacons) needs the DB-ESDK format: Format itemcrypto.FormatDBESDK with DBESDK")
		}
		if err := cfg.DBESDK.CheckBeacons(); err != nil {
			return nil, fmt.Errorf("mapenc: Config.Search: %w", err)
		}
		overrides, err := cfg.Search.SignOnlyOverrides(cfg.Overrides, cfg.PartitionKey, cfg.SortKey)
		if err != nil {
			return nil, fmt.Errorf("mapenc: Config.Search: %w", err)
		}
		cfg.Overrides = overrides
	}
	c := &Codec{cfg: cfg, opts: opts, types: new(typeCache)}
	if cfg.NoPartitionKey && (cfg.PartitionKey != "" || cfg.SortKey != "") {
		return nil, fmt.Errorf("mapenc: Config.NoPartitionKey is set, and a key is named too: %w", actions.ErrInvalidPolicy)
	}
	base := actions.Options{Default: cfg.Default, Overrides: cfg.Overrides, PartitionKey: cfg.PartitionKey, SortKey: cfg.SortKey}
	if cfg.PartitionKey == "" && !cfg.NoPartitionKey {
		// Structs may still name it by a tag (the sort key too); maps and
		// untagged structs get this error. The rest of the Config is
		// checked now all the same.
		c.baseErr = fmt.Errorf("mapenc: Config.PartitionKey: %w (name it, tag a struct field itemcrypto:\"partition\", or set Config.NoPartitionKey if the items have none)",
			actions.ErrPartitionKeyNotSet)
		base.SortKey = ""
	}
	base.NoPartitionKey = cfg.PartitionKey == ""
	policy, err := actions.New(base)
	if err != nil {
		return nil, fmt.Errorf("mapenc: %w", err)
	}
	if c.baseErr == nil {
		c.base, err = c.newProtector(policy)
		if err != nil {
			return nil, fmt.Errorf("mapenc: %w", err)
		}
	}
	tagKey := opts.TagKey
	encFns := append(slices.Clone(opts.EncoderOptions), func(o *attributevalue.EncoderOptions) { o.TagKey = tagKey })
	decFns := append(slices.Clone(opts.DecoderOptions), func(o *attributevalue.DecoderOptions) { o.TagKey = tagKey })
	c.encoder = attributevalue.NewEncoder(encFns...)
	c.decoder = attributevalue.NewDecoder(decFns...)
	return c, nil
}

// Encryptor returns the item encryptor of the Config's own policy, the one
// that [Codec.EncryptMap] and [Codec.DecryptMap] use; nil when the Config
// names no partition key (and NoPartitionKey is not set), so that only
// structs with a partition tag can be protected. Most users won't need it.
//
// With Config.Search, writing an item through the Encryptor alone stores
// no beacons: use the Codec's methods.
func (c *Codec) Encryptor() *itemcrypto.Encryptor { return c.base.encryptor() }

// baseEncryptor returns the protector of the Config's own policy, or why
// there is none.
func (c *Codec) baseEncryptor() (*protector, error) { return c.base, c.baseErr }

// EncryptMap encodes m with attributevalue (as attributevalue.MarshalMap
// does) and returns its protected form, ready to store: every
// EncryptAndSign attribute replaced by its ciphertext, the material
// description and the signature added. m is not modified.
//
// Attributes take their actions from the Config alone.
func (c *Codec) EncryptMap(ctx context.Context, m map[string]any) (map[string]types.AttributeValue, error) {
	if m == nil {
		m = map[string]any{}
	}
	enc, err := c.baseEncryptor()
	if err != nil {
		return nil, err
	}
	item, err := c.marshal(m, nil)
	if err != nil {
		return nil, err
	}
	return enc.Encrypt(ctx, item)
}

// DecryptMap verifies item's signature, decrypts it and decodes it with
// attributevalue into a map, as attributevalue.UnmarshalMap does: strings,
// float64 numbers (attributevalue.Number with the decoder option
// UseNumber), []byte, bool, nil, []any, map[string]any, and []string,
// []float64, [][]byte for sets. The material description and signature
// attributes are not in the result.
//
// Attributes take their actions from the Config alone: an item written from
// a struct with itemcrypto tags verifies only if the Config gives every
// attribute the same action (decrypt it into that struct instead).
//
// Every failure of authenticity returns an error matching
// itemcrypto.ErrAuthentication and a nil map.
func (c *Codec) DecryptMap(ctx context.Context, item map[string]types.AttributeValue) (map[string]any, error) {
	enc, err := c.baseEncryptor()
	if err != nil {
		return nil, err
	}
	pt, err := enc.Decrypt(ctx, item)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := c.decoder.Decode(&types.AttributeValueMemberM{Value: pt}, &out); err != nil {
		return nil, c.decodeError(mapAnyType, pt, err)
	}
	return out, nil
}

// Encrypt encodes v with attributevalue and returns its protected form. v
// is a struct, a map or a pointer to one; a map[string]types.AttributeValue
// is protected as it is.
//
// A struct's attributes are named by attributevalue (the dynamodbav tag, or
// the field name; promoted fields of embedded structs included) and take
// their actions from the Config and from the struct's itemcrypto tags:
//
//	type Order struct {
//		Customer string `dynamodbav:"customer" itemcrypto:"partition"`
//		ID       int    `dynamodbav:"id" itemcrypto:"sort"`
//		Card     string `dynamodbav:"card" itemcrypto:"encrypt"`
//		Email    string `dynamodbav:"email" itemcrypto:"sign"`
//		Views    int    `dynamodbav:"views" itemcrypto:"nothing"`
//	}
//
// A tag holds one action (encrypt, sign, nothing), or a key role (partition,
// sort), or both separated by a comma. The tags of a type are read once, on
// the type's first use, and the result cached; a tag that is invalid or
// contradicts the Config makes every call with the type fail with a
// [*TagError] naming the field. Tags on nested (non-embedded) structs have
// no effect: actions belong to top-level attributes.
func (c *Codec) Encrypt(ctx context.Context, v any) (map[string]types.AttributeValue, error) {
	if item, ok := v.(map[string]types.AttributeValue); ok {
		enc, err := c.baseEncryptor()
		if err != nil {
			return nil, err
		}
		return enc.Encrypt(ctx, item)
	}
	t := reflect.TypeOf(v)
	enc, info, err := c.encryptorFor(t)
	if err != nil {
		return nil, err
	}
	item, err := c.marshal(v, info)
	if err != nil {
		return nil, err
	}
	return enc.Encrypt(ctx, item)
}

// Decrypt verifies item's signature, decrypts it, and decodes it with
// attributevalue into out, a non-nil pointer to a struct, a map, a pointer
// to either, or an `any` (which receives a map[string]any). The actions are
// those of out's type, as in [Codec.Encrypt].
//
// *out is replaced as a whole by the decoded value (fields the item lacks
// end up zero), and only on success: on any error it is left untouched.
// Every failure of authenticity returns an error matching
// itemcrypto.ErrAuthentication.
func (c *Codec) Decrypt(ctx context.Context, item map[string]types.AttributeValue, out any) error {
	_, err := c.decrypt(ctx, item, out, nil)
	return err
}

// decrypt is Decrypt; with a term, an item of another branch key is not
// decrypted, and a plaintext that term does not keep is not decoded: both
// return false and leave *out untouched.
func (c *Codec) decrypt(ctx context.Context, item map[string]types.AttributeValue, out any, term *search.Term) (bool, error) {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false, fmt.Errorf("%w: Decrypt needs a non-nil pointer, got %T", ErrUnsupportedType, out)
	}
	et := rv.Type().Elem()
	var (
		enc  *protector
		info *typeInfo
		err  error
	)
	switch {
	case et == itemType || et.Kind() == reflect.Interface:
		enc, err = c.baseEncryptor()
	default:
		enc, info, err = c.encryptorFor(et)
	}
	if err != nil {
		return false, err
	}
	pt, ok, err := enc.decryptMatch(ctx, item, term)
	if err != nil || !ok {
		return false, err
	}
	if p, ok := out.(*map[string]types.AttributeValue); ok {
		*p = pt
		return true, nil
	}
	tmp := reflect.New(et)
	if err := c.decoder.Decode(&types.AttributeValueMemberM{Value: info.exactFields(pt)}, tmp.Interface()); err != nil {
		return false, c.decodeErrorInfo(et, info, pt, err)
	}
	rv.Elem().Set(tmp.Elem())
	return true, nil
}

// EncryptJSON is [Codec.Encrypt] followed by [MarshalJSON]: the protected
// item as a DynamoDB JSON document, for a store of JSON documents.
func (c *Codec) EncryptJSON(ctx context.Context, v any) ([]byte, error) {
	item, err := c.Encrypt(ctx, v)
	if err != nil {
		return nil, err
	}
	return MarshalJSON(item)
}

// DecryptJSON is [UnmarshalJSON] followed by [Codec.Decrypt].
func (c *Codec) DecryptJSON(ctx context.Context, data []byte, out any) error {
	item, err := UnmarshalJSON(data)
	if err != nil {
		return err
	}
	return c.Decrypt(ctx, item, out)
}

var (
	mapAnyType = reflect.TypeFor[map[string]any]()
	itemType   = reflect.TypeFor[map[string]types.AttributeValue]()
)

// marshal encodes v into an item. info, when v is a struct, helps name the
// field of an error.
func (c *Codec) marshal(v any, info *typeInfo) (map[string]types.AttributeValue, error) {
	if item, ok := v.(map[string]types.AttributeValue); ok {
		return item, nil // already an item
	}
	av, err := c.encoder.Encode(v)
	if err != nil {
		return nil, c.encodeError(v, info, err)
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("%w: %T encodes to %s", ErrUnsupportedType, v, avKind(av))
	}
	return m.Value, nil
}

func avKind(av types.AttributeValue) string {
	switch av.(type) {
	case *types.AttributeValueMemberS:
		return "a string (S)"
	case *types.AttributeValueMemberN:
		return "a number (N)"
	case *types.AttributeValueMemberNULL:
		return "NULL (a nil pointer?)"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%T", av)
}

// encryptorFor returns the encryptor for values of type t (a struct, a
// map, or pointers to one) and, for a struct, its cached type info.
func (c *Codec) encryptorFor(t reflect.Type) (*protector, *typeInfo, error) {
	if t == nil {
		return nil, nil, fmt.Errorf("%w: got nil", ErrUnsupportedType)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map:
		enc, err := c.baseEncryptor()
		return enc, nil, err
	case reflect.Struct:
		info := c.typeInfo(t)
		if info.err != nil {
			return nil, nil, info.err
		}
		return info.enc, info, nil
	}
	return nil, nil, fmt.Errorf("%w: got %v", ErrUnsupportedType, t)
}

// encodeError names the attribute (and field) of an encoding failure where
// it can: encoding is retried attribute by attribute, on this error path
// only.
func (c *Codec) encodeError(v any, info *typeInfo, err error) error {
	ce := &ConvertError{Op: "encode", Type: reflect.TypeOf(v), Err: err}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Map:
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			return strings.Compare(fmt.Sprint(a.Interface()), fmt.Sprint(b.Interface()))
		})
		for _, k := range keys {
			if _, e := c.encoder.Encode(rv.MapIndex(k).Interface()); e != nil {
				if k.Kind() == reflect.String {
					ce.Attribute = k.String()
				}
				break
			}
		}
	case reflect.Struct:
		if info == nil {
			break
		}
		for _, f := range info.fields {
			fv, err := rv.FieldByIndexErr(f.index)
			if err != nil || !fv.CanInterface() {
				continue
			}
			if _, e := c.encoder.Encode(fv.Interface()); e != nil {
				ce.Attribute, ce.Field = f.name, f.goName
				break
			}
		}
	}
	return ce
}

func (c *Codec) decodeError(t reflect.Type, pt map[string]types.AttributeValue, err error) error {
	return c.decodeErrorInfo(t, nil, pt, err)
}

// decodeErrorInfo names the attribute of a decoding failure: decoding is
// retried attribute by attribute, on this error path only.
func (c *Codec) decodeErrorInfo(t reflect.Type, info *typeInfo, pt map[string]types.AttributeValue, err error) error {
	ce := &ConvertError{Op: "decode", Type: t, Err: err}
	for _, name := range slices.Sorted(maps.Keys(pt)) {
		one := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{name: pt[name]}}
		if e := c.decoder.Decode(one, reflect.New(t).Interface()); e != nil {
			ce.Attribute = name
			if info != nil {
				if i, ok := info.byName[name]; ok {
					ce.Field = info.fields[i].goName
				}
			}
			break
		}
	}
	return ce
}
