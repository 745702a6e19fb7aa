package search

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// The known answers of this file are those of the DB-ESDK's Dafny tests
// (DynamoDbEncryption/dafny/DynamoDbEncryption/test/Beacon.dfy and
// BeaconTestFixtures.dfy, aws/aws-database-encryption-sdk-dynamodb), whose
// fixtures use the literal beacon key [1,2,3,4,5] and branch key id "foo".
// Our configuration mirrors their GetLotsaBeacons and FullTableConfig.

var testBeaconKey = []byte{1, 2, 3, 4, 5}

// Dafny constants (BeaconTestFixtures.dfy).
const (
	std2Beacon       = "ac6f5d"
	nameBeacon       = "7d9bfa40"
	titleBeacon      = "e4feb833"
	std4Beacon       = "0e9064"
	std6Beacon       = "2d99222"
	nameTitleBeacon  = "4c577d7"
	emptyNameBeacon  = "e0e88994"
	emptyTitleBeacon = "af34f26f"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func ss(v ...string) types.AttributeValue {
	return &types.AttributeValueMemberSS{Value: v}
}

// fullPolicy mirrors FullTableConfig: std2, std4, std6, Name, Title, TooBad
// encrypted; Year, Date, TheKeyField signed; JustSigned (a signed beacon)
// signed too, as the DB-ESDK configures it automatically.
func fullPolicy(extra map[string]actions.Action) *actions.Policy {
	o := map[string]actions.Action{
		"std2": actions.EncryptAndSign, "std4": actions.EncryptAndSign, "std6": actions.EncryptAndSign,
		"Name": actions.EncryptAndSign, "Title": actions.EncryptAndSign, "TooBad": actions.EncryptAndSign,
		"Year": actions.SignOnly, "Date": actions.SignOnly, "TheKeyField": actions.SignOnly,
		"JustSigned": actions.SignOnly,
	}
	for k, v := range extra {
		o[k] = v
	}
	return actions.Must(actions.Options{Default: actions.DoNothing, Overrides: o, PartitionKey: "foo"})
}

// lotsaBeacons mirrors GetLotsaBeacons.
func lotsaBeacons() BeaconVersion {
	name := EncryptedPart{Name: "Name", Prefix: "N_"}
	title := EncryptedPart{Name: "Title", Prefix: "T_"}
	year := SignedPart{Name: "Year", Prefix: "Y_"}
	month := SignedPart{Name: "Month", Prefix: "M_", Loc: "Date.Month"}
	return BeaconVersion{
		Version:   1,
		KeyStore:  &StaticKeys{},
		KeySource: KeySource{Single: &SingleKeySource{BranchKeyID: "foo", CacheTTL: time.Minute}},
		StandardBeacons: []StandardBeacon{
			{Name: "std2", Length: 24},
			{Name: "std4", Length: 24, Loc: "std4"},
			{Name: "std6", Length: 26, Loc: "std6[0]"},
			{Name: "NameTitleField", Length: 28},
			{Name: "Name", Length: 32},
			{Name: "Title", Length: 32},
		},
		CompoundBeacons: []CompoundBeacon{
			{Name: "NameTitle", Split: ".", Encrypted: []EncryptedPart{name, title}},
			{Name: "YearName", Split: ".", Encrypted: []EncryptedPart{name}, Signed: []SignedPart{year}},
			{Name: "Mixed", Split: ".", Encrypted: []EncryptedPart{name, title}, Signed: []SignedPart{year, month},
				Constructors: []Constructor{
					{Parts: []ConstructorPart{{Name: "Name", Required: true}, {Name: "Year", Required: true}}},
					{Parts: []ConstructorPart{{Name: "Title", Required: true}, {Name: "Month", Required: false}}},
				}},
			{Name: "JustSigned", Split: ".", Signed: []SignedPart{year, month}},
		},
		VirtualFields: []VirtualField{{Name: "NameTitleField", Parts: []VirtualPart{
			{Loc: "Name", Transforms: []Transform{Insert("__")}},
			{Loc: "Title", Transforms: []Transform{Lower()}},
		}}},
	}
}

// simpleItem is the Dafny SimpleItem.
func simpleItem() Item {
	return Item{
		"std2":  n("1.23"),
		"std4":  s("abc"),
		"std6":  &types.AttributeValueMemberL{Value: []types.AttributeValue{s("666")}},
		"Date":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"Month": s("May"), "Year": n("1984")}},
		"Year":  n("1984"),
		"Name":  s("MyName"),
		"Title": s("MyTitle"),
	}
}

// newLiteral builds a Search whose key cache holds the HMAC keys of the
// literal Dafny beacon key under id "foo" (the key store has none, so a
// cache miss fails).
func newLiteral(t testing.TB, v BeaconVersion, p *actions.Policy) *Search {
	t.Helper()
	sr, err := New(Config{Versions: []BeaconVersion{v}, WriteVersion: 1}, p)
	if err != nil {
		t.Fatal(err)
	}
	injectKey(sr, "foo", testBeaconKey)
	return sr
}

func injectKey(sr *Search, id string, key []byte) {
	sr.keys.entries[id] = cacheEntry{keys: deriveKeys(key, id, sr.keys.names), expires: time.Now().Add(time.Hour)}
}

// TestBasicHash: Beacon.dfy TestBeacon (key [1,2] used as the HMAC key
// itself, length 8, five partitions) and CheckBytesToHex.
func TestBasicHash(t *testing.T) {
	var key [64]byte
	key[0], key[1] = 1, 2 // HMAC pads short keys with zeros
	for _, tc := range []struct {
		data      []byte
		partition int
		want      string
	}{
		{[]byte{1, 2, 3}, 0, "7e"},
		{[]byte{1, 2, 3}, 1, "1d"},
		{[]byte{1, 2, 3}, 2, "ef"},
		{nil, 0, "80"},
	} {
		if got := basicHash(&key, tc.data, tc.partition, 8); got != tc.want {
			t.Errorf("basicHash(%x, partition %d) = %s, want %s", tc.data, tc.partition, got, tc.want)
		}
	}
	// The first eight bytes of the HMAC, as TestBeacon states them.
	m := hmac.New(sha512.New384, []byte{1, 2})
	m.Write([]byte{1, 2, 3})
	if got := hex.EncodeToString(m.Sum(nil)[:8]); got != "2793938b26e9527e" {
		t.Fatalf("HMAC prefix %s", got)
	}
	// CheckBytesToHex: the rightmost bits of 01 02 03 04 05 06 07 b7.
	v := uint64(0x01020304050607b7)
	for length, want := range map[int]string{1: "1", 2: "3", 3: "7", 4: "7", 5: "17", 6: "37", 7: "37", 8: "b7", 12: "7b7", 63: "01020304050607b7"} {
		if got := formatBits(v, length); got != want {
			t.Errorf("length %d: %s, want %s", length, got, want)
		}
	}
}

// TestBeaconValuesKAT: Beacon.dfy TestOneBeaconValue and TestBeaconValues.
func TestBeaconValuesKAT(t *testing.T) {
	sr := newLiteral(t, lotsaBeacons(), fullPolicy(nil))
	keys := sr.keys.entries["foo"].keys
	for _, tc := range []struct {
		beacon, value, want string
	}{
		{"std2", "1.23", std2Beacon}, {"Name", "MyName", nameBeacon}, {"Title", "MyTitle", titleBeacon},
		{"std4", "abc", std4Beacon}, {"std6", "666", std6Beacon}, {"NameTitleField", "MyName__mytitle", nameTitleBeacon},
		{"Name", "", emptyNameBeacon}, {"Title", "", emptyTitleBeacon},
	} {
		if got := sr.std[tc.beacon].hashBytes(keys, []byte(tc.value), 0); got != tc.want {
			t.Errorf("%s(%q) = %s, want %s", tc.beacon, tc.value, got, tc.want)
		}
	}

	signed, err := sr.AddSignedBeacons(simpleItem())
	if err != nil {
		t.Fatal(err)
	}
	if got := signed["JustSigned"]; !avEqual(got, s("Y_1984.M_May")) {
		t.Errorf("JustSigned = %v", got)
	}
	got, err := sr.EncryptedBeacons(context.Background(), simpleItem(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Item{
		"aws_dbe_b_Mixed":          s("N_" + nameBeacon + ".Y_1984"),
		"aws_dbe_b_Name":           s(nameBeacon),
		"aws_dbe_b_NameTitle":      s("N_" + nameBeacon + ".T_" + titleBeacon),
		"aws_dbe_b_NameTitleField": s(nameTitleBeacon),
		"aws_dbe_b_std2":           s(std2Beacon),
		"aws_dbe_b_Title":          s(titleBeacon),
		"aws_dbe_b_std6":           s(std6Beacon),
		"aws_dbe_b_std4":           s(std4Beacon),
		"aws_dbe_b_YearName":       s("Y_1984.N_" + nameBeacon),
		VersionTag:                 s(" "),
	}
	if d := diffItems(want, got); d != "" {
		t.Errorf("EncryptedBeacons:\n%s", d)
	}

	// TestNumbersNormalize: a number is hashed in its normalized form.
	it := simpleItem()
	it["std2"] = n("000001.23000000")
	got2, err := sr.EncryptedBeacons(context.Background(), it, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !avEqual(got2["aws_dbe_b_std2"], s(std2Beacon)) {
		t.Errorf("normalized number: %v", got2["aws_dbe_b_std2"])
	}
}

// TestStylesKAT: Beacon.dfy TestPartOnlyNotStored, TestShareSameBeacon,
// TestSetNotSet and TestSharedSet.
func TestStylesKAT(t *testing.T) {
	pol := fullPolicy(map[string]actions.Action{"partOnly": actions.EncryptAndSign})
	withBeacon := func(b StandardBeacon, cbs ...CompoundBeacon) BeaconVersion {
		v := lotsaBeacons()
		v.StandardBeacons = append(v.StandardBeacons, b)
		v.CompoundBeacons = append(v.CompoundBeacons, cbs...)
		return v
	}
	compoundPart := CompoundBeacon{Name: "compoundPart", Split: ".", Encrypted: []EncryptedPart{{Name: "partOnly", Prefix: "S_"}}}
	for _, tc := range []struct {
		name string
		v    BeaconVersion
		item Item
		want Item
	}{
		{"plain", withBeacon(StandardBeacon{Name: "partOnly", Length: 23}, compoundPart),
			Item{"std2": s("abc"), "partOnly": s("def")},
			Item{"aws_dbe_b_std2": s("51e1da"), "aws_dbe_b_partOnly": s("405a51"), "aws_dbe_b_compoundPart": s("S_405a51")}},
		{"PartOnly", withBeacon(StandardBeacon{Name: "partOnly", Length: 23, Style: PartOnly()}, compoundPart),
			Item{"std2": s("abc"), "partOnly": s("def")},
			Item{"aws_dbe_b_std2": s("51e1da"), "aws_dbe_b_compoundPart": s("S_405a51")}},
		{"unshared", withBeacon(StandardBeacon{Name: "partOnly", Length: 24}),
			Item{"std2": s("abc"), "partOnly": s("abc")},
			Item{"aws_dbe_b_std2": s("51e1da"), "aws_dbe_b_partOnly": s("928d9b")}},
		{"Shared", withBeacon(StandardBeacon{Name: "partOnly", Length: 24, Style: Shared("std2")}),
			Item{"std2": s("abc"), "partOnly": s("abc")},
			Item{"aws_dbe_b_std2": s("51e1da"), "aws_dbe_b_partOnly": s("51e1da")}},
		{"AsSet", withBeacon(StandardBeacon{Name: "partOnly", Length: 24, Style: AsSet()}),
			Item{"std2": s("abc"), "partOnly": ss("abc", "def", "ghi")},
			Item{"aws_dbe_b_std2": s("51e1da"), "aws_dbe_b_partOnly": ss("928d9b", "405a51", "9c6c2e")}},
		{"SharedSet", withBeacon(StandardBeacon{Name: "partOnly", Length: 24, Style: SharedSet("std2")}),
			Item{"std2": s("abc"), "partOnly": ss("abc", "def", "ghi")},
			Item{"aws_dbe_b_std2": s("51e1da"), "aws_dbe_b_partOnly": ss("51e1da", "39ef85", "3ff06a")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr := newLiteral(t, tc.v, pol)
			got, err := sr.EncryptedBeacons(context.Background(), tc.item, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.want[VersionTag] = s(" ")
			if d := diffItems(tc.want, got); d != "" {
				t.Errorf("\n%s", d)
			}
		})
	}
	// TestSetNotSet: an AsSet beacon's attribute must be a set.
	sr := newLiteral(t, withBeacon(StandardBeacon{Name: "partOnly", Length: 24, Style: AsSet()}), pol)
	_, err := sr.EncryptedBeacons(context.Background(), Item{"partOnly": s("abc")}, nil)
	var ie *ItemError
	if !asErr(err, &ie) || ie.Beacon != "partOnly" {
		t.Fatalf("AsSet of a string: %v", err)
	}
}

// TestPartitionsKAT: Beacon.dfy TestBeacon's partitions, through a
// beacon: the partition byte is appended unless the constrained partition
// is 0.
func TestPartitionsKAT(t *testing.T) {
	v := lotsaBeacons()
	v.MaximumNumberOfPartitions = 7
	v.StandardBeacons[0].NumberOfPartitions = 5 // std2
	v.PartitionSelector = PartitionSelectorFunc(func(Item, int, string) (int, error) { return 6, nil })
	sr := newLiteral(t, v, fullPolicy(nil))
	keys := sr.keys.entries["foo"].keys
	got, err := sr.EncryptedBeacons(context.Background(), Item{"std2": n("1.23"), "std4": s("abc")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// std2 has 5 partitions: partition 6 is encoded as 1; std4 has the
	// default, 7: encoded as 6.
	if want := basicHash(keys.keys["std2"], []byte("1.23"), 1, 24); !avEqual(got["aws_dbe_b_std2"], s(want)) || want == std2Beacon {
		t.Errorf("std2 in partition 6: %v, want %s", got["aws_dbe_b_std2"], want)
	}
	if want := basicHash(keys.keys["std4"], []byte("abc"), 6, 24); !avEqual(got["aws_dbe_b_std4"], s(want)) {
		t.Errorf("std4 in partition 6: %v, want %s", got["aws_dbe_b_std4"], want)
	}
}
