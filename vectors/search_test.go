package vectors_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/search"
	"github.com/itemcrypto/go-itemcrypto/vectors"
)

func TestSimpleValue(t *testing.T) {
	for _, tc := range []struct {
		json string
		want types.AttributeValue
	}{
		{`"x"`, &types.AttributeValueMemberS{Value: "x"}},
		{`1.50`, &types.AttributeValueMemberN{Value: "1.50"}},
		{`{"N": "0800.000e0"}`, &types.AttributeValueMemberN{Value: "0800.000e0"}},
		{`{"S": "N"}`, &types.AttributeValueMemberS{Value: "N"}},
		{`{"B": "b25l"}`, &types.AttributeValueMemberB{Value: []byte("one")}},
		{`{"SS": ["a", "b"]}`, &types.AttributeValueMemberSS{Value: []string{"a", "b"}}},
		{`{"NS": ["1.0", 2]}`, &types.AttributeValueMemberNS{Value: []string{"1.0", "2"}}},
		{`{"BS": ["b25l"]}`, &types.AttributeValueMemberBS{Value: [][]byte{[]byte("one")}}},
		{`{"L": ["Uno", {"N": "1"}]}`, &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "Uno"}, &types.AttributeValueMemberN{Value: "1"}}}},
		{`{"M": {"a": "x", "N": 1}}`, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": &types.AttributeValueMemberS{Value: "x"}, "N": &types.AttributeValueMemberN{Value: "1"}}}},
		{`{"BOOL": false}`, &types.AttributeValueMemberBOOL{Value: false}},
		{`{"NULL": ""}`, &types.AttributeValueMemberNULL{Value: true}},
	} {
		got, err := vectors.SimpleValue(json.RawMessage(tc.json))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SimpleValue(%s) = %#v, %v; want %#v", tc.json, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{"a": "x", "b": "y"}`, `{"X": "1"}`, `["a"]`, `true`, `null`, `{"N": 1}`, `{"SS": [1]}`, `{"B": "%%"}`, `{"BOOL": "yes"}`, `{"L": [true]}`} {
		if v, err := vectors.SimpleValue(json.RawMessage(bad)); err == nil {
			t.Errorf("SimpleValue(%s) = %#v, want an error", bad, v)
		}
	}
}

func TestDBESDKTableConfigs(t *testing.T) {
	dir := testenv.DBESDKVectorsDir(t)
	f, err := vectors.LoadDBESDKTableConfigs(filepath.Join(dir, "configs.json"), "tableEncryptionConfigs")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), ","); got != "0,1,2,3,4,5" {
		t.Fatalf("Names = %s", got)
	}
	vanilla, err := f.Table("0")
	if err != nil || !vanilla.Vanilla || vanilla.Search != nil {
		t.Fatalf(`config "0": %+v, %v; want vanilla`, vanilla, err)
	}
	five, err := f.Table("5")
	if err != nil {
		t.Fatal(err)
	}
	if five.Vanilla || five.LogicalTableName != "GazelleVectorTable" || five.PartitionKey != "RecNum" || five.SortKey != "" ||
		five.Default != actions.DoNothing || five.Overrides["Stuff"] != actions.EncryptAndSign || five.Overrides["Four"] != actions.SignOnly {
		t.Fatalf(`config "5": %+v`, five)
	}
	if five.DBESDK == nil || five.DBESDK.Keyring == nil || len(five.DBESDK.AllowedUnsigned) != 4 {
		t.Fatalf(`config "5": DBESDK %+v`, five.DBESDK)
	}
	s := five.Search
	if s == nil || len(s.Versions) != 1 {
		t.Fatalf(`config "5": search %+v`, s)
	}
	v := s.Versions[0]
	if v.KeySource.Single == nil || v.KeySource.Single.BranchKeyID != "bd3842ff-3076-4092-9918-4395730050b8" || len(v.StandardBeacons) != 3 {
		t.Fatalf(`config "5": version %+v`, v)
	}
	want := []search.CompoundBeacon{{Name: "Comp1", Split: ".", Encrypted: []search.EncryptedPart{{Name: "Stuff", Prefix: "S_"}},
		Signed: []search.SignedPart{{Name: "Four", Prefix: "F_"}}}}
	if !reflect.DeepEqual(v.CompoundBeacons, want) {
		t.Errorf(`config "5": compound beacons %+v`, v.CompoundBeacons)
	}
	if _, err := v.KeyStore.GetBeaconKey(t.Context(), v.KeySource.Single.BranchKeyID); err != nil {
		t.Errorf("the beacon key of static-branch-key-1: %v", err)
	}
	if _, err := f.Table("6"); err == nil {
		t.Error(`Table("6") of 0..5 succeeded`)
	}
}

// TestDBESDKSearchSections: the parts of a search section the vectors do
// not use yet (key sources, virtual fields and transforms, constructors)
// are read as the harness reads them, and unknown fields are refused.
func TestDBESDKSearchSections(t *testing.T) {
	dir := t.TempDir()
	keys, err := os.ReadFile(filepath.Join(testenv.DBESDKVectorsDir(t), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys.json"), keys, 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(cfg string) (*vectors.DBESDKTableConfigs, error) {
		path := filepath.Join(dir, "c.json")
		if err := os.WriteFile(path, []byte(`{"tableEncryptionConfigs": {"x": `+cfg+`}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return vectors.LoadDBESDKTableConfigs(path, "tableEncryptionConfigs")
	}
	f, err := write(`{"attributeActionsOnEncrypt": {"RecNum": "SIGN_ONLY", "tenant": "SIGN_ONLY", "a": "ENCRYPT_AND_SIGN", "b": "SIGN_ONLY"},
		"search": {"versions": [{"keySource": {"keyFieldName": "tenant", "cacheTTL": 7},
			"standardBeacons": [{"Name": "a", "Length": 8}, {"Name": "av", "Length": 9, "Loc": "vf", "numberOfPartitions": 2}],
			"maximumNumberOfPartitions": 3,
			"virtualFields": [{"name": "vf", "parts": [{"loc": "a", "trans": [{"upper": null}, {"prefix": {"length": 3}}, {"segments": {"split": ".", "low": 0, "high": -1}}]},
				{"loc": "b", "trans": [{"insert": {"literal": "_"}}, {"substring": {"low": 1, "high": 2}}, {"segment": {"split": "-", "index": 1}}, {"suffix": {"length": -1}}, {"lower": null}]}]}],
			"compoundBeacons": [{"Name": "c", "Split": "|", "Encrypted": [{"Name": "a", "Prefix": "A-"}], "Signed": [{"Name": "b", "Prefix": "B-", "Loc": "b"}],
				"Constructors": [[{"Name": "b"}, {"Name": "a", "Required": false}]]}]}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := f.Table("x")
	if err != nil {
		t.Fatal(err)
	}
	v := tbl.Search.Versions[0]
	if v.KeySource.Multi == nil || v.KeySource.Multi.KeyFieldName != "tenant" || v.KeySource.Multi.CacheTTL.Seconds() != 7 || v.MaximumNumberOfPartitions != 3 {
		t.Errorf("key source %+v, partitions %d", v.KeySource, v.MaximumNumberOfPartitions)
	}
	wantVF := []search.VirtualField{{Name: "vf", Parts: []search.VirtualPart{
		{Loc: "a", Transforms: []search.Transform{search.Upper(), search.Prefix(3), search.Segments(".", 0, -1)}},
		{Loc: "b", Transforms: []search.Transform{search.Insert("_"), search.Substring(1, 2), search.Segment("-", 1), search.Suffix(-1), search.Lower()}},
	}}}
	if !reflect.DeepEqual(v.VirtualFields, wantVF) {
		t.Errorf("virtual fields %+v", v.VirtualFields)
	}
	if ct := v.CompoundBeacons[0].Constructors; len(ct) != 1 || !reflect.DeepEqual(ct[0].Parts, []search.ConstructorPart{{Name: "b", Required: true}, {Name: "a", Required: false}}) {
		t.Errorf("constructors %+v", ct)
	}
	if v.StandardBeacons[1] != (search.StandardBeacon{Name: "av", Length: 9, Loc: "vf", NumberOfPartitions: 2}) {
		t.Errorf("standard beacon %+v", v.StandardBeacons[1])
	}
	pol, err := tbl.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := search.New(*tbl.Search, pol); err != nil {
		t.Errorf("search.New: %v", err)
	}
	for _, bad := range []string{
		`{"search": {"versions": [{"standardBeacons": [{"Name": "a", "Length": 8, "Style": "x"}]}]}}`,
		`{"searh": {}}`,
		`{"search": {"versions": [{"standardBeacons": [{"Name": "a", "Length": 8}], "virtualFields": [{"name": "v", "parts": [{"loc": "a", "trans": [{"upper": null, "lower": null}]}]}]}]}}`,
		`{"search": {"versions": [{"standardBeacons": [{"Name": "a", "Length": 8}], "virtualFields": [{"name": "v", "parts": [{"loc": "a", "trans": [{"prefix": {}}]}]}]}]}}`,
		`{"search": {"versions": [{"standardBeacons": [{"Name": "a", "Length": 8}], "keySource": {"keyId": "k", "keyFieldName": "t"}}]}}`,
		`{"search": {"versions": []}}`,
	} {
		f, err := write(bad)
		if err == nil {
			_, err = f.Table("x")
		}
		if err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestDBESDKQueryData(t *testing.T) {
	dir := testenv.DBESDKVectorsDir(t)
	d, err := vectors.LoadDBESDKQueryData(filepath.Join(dir, "data.json"), filepath.Join(dir, "records.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Records) != 3 || len(d.Queries) != 27 || len(d.Complex) != 1 || len(d.Complex[0].Queries) != 9 {
		t.Fatalf("%d records, %d queries, %d complex", len(d.Records), len(d.Queries), len(d.Complex))
	}
	if rn, ok := d.Records[2]["RecNum"].(*types.AttributeValueMemberN); !ok || rn.Value != "2" {
		t.Errorf("record 2 RecNum = %#v", d.Records[2]["RecNum"])
	}
	if q := d.Queries[0]; q.Key != "RecNum = :zero" || q.Filter != "" {
		t.Errorf("query 0 = %+v", q)
	}
	if q := d.Queries[15]; q.Filter != "Two = :two" || !q.FailsFor("4") || q.FailsFor("1") {
		t.Errorf("query 15 = %+v", q)
	}
	cq := d.Complex[0].Queries[2]
	if cq.Query.Filter != ":cmp1c <= Comp1" || !reflect.DeepEqual(cq.Pass, []int{1}) || !reflect.DeepEqual(cq.Fail, []int{0}) {
		t.Errorf("complex query 2 = %+v", cq)
	}
	names, values := d.Used(d.Queries[16])
	if names != nil || len(values) != 4 || values[":four"] == nil {
		t.Errorf("Used(query 16) = %v, %v", names, values)
	}
	if _, values := d.Used(d.Complex[0].Queries[3].Query); values != nil {
		t.Errorf("Used(cmp1c < Comp1) = %v", values)
	}
}
