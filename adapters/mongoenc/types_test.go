package mongoenc

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// bsonCase is one BSON value of the type table.
type bsonCase struct {
	name string
	v    any
	// plainOnFerret: FerretDB v1 stores it unencrypted, byte for byte (see
	// internal/testsupport/mongotest/mongotest_test.go). The others are tested
	// unencrypted only through the in-memory mapping.
	plainOnFerret bool
}

func bsonCases(t testing.TB) []bsonCase {
	d128, err := bson.ParseDecimal128("-1234.5678E-30")
	if err != nil {
		t.Fatal(err)
	}
	d128nan, err := bson.ParseDecimal128("NaN")
	if err != nil {
		t.Fatal(err)
	}
	return []bsonCase{
		{"double", 3.25, true},
		{"double max", math.MaxFloat64, true},
		{"double denormal", 5e-324, true},
		{"double -0.0", math.Copysign(0, -1), false},
		{"double NaN", math.NaN(), false},
		{"double +Inf", math.Inf(1), false},
		{"double -Inf", math.Inf(-1), false},
		{"string", "héllo\x00wörld ✓", true},
		{"string empty", "", true},
		{"document", bson.D{{Key: "z", Value: int32(1)}, {Key: "a", Value: "x"},
			{Key: "m", Value: bson.D{{Key: "k", Value: true}, {Key: "arr", Value: bson.A{int32(1), int64(2)}}}}}, true},
		{"document empty", bson.D{}, true},
		{"array", bson.A{int32(1), "two", 3.0, int64(4), nil, true, bson.D{{Key: "five", Value: bson.A{int32(5)}}}}, true},
		{"array empty", bson.A{}, true},
		{"array in array", bson.A{bson.A{int32(1), int32(2)}, bson.A{}}, false},
		{"binary 0 generic", bson.Binary{Subtype: 0x00, Data: []byte{0, 1, 2, 0xff}}, true},
		{"binary 0 empty", bson.Binary{Subtype: 0x00, Data: []byte{}}, true},
		{"binary 1 function", bson.Binary{Subtype: 0x01, Data: []byte{1, 2}}, true},
		{"binary 2 old", bson.Binary{Subtype: 0x02, Data: []byte{1, 2, 3}}, true},
		{"binary 3 uuid old", bson.Binary{Subtype: 0x03, Data: bytes.Repeat([]byte{0x33}, 16)}, true},
		{"binary 4 uuid", bson.Binary{Subtype: 0x04, Data: bytes.Repeat([]byte{0xab}, 16)}, true},
		{"binary 5 md5", bson.Binary{Subtype: 0x05, Data: bytes.Repeat([]byte{0x55}, 16)}, true},
		{"binary 6 encrypted", bson.Binary{Subtype: 0x06, Data: []byte{6, 6}}, true},
		{"binary 7 column", bson.Binary{Subtype: 0x07, Data: []byte{7}}, true},
		{"binary 8 sensitive", bson.Binary{Subtype: 0x08, Data: []byte{8}}, true},
		{"binary 0x80 user", bson.Binary{Subtype: 0x80, Data: []byte{9, 8, 7}}, true},
		{"binary 64 KiB", bson.Binary{Subtype: 0x00, Data: bytes.Repeat([]byte{0x5a}, 64<<10)}, true},
		{"undefined", bson.Undefined{}, false},
		{"objectid", bson.NewObjectID(), true},
		{"bool true", true, true},
		{"bool false", false, true},
		{"datetime", bson.NewDateTimeFromTime(time.UnixMilli(1700000000123)), true},
		{"datetime negative", bson.DateTime(-62135596800000), true},
		{"datetime max", bson.DateTime(math.MaxInt64), true},
		{"null", nil, true},
		{"regex", bson.Regex{Pattern: "^a.*b$", Options: "i"}, true},
		{"dbpointer", bson.DBPointer{DB: "db.c", Pointer: bson.NewObjectID()}, false},
		{"javascript", bson.JavaScript("function() { return 1 }"), false},
		{"symbol", bson.Symbol("sym"), false},
		{"code with scope", bson.CodeWithScope{Code: "x", Scope: bson.D{{Key: "a", Value: int32(1)}}}, false},
		{"int32", int32(-7), true},
		{"int32 min", int32(math.MinInt32), true},
		{"int32 max", int32(math.MaxInt32), true},
		{"timestamp", bson.Timestamp{T: 1700000000, I: 3}, true},
		{"int64", int64(7), true}, // same number as an int32 would be: the type must survive
		{"int64 2^62+1", int64(1)<<62 + 1, true},
		{"int64 min", int64(math.MinInt64), true},
		{"int64 max", int64(math.MaxInt64), true},
		{"decimal128", d128, false},
		{"decimal128 NaN", d128nan, false},
		{"minkey", bson.MinKey{}, false},
		{"maxkey", bson.MaxKey{}, false},
	}
}

// typeVariants: the value as field "v" under each action, and nested at
// "wrap.v" with wrap signed.
var typeVariants = []struct {
	name      string
	overrides map[string]actions.Action
	// stored returns the document with the value at v.
	doc       func(id string, v any) bson.D
	encrypted bool
}{
	{"encrypt", map[string]actions.Action{"v": actions.EncryptAndSign},
		func(id string, v any) bson.D { return bson.D{{Key: "_id", Value: id}, {Key: "v", Value: v}} }, true},
	{"encrypt-nested", map[string]actions.Action{"wrap.v": actions.EncryptAndSign},
		func(id string, v any) bson.D {
			return bson.D{{Key: "_id", Value: id}, {Key: "wrap", Value: bson.D{{Key: "before", Value: int32(1)}, {Key: "v", Value: v}, {Key: "after", Value: "z"}}}}
		}, true},
	{"sign", map[string]actions.Action{"v": actions.SignOnly},
		func(id string, v any) bson.D { return bson.D{{Key: "_id", Value: id}, {Key: "v", Value: v}} }, false},
	{"nothing", map[string]actions.Action{"v": actions.DoNothing},
		func(id string, v any) bson.D { return bson.D{{Key: "_id", Value: id}, {Key: "v", Value: v}} }, false},
}

func variantConfig(overrides map[string]actions.Action) Config {
	cfg := testConfig()
	cfg.Default = actions.SignOnly
	cfg.Overrides = overrides
	return cfg
}

// TestBSONTypesMemory round-trips every BSON type under every action
// through the mapping and the core, with no server: the decrypted document
// is the input, byte for byte.
func TestBSONTypesMemory(t *testing.T) {
	ctx := ctxT(t)
	for _, variant := range typeVariants {
		c := offlineColl(t, variantConfig(variant.overrides))
		for _, tc := range bsonCases(t) {
			t.Run(variant.name+"/"+tc.name, func(t *testing.T) {
				want := rawOf(t, variant.doc("x", tc.v))
				stored, err := c.encryptDoc(ctx, want)
				if err != nil {
					t.Fatalf("encrypt: %v", err)
				}
				checkStored(t, bson.Raw(stored), want, variant.encrypted)
				got, err := c.decryptDoc(ctx, stored)
				if err != nil {
					t.Fatalf("decrypt: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("round trip:\n got %s\nwant %s", got, want)
				}
			})
		}
	}
}

// checkStored checks the stored form of a type-table document: v (or
// wrap.v) is a binary ciphertext of subtype 0 when encrypted and its raw
// BSON value otherwise, and the reserved fields are there.
func checkStored(t *testing.T, stored, plain bson.Raw, encrypted bool) {
	t.Helper()
	path := []string{"v"}
	if _, err := plain.LookupErr("wrap"); err == nil {
		path = []string{"wrap", "v"}
	}
	sv, err := stored.LookupErr(path...)
	if err != nil {
		t.Fatalf("stored document lacks %s: %s", strings.Join(path, "."), stored)
	}
	pv := plain.Lookup(path...)
	if encrypted {
		sub, data, ok := sv.BinaryOK()
		if !ok || sub != CiphertextSubtype || len(data) < 32 || len(data)%16 != 0 {
			t.Errorf("stored %s is %s, want a binary subtype 0 ciphertext", strings.Join(path, "."), sv.Type)
		}
		if bytes.Contains(stored, pv.Value) && len(pv.Value) > 8 {
			t.Errorf("the stored document contains the plaintext bytes")
		}
	} else if sv.Type != pv.Type || !bytes.Equal(sv.Value, pv.Value) {
		t.Errorf("stored %s = %s, want it unchanged", strings.Join(path, "."), sv)
	}
	for _, name := range []string{"*amzn-ddb-map-desc*", "*amzn-ddb-map-sig*"} {
		if sub, _, ok := stored.Lookup(name).BinaryOK(); !ok || sub != CiphertextSubtype {
			t.Errorf("stored document lacks %s as binary subtype 0", name)
		}
	}
}

// TestBSONTypesServer is the type table against the test server: every
// type encrypted (top-level and nested), and every type FerretDB stores
// unencrypted also signed and do-nothing, written with InsertOne, read
// with FindOne and Find: the decrypted field has its BSON type and bytes.
// It logs the outcome per type.
func TestBSONTypesServer(t *testing.T) {
	client, plain := serverColl(t, testConfig())
	_ = client
	ctx := ctxT(t)
	var summary []string
	for vi, variant := range typeVariants {
		c, err := NewCollection(plain, variantConfig(variant.overrides))
		if err != nil {
			t.Fatal(err)
		}
		for ci, tc := range bsonCases(t) {
			if !variant.encrypted && !tc.plainOnFerret {
				continue // FerretDB v1 cannot store it; covered by TestBSONTypesMemory
			}
			id := fmt.Sprintf("%d-%d", vi, ci)
			ok := t.Run(variant.name+"/"+tc.name, func(t *testing.T) {
				doc := variant.doc(id, tc.v)
				want := rawOf(t, doc)
				if _, err := c.InsertOne(ctx, doc); err != nil {
					t.Fatalf("InsertOne: %v", err)
				}
				var stored bson.Raw
				if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&stored); err != nil {
					t.Fatalf("plain FindOne: %v", err)
				}
				checkStored(t, stored, want, variant.encrypted)
				var got bson.Raw
				if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
					t.Fatalf("FindOne: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("FindOne:\n got %.300s\nwant %.300s", got.String(), want.String())
				}
				cur, err := c.Find(ctx, bson.D{{Key: "_id", Value: id}})
				if err != nil {
					t.Fatalf("Find: %v", err)
				}
				var all []bson.Raw
				if err := cur.All(ctx, &all); err != nil || len(all) != 1 || !bytes.Equal(all[0], want) {
					t.Errorf("Find: %d documents, %v", len(all), err)
				}
			})
			if !ok {
				summary = append(summary, variant.name+"/"+tc.name+": FAIL")
			}
		}
	}
	if len(summary) > 0 {
		t.Logf("failures:\n%s", strings.Join(summary, "\n"))
	}
}

// TestAllTypesOneDocument writes one document with every type the server
// stores in plaintext signed, and every type encrypted, and reads it back
// byte for byte (field order included).
func TestAllTypesOneDocument(t *testing.T) {
	cases := bsonCases(t)
	overrides := map[string]actions.Action{}
	doc := bson.D{{Key: "_id", Value: bson.NewObjectID()}}
	for i, tc := range cases {
		enc := fmt.Sprintf("e%02d", i)
		overrides[enc] = actions.EncryptAndSign
		doc = append(doc, bson.E{Key: enc, Value: tc.v})
		if tc.plainOnFerret {
			doc = append(doc, bson.E{Key: fmt.Sprintf("s%02d", i), Value: tc.v})
		}
	}
	c, plain := serverColl(t, variantConfig(overrides))
	ctx := ctxT(t)
	if _, err := c.InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
	var got bson.Raw
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: doc[0].Value}}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if want := rawOf(t, doc); !bytes.Equal(got, want) {
		t.Errorf("round trip differs:\n got %.500s\nwant %.500s", got.String(), want.String())
	}
	var stored bson.Raw
	if err := plain.FindOne(ctx, bson.D{}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	elems, _ := stored.Elements()
	if n := len(elems); n != len(doc)+2 {
		t.Errorf("stored document has %d fields, want %d", n, len(doc)+2)
	}
}
