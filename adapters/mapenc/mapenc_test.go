package mapenc

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

const testTable = "app.customers"

func newCodec(t testing.TB, cfg Config, optFns ...func(*Options)) *Codec {
	t.Helper()
	if cfg.TableName == "" {
		cfg.TableName = testTable
	}
	if cfg.Provider == nil {
		cfg.Provider = cmptest.NewFakeProvider("mapenc-test")
	}
	c, err := New(cfg, optFns...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// encryptAll is the Config of most tests: everything encrypted but the
// partition key "id".
var encryptAll = Config{Default: actions.EncryptAndSign, PartitionKey: "id"}

// strSet marshals as a string set (SS), the way to put a set into a map.
type strSet []string

func (s strSet) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberSS{Value: s}, nil
}

// numSet and binSet marshal as NS and BS.
type numSet []string
type binSet [][]byte

func (s numSet) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberNS{Value: s}, nil
}

func (s binSet) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberBS{Value: s}, nil
}

// TestMapRoundTrip round-trips every Go kind attributevalue encodes, each
// under every action, and checks what DecryptMap gives back.
func TestMapRoundTrip(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	tests := []struct {
		name    string
		in, out any // out: what attributevalue decodes into an `any`
		outNum  any // with DecoderOptions.UseNumber, when it differs
	}{
		{"string", "héllo <&> \u2028", "héllo <&> \u2028", nil},
		{"empty string", "", "", nil},
		{"int", -42, -42.0, attributevalue.Number("-42")},
		{"int8", int8(-8), -8.0, attributevalue.Number("-8")},
		{"int64 max", int64(math.MaxInt64), float64(math.MaxInt64), attributevalue.Number("9223372036854775807")},
		{"uint64", uint64(math.MaxUint64), float64(math.MaxUint64), attributevalue.Number("18446744073709551615")},
		{"float32", float32(1.5), 1.5, attributevalue.Number("1.5")},
		{"float64", 3.141592653589793, 3.141592653589793, attributevalue.Number("3.141592653589793")},
		{"bool true", true, true, nil},
		{"bool false", false, false, nil},
		{"bytes", []byte{0, 1, 2, 0xff}, []byte{0, 1, 2, 0xff}, nil},
		{"empty bytes", []byte{}, []byte{}, nil},
		{"nil", nil, nil, nil},
		{"nil slice", []string(nil), []any{}, nil}, // a typed nil in an interface is not NULL
		{"nested map", map[string]any{"a": "x", "b": map[string]any{"c": true}}, map[string]any{"a": "x", "b": map[string]any{"c": true}}, nil},
		{"typed map", map[string]int{"one": 1}, map[string]any{"one": 1.0}, map[string]any{"one": attributevalue.Number("1")}},
		{"slice", []any{"a", 1, false, nil, []byte("b")}, []any{"a", 1.0, false, nil, []byte("b")}, []any{"a", attributevalue.Number("1"), false, nil, []byte("b")}},
		{"string slice", []string{"x", "y"}, []any{"x", "y"}, nil},
		{"empty slice", []string{}, []any{}, nil},
		{"string set", strSet{"a", "b"}, []string{"a", "b"}, nil}, // sets come back in byte order
		{"number set", numSet{"1", "2.5"}, []float64{1, 2.5}, []attributevalue.Number{"1", "2.5"}},
		{"binary set", binSet{{1}, {2, 3}}, [][]byte{{1}, {2, 3}}, nil},
		{"time", when, when.Format(time.RFC3339Nano), nil},
		{"struct", struct {
			A string `dynamodbav:"a"`
			B int
		}{"x", 2}, map[string]any{"a": "x", "B": 2.0}, map[string]any{"a": "x", "B": attributevalue.Number("2")}},
	}
	ctx := context.Background()
	for _, useNumber := range []bool{false, true} {
		for _, a := range []actions.Action{actions.EncryptAndSign, actions.SignOnly, actions.DoNothing} {
			c := newCodec(t, Config{Default: a, PartitionKey: "id", Overrides: map[string]actions.Action{"extra": actions.SignOnly}},
				func(o *Options) {
					o.DecoderOptions = append(o.DecoderOptions, func(d *attributevalue.DecoderOptions) { d.UseNumber = useNumber })
				})
			for _, tc := range tests {
				name := tc.name + "/" + a.String()
				if useNumber {
					name += "/UseNumber"
				}
				t.Run(name, func(t *testing.T) {
					in := map[string]any{"id": "k1", "v": tc.in, "extra": "e"}
					stored, err := c.EncryptMap(ctx, in)
					if err != nil {
						t.Fatalf("EncryptMap: %v", err)
					}
					if a == actions.EncryptAndSign {
						if _, ok := stored["v"].(*types.AttributeValueMemberB); !ok {
							t.Fatalf("stored v is %T, want ciphertext", stored["v"])
						}
					}
					got, err := c.DecryptMap(ctx, stored)
					if err != nil {
						t.Fatalf("DecryptMap: %v", err)
					}
					want := tc.out
					if useNumber && tc.outNum != nil {
						want = tc.outNum
					}
					if !reflect.DeepEqual(got["v"], want) {
						t.Errorf("v = %#v, want %#v", got["v"], want)
					}
					if got["id"] != "k1" || got["extra"] != "e" || len(got) != 3 {
						t.Errorf("DecryptMap = %#v, want id, extra and v only", got)
					}
				})
			}
		}
	}
}

func TestEncryptMapDoesNotModifyInput(t *testing.T) {
	c := newCodec(t, encryptAll)
	in := map[string]any{"id": "k", "card": "4111", "n": map[string]any{"x": 1}}
	before := maps.Clone(in)
	if _, err := c.EncryptMap(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, before) {
		t.Fatalf("EncryptMap modified its input: %#v", in)
	}
}

func TestEncryptMapErrors(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, encryptAll)
	if _, err := c.EncryptMap(ctx, map[string]any{"card": "4111"}); !errors.Is(err, itemcrypto.ErrMissingKeyAttribute) {
		t.Errorf("missing key: err = %v, want ErrMissingKeyAttribute", err)
	}
	if _, err := c.EncryptMap(ctx, nil); !errors.Is(err, itemcrypto.ErrMissingKeyAttribute) {
		t.Errorf("nil map: err = %v, want ErrMissingKeyAttribute", err)
	}
	_, err := c.EncryptMap(ctx, map[string]any{"id": "k", itemcrypto.SignatureAttribute: []byte{1}})
	if !errors.Is(err, itemcrypto.ErrReservedAttribute) {
		t.Errorf("reserved name: err = %v, want ErrReservedAttribute", err)
	}
	// A Marshaler that fails with its value in the message: the error names
	// the attribute, never the value.
	_, err = c.EncryptMap(ctx, map[string]any{"id": "k", "a": "ok", "bad": failingMarshaler("s3cr3t-value")})
	var ce *ConvertError
	if !errors.As(err, &ce) || ce.Attribute != "bad" || ce.Op != "encode" {
		t.Fatalf("failing Marshaler: err = %v, want a ConvertError naming attribute bad", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error message leaks the value: %v", err)
	}
	if !strings.Contains(ce.Err.Error(), "s3cr3t") {
		t.Errorf("ConvertError.Err = %v, want the Marshaler's own error", ce.Err)
	}
}

type failingMarshaler string

func (f failingMarshaler) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return nil, errors.New("cannot marshal " + string(f))
}

// Test types: a struct with every kind of tag.

type Address struct {
	Street string `dynamodbav:"street"`
	City   string `dynamodbav:"city" itemcrypto:"sign"` // nested: no effect
}

type Audit struct {
	CreatedBy string `dynamodbav:"created_by" itemcrypto:"sign"`
	Note      string `dynamodbav:"note"`
}

type Customer struct {
	ID      string    `dynamodbav:"id" itemcrypto:"partition"`
	Created int64     `dynamodbav:"created" itemcrypto:"sort"`
	Email   string    `dynamodbav:"email" itemcrypto:"sign"`
	Card    string    `dynamodbav:"card,omitempty" itemcrypto:"encrypt"`
	Views   int       `dynamodbav:"views" itemcrypto:"nothing"`
	Tags    []string  `dynamodbav:"tags,stringset,omitempty"`
	Scores  []float64 `dynamodbav:"scores,numberset,omitempty"`
	Blobs   [][]byte  `dynamodbav:"blobs,binaryset,omitempty"`
	When    time.Time `dynamodbav:"when"`
	Expires time.Time `dynamodbav:"expires,unixtime" itemcrypto:"sign"`
	Secret  string    `dynamodbav:"-"`
	Name    string    // attribute "Name"
	Ratio   *float64  `dynamodbav:"ratio"`
	Address *Address  `dynamodbav:"address,omitempty"`
	Audit             // promoted: created_by (signed), note
	private string    //nolint:unused // never encoded
}

func sampleCustomer() Customer {
	r := 0.25
	return Customer{
		ID: "c-1001", Created: 1700000000, Email: "ada@example.com", Card: "4111-1111-1111-1111",
		Views: 7, Tags: []string{"beta", "vip"}, Scores: []float64{1.5, 2}, Blobs: [][]byte{{1}, {2, 3}},
		When:    time.Date(2024, 5, 6, 7, 8, 9, 123, time.UTC),
		Expires: time.Unix(1800000000, 0),
		Secret:  "never stored", Name: "Ada", Ratio: &r,
		Address: &Address{Street: "1 Analytical Way", City: "London"},
		Audit:   Audit{CreatedBy: "admin", Note: "first customer"},
		private: "x",
	}
}

// storedForm is the expected shape of a protected Customer: attribute →
// "B" for ciphertext, or the plaintext's type.
var storedForm = map[string]string{
	"id": "S", "created": "N", "email": "S", "card": "B", "views": "N", "tags": "B", "scores": "B",
	"blobs": "B", "when": "B", "expires": "N", "Name": "B", "ratio": "B", "address": "B",
	"created_by": "S", "note": "B",
	itemcrypto.MaterialDescriptionAttribute: "B", itemcrypto.SignatureAttribute: "B",
}

func avType(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberM:
		return "M"
	}
	return "?"
}

func checkStoredForm(t *testing.T, stored map[string]types.AttributeValue, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for k, v := range stored {
		got[k] = avType(v)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored form:\n got %v\nwant %v", got, want)
	}
}

// wantCustomer is c as it comes back: the "-" and unexported fields are
// not stored, times come back in their encoded precision.
func wantCustomer(c Customer) Customer {
	c.Secret, c.private = "", ""
	c.Expires = time.Unix(c.Expires.Unix(), 0)
	return c
}

func TestStructRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.EncryptAndSign, PartitionKey: "id"})
	in := sampleCustomer()
	for name, v := range map[string]any{"value": in, "pointer": &in} {
		t.Run(name, func(t *testing.T) {
			stored, err := c.Encrypt(ctx, v)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			checkStoredForm(t, stored, storedForm)
			for _, plain := range []string{"4111", "first customer", "London", "vip"} {
				for _, av := range stored {
					if b, ok := av.(*types.AttributeValueMemberB); ok && bytes.Contains(b.Value, []byte(plain)) {
						t.Fatalf("ciphertext contains plaintext %q", plain)
					}
				}
			}
			var out Customer
			if err := c.Decrypt(ctx, stored, &out); err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if want := wantCustomer(in); !reflect.DeepEqual(out, want) {
				t.Fatalf("Decrypt:\n got %+v\nwant %+v", out, want)
			}
			// Into a pointer to a pointer, and through the typed codec.
			var pp *Customer
			if err := c.Decrypt(ctx, stored, &pp); err != nil || !reflect.DeepEqual(*pp, wantCustomer(in)) {
				t.Fatalf("Decrypt(**Customer) = %v, %+v", err, pp)
			}
		})
	}
	// omitempty: the empty card is not stored, and comes back empty.
	in.Card, in.Address = "", nil
	stored, err := c.Encrypt(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stored["card"]; ok {
		t.Errorf("empty card stored despite omitempty")
	}
	if _, ok := stored["address"]; ok {
		t.Errorf("nil address stored despite omitempty")
	}
	out := Customer{Card: "stale", Views: 99}
	if err := c.Decrypt(ctx, stored, &out); err != nil {
		t.Fatal(err)
	}
	if want := wantCustomer(in); !reflect.DeepEqual(out, want) {
		t.Fatalf("Decrypt replaces *out:\n got %+v\nwant %+v", out, want)
	}
}

func TestTypedCodec(t *testing.T) {
	ctx := context.Background()
	cfg := Config{TableName: testTable, Provider: cmptest.NewFakeProvider("mapenc-test"), Default: actions.EncryptAndSign, PartitionKey: "id"}
	tc, err := For[Customer](cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := sampleCustomer()
	stored, err := tc.Encrypt(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	checkStoredForm(t, stored, storedForm)
	got, err := tc.Decrypt(ctx, stored)
	if err != nil || !reflect.DeepEqual(got, wantCustomer(in)) {
		t.Fatalf("Decrypt = %+v, %v", got, err)
	}
	// The Codec and a TypedCodec of the same Config read each other's items.
	var out Customer
	if err := tc.Codec().Decrypt(ctx, stored, &out); err != nil || !reflect.DeepEqual(out, wantCustomer(in)) {
		t.Fatalf("Codec.Decrypt of a TypedCodec item = %v", err)
	}
	// Pointer types.
	tp, err := Typed[*Customer](tc.Codec())
	if err != nil {
		t.Fatal(err)
	}
	p, err := tp.Decrypt(ctx, stored)
	if err != nil || !reflect.DeepEqual(*p, wantCustomer(in)) {
		t.Fatalf("TypedCodec[*Customer].Decrypt = %+v, %v", p, err)
	}
	stored2, err := tp.Encrypt(ctx, &in)
	if err != nil {
		t.Fatal(err)
	}
	checkStoredForm(t, stored2, storedForm)
	// The item type itself passes through.
	ti, err := Typed[map[string]types.AttributeValue](tc.Codec())
	if err != nil {
		t.Fatal(err)
	}
	item := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "v"}}
	s, err := ti.Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := ti.Decrypt(ctx, s); err != nil || !reflect.DeepEqual(back, item) {
		t.Fatalf("TypedCodec[item] round trip = %v, %v", back, err)
	}
	if _, err := Typed[any](tc.Codec()); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("Typed[any]: err = %v, want ErrUnsupportedType", err)
	}
	if _, err := Typed[int](tc.Codec()); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("Typed[int]: err = %v, want ErrUnsupportedType", err)
	}
}

func TestAttributeValueItemPassesThrough(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, encryptAll)
	item := map[string]types.AttributeValue{
		"id":   &types.AttributeValueMemberS{Value: "k"},
		"card": &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
	}
	stored, err := c.Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	core, err := c.Encryptor().Decrypt(ctx, stored)
	if err != nil || !reflect.DeepEqual(core, item) {
		t.Fatalf("core Decrypt = %v, %v", core, err)
	}
	var back map[string]types.AttributeValue
	if err := c.Decrypt(ctx, stored, &back); err != nil || !reflect.DeepEqual(back, item) {
		t.Fatalf("Decrypt(*item) = %v, %v", back, err)
	}
	var anyOut any
	if err := c.Decrypt(ctx, stored, &anyOut); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"id": "k", "card": []string{"a", "b"}}; !reflect.DeepEqual(anyOut, want) {
		t.Fatalf("Decrypt(*any) = %#v, want %#v", anyOut, want)
	}
}

func TestTagErrors(t *testing.T) {
	type twoPartitions struct {
		A string `dynamodbav:"a" itemcrypto:"partition"`
		B string `dynamodbav:"b" itemcrypto:"partition"`
	}
	type badWord struct {
		A string `dynamodbav:"a" itemcrypto:"encrypted"`
	}
	type emptyTag struct {
		A string `itemcrypto:""`
	}
	type twoActions struct {
		A string `itemcrypto:"sign,nothing"`
	}
	type skipped struct {
		A string `dynamodbav:"-" itemcrypto:"encrypt"`
	}
	type unexported struct {
		ID string `dynamodbav:"id"`
		//lint:ignore U1000 an unexported field with a tag, which the check must report
		a string `itemcrypto:"encrypt"`
	}
	type onEmbedded struct {
		Audit `itemcrypto:"encrypt"`
	}
	type encryptedKey struct {
		ID string `dynamodbav:"id" itemcrypto:"partition,encrypt"`
	}
	type encryptedConfigKey struct {
		ID string `dynamodbav:"id" itemcrypto:"encrypt"`
	}
	type otherSortKey struct {
		ID string `dynamodbav:"id"`
		S  int    `dynamodbav:"s" itemcrypto:"sort"`
	}
	type partitionIsSort struct {
		S int `dynamodbav:"s" itemcrypto:"partition"`
	}
	type emailEncrypted struct {
		ID    string `dynamodbav:"id"`
		Email string `dynamodbav:"email" itemcrypto:"encrypt"`
	}
	type promoted struct {
		ID string `dynamodbav:"id"`
		Audit
	}
	cfg := Config{
		Default: actions.EncryptAndSign, PartitionKey: "id",
		Overrides: map[string]actions.Action{"email": actions.SignOnly, "created_by": actions.DoNothing},
	}
	tests := []struct {
		name       string
		v          any
		cfg        Config
		want       error
		field      string
		attr       string
		alsoWant   error
		msgContain string
	}{
		{"conflicting override", emailEncrypted{}, cfg, ErrTagConflict, "Email", "email", nil, "Config.Overrides says SignOnly"},
		{"conflict in embedded struct", promoted{}, cfg, ErrTagConflict, "Audit.CreatedBy", "created_by", nil, "the tag says SignOnly"},
		{"two partition keys", twoPartitions{}, Config{Default: actions.EncryptAndSign}, ErrTagConflict, "B", "b", nil, "field A is tagged partition too"},
		{"partition vs Config", twoPartitions{}, cfg, ErrTagConflict, "A", "a", nil, `Config.PartitionKey is "id"`},
		{"partition is Config sort key", partitionIsSort{}, Config{Default: actions.EncryptAndSign, SortKey: "s"}, ErrTagConflict, "S", "s", nil, "Config.SortKey names the attribute"},
		{"sort vs Config", otherSortKey{}, Config{Default: actions.EncryptAndSign, PartitionKey: "id", SortKey: "t"}, ErrTagConflict, "S", "s", nil, `Config.SortKey is "t"`},
		{"unknown word", badWord{}, cfg, ErrInvalidTag, "A", "a", nil, `unknown word "encrypted"`},
		{"empty tag", emptyTag{}, cfg, ErrInvalidTag, "A", "A", nil, "empty tag"},
		{"two actions", twoActions{}, cfg, ErrInvalidTag, "A", "A", nil, "two actions"},
		{"tag on skipped field", skipped{}, cfg, ErrInvalidTag, "A", "", nil, "skipped"},
		{"tag on unexported field", unexported{}, cfg, ErrInvalidTag, "a", "", nil, "unexported"},
		{"tag on embedded struct", onEmbedded{}, cfg, ErrInvalidTag, "Audit", "", nil, "promoted"},
		{"encrypted key", encryptedKey{}, Config{Default: actions.EncryptAndSign}, ErrTagConflict, "ID", "id", actions.ErrEncryptedKey, ""},
		{"encrypted Config key", encryptedConfigKey{}, cfg, ErrTagConflict, "ID", "id", actions.ErrEncryptedKey, ""},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCodec(t, tc.cfg)
			_, err := c.Encrypt(ctx, tc.v)
			var te *TagError
			if !errors.As(err, &te) || !errors.Is(err, tc.want) {
				t.Fatalf("Encrypt: err = %v, want a TagError matching %v", err, tc.want)
			}
			if te.Field != tc.field || te.Attribute != tc.attr || te.Type != reflect.TypeOf(tc.v) {
				t.Errorf("TagError names %v field %q attribute %q, want %T field %q attribute %q", te.Type, te.Field, te.Attribute, tc.v, tc.field, tc.attr)
			}
			if tc.alsoWant != nil && !errors.Is(err, tc.alsoWant) {
				t.Errorf("err = %v, want it to match %v too", err, tc.alsoWant)
			}
			if !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), tc.msgContain) {
				t.Errorf("message %q should name field %s and say %q", err, tc.field, tc.msgContain)
			}
			// Every use fails the same way, from the cache.
			out := reflect.New(reflect.TypeOf(tc.v))
			if err2 := c.Decrypt(ctx, map[string]types.AttributeValue{}, out.Interface()); err2 != err {
				t.Errorf("Decrypt: err = %v, want the cached %v", err2, err)
			}
			if n := c.types.builds.Load(); n != 1 {
				t.Errorf("type reflected on %d times, want 1", n)
			}
		})
	}
	// For reports it at once.
	cfg.TableName, cfg.Provider = testTable, cmptest.NewFakeProvider("x")
	if _, err := For[emailEncrypted](cfg); !errors.Is(err, ErrTagConflict) {
		t.Errorf("For: err = %v, want ErrTagConflict", err)
	}
	// A tag that repeats the Config is fine.
	type agrees struct {
		ID    string `dynamodbav:"id" itemcrypto:"partition"`
		Email string `dynamodbav:"email" itemcrypto:"sign"`
	}
	if _, err := For[agrees](cfg); err != nil {
		t.Errorf("For(tags agreeing with the Config): %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	p := cmptest.NewFakeProvider("x")
	for name, cfg := range map[string]Config{
		"no table":       {Provider: p},
		"no provider":    {TableName: "t"},
		"encrypted key":  {TableName: "t", Provider: p, PartitionKey: "id", Overrides: map[string]actions.Action{"id": actions.EncryptAndSign}},
		"reserved":       {TableName: "t", Provider: p, Overrides: map[string]actions.Action{itemcrypto.SignatureAttribute: actions.SignOnly}},
		"unknown action": {TableName: "t", Provider: p, Default: 7},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestUnsupportedValues(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, encryptAll)
	var nilCustomer *Customer
	for name, v := range map[string]any{
		"nil": nil, "int": 42, "string": "x", "slice": []string{"a"}, "nil pointer": nilCustomer,
		"time": time.Now(),
	} {
		if _, err := c.Encrypt(ctx, v); !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("Encrypt(%s): err = %v, want ErrUnsupportedType", name, err)
		}
	}
	stored, err := c.EncryptMap(ctx, map[string]any{"id": "k"})
	if err != nil {
		t.Fatal(err)
	}
	var cu Customer
	for name, out := range map[string]any{"nil": nil, "non-pointer": cu, "nil pointer": nilCustomer, "*int": new(int)} {
		if err := c.Decrypt(ctx, stored, out); !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("Decrypt into %s: err = %v, want ErrUnsupportedType", name, err)
		}
	}
}

func TestConvertErrorsNameAttributeNotValue(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, encryptAll)
	type wide struct {
		ID    string `dynamodbav:"id"`
		Count int64  `dynamodbav:"count"`
		When  string `dynamodbav:"when"`
	}
	type narrow struct {
		ID    string    `dynamodbav:"id"`
		Count int8      `dynamodbav:"count"`
		When  time.Time `dynamodbav:"when"`
	}
	for _, tc := range []struct {
		name, secret, attr, field string
		in                        wide
	}{
		{"overflow", "987654321", "count", "Count", wide{ID: "k", Count: 987654321, When: "2024-01-01T00:00:00Z"}},
		{"bad time", "not-a-time-5e3", "when", "When", wide{ID: "k", Count: 1, When: "not-a-time-5e3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored, err := c.Encrypt(ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			out := narrow{ID: "untouched"}
			err = c.Decrypt(ctx, stored, &out)
			var ce *ConvertError
			if !errors.As(err, &ce) || ce.Op != "decode" || ce.Attribute != tc.attr || ce.Field != tc.field {
				t.Fatalf("err = %#v, want a decode ConvertError naming %s / %s", err, tc.attr, tc.field)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("message leaks the value: %v", err)
			}
			if out.ID != "untouched" {
				t.Errorf("Decrypt wrote into out on failure: %+v", out)
			}
			tn, err := Typed[narrow](c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tn.Decrypt(ctx, stored); !errors.As(err, &ce) || ce.Attribute != tc.attr {
				t.Errorf("TypedCodec.Decrypt: err = %v, want a ConvertError naming %s", err, tc.attr)
			}
		})
	}
	// Encoding errors name the field too.
	type withMarshaler struct {
		ID  string           `dynamodbav:"id"`
		Bad failingMarshaler `dynamodbav:"bad_one"`
	}
	_, err := c.Encrypt(ctx, withMarshaler{ID: "k", Bad: "s3cr3t"})
	var ce *ConvertError
	if !errors.As(err, &ce) || ce.Op != "encode" || ce.Attribute != "bad_one" || ce.Field != "Bad" {
		t.Fatalf("err = %v, want an encode ConvertError naming bad_one / Bad", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("message leaks the value: %v", err)
	}
}

// TestTamper: a changed signed attribute, a flipped ciphertext bit, a
// dropped signature, another table: ErrAuthentication, and *out untouched.
func TestTamper(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.EncryptAndSign, PartitionKey: "id"})
	stored, err := c.Encrypt(ctx, sampleCustomer())
	if err != nil {
		t.Fatal(err)
	}
	flip := func(name string) func(map[string]types.AttributeValue) {
		return func(m map[string]types.AttributeValue) {
			b := bytes.Clone(m[name].(*types.AttributeValueMemberB).Value)
			b[len(b)/2] ^= 1
			m[name] = &types.AttributeValueMemberB{Value: b}
		}
	}
	for name, mutate := range map[string]func(map[string]types.AttributeValue){
		"signed attribute changed": func(m map[string]types.AttributeValue) {
			m["email"] = &types.AttributeValueMemberS{Value: "eve@example.com"}
		},
		"key changed":            func(m map[string]types.AttributeValue) { m["id"] = &types.AttributeValueMemberS{Value: "c-1002"} },
		"promoted field changed": func(m map[string]types.AttributeValue) { m["created_by"] = &types.AttributeValueMemberS{Value: "eve"} },
		"ciphertext flipped":     flip("card"),
		"signature flipped":      flip(itemcrypto.SignatureAttribute),
		"encrypted dropped":      func(m map[string]types.AttributeValue) { delete(m, "card") },
		"signature dropped":      func(m map[string]types.AttributeValue) { delete(m, itemcrypto.SignatureAttribute) },
		"attribute added":        func(m map[string]types.AttributeValue) { m["extra"] = &types.AttributeValueMemberS{Value: "x"} },
		"ciphertexts swapped": func(m map[string]types.AttributeValue) {
			m["card"], m["note"] = m["note"], m["card"]
		},
	} {
		t.Run(name, func(t *testing.T) {
			bad := maps.Clone(stored)
			mutate(bad)
			out := Customer{ID: "untouched"}
			if err := c.Decrypt(ctx, bad, &out); !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Fatalf("Decrypt: err = %v, want ErrAuthentication", err)
			}
			if out.ID != "untouched" {
				t.Fatalf("Decrypt wrote into out on failure")
			}
			if _, err := c.DecryptMap(ctx, bad); !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Fatalf("DecryptMap: err = %v, want ErrAuthentication", err)
			}
		})
	}
	// A DoNothing attribute may change.
	ok := maps.Clone(stored)
	ok["views"] = &types.AttributeValueMemberN{Value: "8"}
	var out Customer
	if err := c.Decrypt(ctx, ok, &out); err != nil || out.Views != 8 {
		t.Fatalf("changed DoNothing attribute: %v, views %d", err, out.Views)
	}
	// Another store name, another provider: no.
	other := newCodec(t, Config{TableName: "app.other", Default: actions.EncryptAndSign, PartitionKey: "id"})
	if err := other.Decrypt(ctx, stored, &out); !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("other table: err = %v, want ErrAuthentication", err)
	}
	otherKeys := newCodec(t, Config{Default: actions.EncryptAndSign, PartitionKey: "id", Provider: cmptest.NewFakeProvider("someone else")})
	if err := otherKeys.Decrypt(ctx, stored, &out); !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("other provider: err = %v, want ErrAuthentication", err)
	}
	// The struct's tags are part of the actions: the Config alone (which
	// would decrypt "email") does not verify the item.
	if _, err := c.DecryptMap(ctx, stored); !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("DecryptMap of a tagged struct's item: err = %v, want ErrAuthentication", err)
	}
}

// TestReflectionOncePerType: the struct tags of a type are read once per
// Codec, however often and however the type is used.
func TestReflectionOncePerType(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.EncryptAndSign, PartitionKey: "id"})
	in := sampleCustomer()
	for range 20 {
		stored, err := c.Encrypt(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = c.Encrypt(ctx, &in); err != nil {
			t.Fatal(err)
		}
		var out Customer
		if err := c.Decrypt(ctx, stored, &out); err != nil {
			t.Fatal(err)
		}
		if _, err := c.EncryptMap(ctx, map[string]any{"id": "m", "a": 1}); err != nil {
			t.Fatal(err)
		}
	}
	tc, err := Typed[Customer](c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Encrypt(ctx, in); err != nil {
		t.Fatal(err)
	}
	if n := c.types.builds.Load(); n != 1 {
		t.Fatalf("Customer reflected on %d times, want 1", n)
	}
}

// TestNoReflectionCostOnHotPath: encrypting a struct through the Codec
// allocates no more than attributevalue.MarshalMap plus the core's Encrypt.
func TestNoReflectionCostOnHotPath(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts (under -race, sync.Pool drops items at random)")
	}
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.EncryptAndSign, PartitionKey: "id"})
	in := sampleCustomer()
	tc, err := Typed[Customer](c)
	if err != nil {
		t.Fatal(err)
	}
	item, err := attributevalue.MarshalMap(in)
	if err != nil {
		t.Fatal(err)
	}
	enc := tc.Encryptor()
	core := testing.AllocsPerRun(50, func() { _, _ = enc.Encrypt(ctx, item) })
	// attributevalue allocates differently for a struct and a pointer to
	// it: compare like with like.
	for name, v := range map[string]any{"value": in, "pointer": &in} {
		marshal := testing.AllocsPerRun(50, func() { _, _ = attributevalue.MarshalMap(v) })
		viaCodec := testing.AllocsPerRun(50, func() { _, _ = c.Encrypt(ctx, v) })
		t.Logf("%s: allocs MarshalMap %.0f + core Encrypt %.0f = %.0f; Codec.Encrypt %.0f", name, marshal, core, marshal+core, viaCodec)
		if viaCodec > marshal+core {
			t.Errorf("%s: Codec.Encrypt allocates beyond attributevalue and the core", name)
		}
	}
	marshal := testing.AllocsPerRun(50, func() { _, _ = attributevalue.MarshalMap(in) })
	viaTyped := testing.AllocsPerRun(50, func() { _, _ = tc.Encrypt(ctx, in) })
	t.Logf("TypedCodec.Encrypt %.0f", viaTyped)
	if viaTyped > marshal+core {
		t.Errorf("TypedCodec.Encrypt allocates beyond attributevalue and the core")
	}
}
