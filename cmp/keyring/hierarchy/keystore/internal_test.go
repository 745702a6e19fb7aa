package keystore

import (
	"errors"
	"maps"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMRKMatch(t *testing.T) {
	const (
		mrkWest = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd"
		mrkEast = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd"
		srWest  = "arn:aws:kms:us-west-2:111122223333:key/1234abcd"
		srEast  = "arn:aws:kms:us-east-1:111122223333:key/1234abcd"
	)
	for _, tc := range []struct {
		x, y string
		want bool
	}{
		{mrkWest, mrkWest, true},
		{mrkWest, mrkEast, true},
		{srWest, srWest, true},
		{srWest, srEast, false},
		{mrkWest, "arn:aws:kms:us-east-1:444455556666:key/mrk-1234abcd", false},
		{mrkWest, "arn:aws-cn:kms:us-east-1:111122223333:key/mrk-1234abcd", false},
		{mrkWest, "arn:aws:kms:us-east-1:111122223333:key/mrk-9999", false},
		{mrkWest, "arn:aws:kms:us-east-1:111122223333:alias/mrk-1234abcd", false},
		{mrkWest, "mrk-1234abcd", false},
	} {
		if got := mrkMatch(tc.x, tc.y); got != tc.want {
			t.Errorf("mrkMatch(%s, %s) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}

	cfg := MRKeyARN(mrkWest)
	if !cfg.accepts(mrkEast) || cfg.accepts(srWest) || cfg.decryptKeyID(mrkEast) != mrkWest {
		t.Error("MRKeyARN: accepts the key in any Region, calls KMS with the configured ARN")
	}
	if KeyARN(mrkWest).accepts(mrkEast) {
		t.Error("KeyARN accepts another Region")
	}
	d := MRDiscovery("eu-west-1")
	if got := d.decryptKeyID(mrkEast); got != "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd" {
		t.Errorf("MRDiscovery KeyId %s", got)
	}
	if got := d.decryptKeyID(srEast); got != srEast {
		t.Errorf("MRDiscovery changed a single-Region key: %s", got)
	}
	if Discovery().decryptKeyID(mrkEast) != mrkEast || Discovery().accepts("arn:aws:kms:us-east-1:111122223333:alias/a") {
		t.Error("Discovery: the item's key ARN, never an alias")
	}
}

// TestItemRoundTrip: toItem and itemContext are inverse (the MPL's
// ToAttributeMapAndToBranchKeyContextAreInverse).
func TestItemRoundTrip(t *testing.T) {
	do := decryptOnlyContext("id", "v1", "2026-01-01T00:00:00.000000Z", "logical", "arn:aws:kms:us-west-2:1:key/k", map[string]string{"a": "b", "": "empty"})
	for name, ec := range map[string]map[string]string{"version": do, "active": activeContext(do), "beacon": beaconContext(do)} {
		got, enc, err := itemContext(toItem(ec, []byte{1, 2}), "logical")
		if err != nil || !reflect.DeepEqual(got, ec) || string(enc) != "\x01\x02" {
			t.Errorf("%s: %v %v", name, got, err)
		}
	}
	nv := newVersionContext(activeContext(do), "v2", "later")
	want := maps.Clone(do)
	want[AttrType], want[AttrCreateTime] = TypeVersionPrefix+"v2", "later"
	if !reflect.DeepEqual(nv, want) {
		t.Errorf("newVersionContext = %v, want %v", nv, want)
	}
	if branchKeyVersion(activeContext(do)) != "v1" || branchKeyVersion(do) != "v1" {
		t.Error("branchKeyVersion")
	}
	if c := customContext(do); !reflect.DeepEqual(c, map[string]string{"a": "b", "": "empty"}) {
		t.Errorf("customContext = %v", c)
	}
}

func FuzzItemContext(f *testing.F) {
	do := decryptOnlyContext("id", "v1", "t", "logical", "arn:aws:kms:us-west-2:1:key/k", map[string]string{"a": "b"})
	for _, ec := range []map[string]string{do, activeContext(do), beaconContext(do)} {
		item := toItem(ec, []byte{1})
		f.Add(item[AttrType].(*types.AttributeValueMemberS).Value, ec[AttrVersion], "1", true, []byte{1})
	}
	f.Fuzz(func(t *testing.T, typ, version, hv string, hasVersion bool, enc []byte) {
		item := toItem(do, enc)
		item[AttrType] = &types.AttributeValueMemberS{Value: typ}
		item[AttrHierarchyVersion] = &types.AttributeValueMemberN{Value: hv}
		if hasVersion {
			item[AttrVersion] = &types.AttributeValueMemberS{Value: version}
		}
		ec, gotEnc, err := itemContext(item, "logical")
		if err != nil {
			if !errors.Is(err, ErrInvalidItem) {
				t.Fatalf("error %v is not ErrInvalidItem", err)
			}
			return
		}
		// Accepted items map back to themselves.
		if back := toItem(ec, gotEnc); !reflect.DeepEqual(back, item) {
			t.Fatalf("toItem(itemContext(item)) != item")
		}
		if ec[AttrType] == TypeActive != hasVersion {
			t.Fatal("version attribute accepted on a non-active item or missing on the active one")
		}
	})
}
