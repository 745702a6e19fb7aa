package dbesdk

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/refkat"
)

var flagWriteMongoKAT = flag.String("dbesdk.writemongokat", "", "TestWriteMongoBeaconKAT: write the reference's beacons for mongoenc's known-answer test to this file (adapters/mongoenc/testdata/dbesdk_beacons.json)")

// mongoKATFile is the committed file, from this package's directory.
const mongoKATFile = "../../../../adapters/mongoenc/testdata/dbesdk_beacons.json"

// mongoKATActions: one encrypted attribute per beacon length, profile (a
// map holding ssn, for a beacon on a nested path), s signed (a compound
// beacon's signed part).
var mongoKATActions = map[string]actions.Action{
	"pk": actions.SignOnly, "e1": actions.EncryptAndSign, "e8": actions.EncryptAndSign, "e16": actions.EncryptAndSign,
	"e23": actions.EncryptAndSign, "e32": actions.EncryptAndSign, "profile": actions.EncryptAndSign, "s": actions.SignOnly,
}

// mongoKATStandard: standard beacons of lengths 1, 8, 16, 23 and 32, and
// one on the nested path profile.ssn.
var mongoKATStandard = []refkat.Standard{
	{Name: "b1", Loc: "e1", Length: 1}, {Name: "b8", Loc: "e8", Length: 8}, {Name: "b16", Loc: "e16", Length: 16},
	{Name: "b23", Loc: "e23", Length: 23}, {Name: "b32", Loc: "e32", Length: 32}, {Name: "ssn", Loc: "profile.ssn", Length: 16},
}

// mongoKATValues: empty, ASCII, beyond ASCII (two- and three-byte UTF-8,
// outside the BMP).
var mongoKATValues = []string{"", "a", "ann@example.com", "0123456789abcdef", "é", "日本語", "Ünïcødé 123 \U0001F600", "\U00010000"}

// mongoBeaconKAT has the reference compute the beacons of
// mongoKATStandard for every value of mongoKATValues (each case stores the
// value in every beaconed attribute), and of two compound beacons (c: an
// encrypted part b8 and a signed part s; cs: s only) for a few values.
func mongoBeaconKAT(t *testing.T) *refkat.BeaconFile {
	f := &refkat.BeaconFile{
		Comment: "Written by the DB-ESDK's Go edition (TestWriteMongoBeaconKAT, internal/testsupport/interop/dbesdk, -dbesdk.writemongokat); TestMongoBeaconKAT there checks it is current. Do not edit; regenerate.",
		Beacons: refkat.Beacons{BeaconKey: hex.EncodeToString(katBeaconKey), Actions: map[string]string{}},
	}
	for n, a := range mongoKATActions {
		f.Beacons.Actions[n] = string(refActions[a])
	}
	put := refBeaconPut(t, mongoKATActions)
	add := func(name string, cfg refkat.BeaconConfig, it Item) {
		bc := refkat.BeaconCase{Name: name, Config: cfg}
		beacons, errCfg, errItem := put(cfg, it)
		if errCfg != nil || errItem != nil {
			t.Fatalf("%s: the reference refused the configuration (%v) or the item (%v)", name, errCfg, errItem)
		}
		var err error
		if bc.Item, err = ddbjson.MarshalItem(it); err != nil {
			t.Fatal(err)
		}
		if bc.Beacons, err = ddbjson.MarshalItem(beacons); err != nil {
			t.Fatal(err)
		}
		f.Beacons.Cases = append(f.Beacons.Cases, bc)
	}
	std := refkat.BeaconConfig{Standard: mongoKATStandard}
	for i, v := range mongoKATValues {
		it := Item{"pk": s(fmt.Sprint("p", i)), "profile": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"ssn": s(v)}}}
		for _, sb := range mongoKATStandard[:5] {
			it[sb.Loc] = s(v)
		}
		add(fmt.Sprintf("standard-%d", i), std, it)
	}
	cmp := refkat.BeaconConfig{Standard: mongoKATStandard, Compound: []refkat.Compound{
		{Name: "c", Split: "|", Encrypted: []refkat.Part{{Name: "b8", Prefix: "E-"}}, Signed: []refkat.Part{{Name: "s", Prefix: "S-"}}},
		{Name: "cs", Split: "|", Signed: []refkat.Part{{Name: "s", Prefix: "T-"}}},
	}}
	for i, v := range []string{"ann@example.com", "日本語"} {
		add(fmt.Sprintf("compound-%d", i), cmp, Item{"pk": s(fmt.Sprint("c", i)), "e8": s(v), "s": s("signed-" + v)})
	}
	return f
}

func marshalMongoKAT(t *testing.T, f *refkat.BeaconFile) []byte {
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// TestWriteMongoBeaconKAT writes mongoBeaconKAT to -dbesdk.writemongokat:
//
//	cd internal/testsupport/interop && GOWORK=off go test ./dbesdk -run TestWriteMongoBeaconKAT \
//	    -dbesdk.writemongokat=$PWD/../../../adapters/mongoenc/testdata/dbesdk_beacons.json
func TestWriteMongoBeaconKAT(t *testing.T) {
	if *flagWriteMongoKAT == "" {
		t.Skip("-dbesdk.writemongokat=PATH not given")
	}
	f := mongoBeaconKAT(t)
	if err := os.MkdirAll(filepath.Dir(*flagWriteMongoKAT), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*flagWriteMongoKAT, marshalMongoKAT(t, f), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d cases", *flagWriteMongoKAT, len(f.Beacons.Cases))
}

// TestMongoBeaconKAT: the committed known answers of mongoenc's
// TestReferenceBeacons are what the reference computes now, byte for byte.
func TestMongoBeaconKAT(t *testing.T) {
	want, err := os.ReadFile(mongoKATFile)
	if err != nil {
		t.Fatal(err)
	}
	got := marshalMongoKAT(t, mongoBeaconKAT(t))
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what the reference computes now: regenerate it with TestWriteMongoBeaconKAT (-dbesdk.writemongokat)\ngot:\n%s", mongoKATFile, got)
	}
}
