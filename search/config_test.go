package search

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// TestConfigValidation: each rule of search-config.md and beacons.md
// refuses with a *ConfigError naming what is wrong.
func TestConfigValidation(t *testing.T) {
	pol := fullPolicy(map[string]actions.Action{"plain": actions.SignOnly, "free": actions.DoNothing})
	for _, tc := range []struct {
		name  string
		edit  func(*BeaconVersion)
		names string // the ConfigError's Name or Attribute
	}{
		{"no standard beacon", func(v *BeaconVersion) { v.StandardBeacons = nil }, ""},
		{"length 0", func(v *BeaconVersion) { v.StandardBeacons[0].Length = 0 }, "std2"},
		{"length 64", func(v *BeaconVersion) { v.StandardBeacons[0].Length = 64 }, "std2"},
		{"beacon on a signed attribute", func(v *BeaconVersion) {
			v.StandardBeacons = append(v.StandardBeacons, StandardBeacon{Name: "Year", Length: 8})
		}, "Year"},
		{"beacon on a DoNothing attribute", func(v *BeaconVersion) {
			v.StandardBeacons = append(v.StandardBeacons, StandardBeacon{Name: "b", Loc: "free", Length: 8})
		}, "free"},
		{"duplicate beacon", func(v *BeaconVersion) {
			v.StandardBeacons = append(v.StandardBeacons, StandardBeacon{Name: "std2", Length: 8})
		}, "std2"},
		{"same location", func(v *BeaconVersion) {
			v.StandardBeacons = append(v.StandardBeacons, StandardBeacon{Name: "b", Loc: "std2", Length: 8})
		}, "b"},
		{"reserved name", func(v *BeaconVersion) {
			v.StandardBeacons = append(v.StandardBeacons, StandardBeacon{Name: "aws_dbe_x", Loc: "TooBad", Length: 8})
		}, "aws_dbe_x"},
		{"bad location", func(v *BeaconVersion) { v.StandardBeacons[0].Loc = "a..b" }, "std2"},
		{"shared with nothing", func(v *BeaconVersion) { v.StandardBeacons[1].Style = Shared("nope") }, "std4"},
		{"shared with itself", func(v *BeaconVersion) { v.StandardBeacons[1].Style = Shared("std4") }, ""},
		{"shared length differs", func(v *BeaconVersion) { v.StandardBeacons[2].Style = Shared("std2") }, "std6"},
		{"unused PartOnly", func(v *BeaconVersion) { v.StandardBeacons[1].Style = PartOnly() }, "std4"},
		{"AsSet part", func(v *BeaconVersion) { v.StandardBeacons[4].Style = AsSet() }, "NameTitle"},
		{"prefix of a prefix", func(v *BeaconVersion) { v.CompoundBeacons[0].Encrypted[1].Prefix = "N_x" }, "NameTitle"},
		{"empty prefix", func(v *BeaconVersion) { v.CompoundBeacons[0].Encrypted[1].Prefix = "" }, "NameTitle"},
		{"signed part on an encrypted attribute", func(v *BeaconVersion) {
			v.CompoundBeacons[1].Signed = []SignedPart{{Name: "Name2", Loc: "Title", Prefix: "Q_"}}
		}, "Title"},
		{"split of two characters", func(v *BeaconVersion) { v.CompoundBeacons[0].Split = ".." }, "NameTitle"},
		{"constructor names no part", func(v *BeaconVersion) {
			v.CompoundBeacons[2].Constructors[0].Parts[0].Name = "Nope"
		}, "Mixed"},
		{"constructor without a required part", func(v *BeaconVersion) {
			v.CompoundBeacons[2].Constructors[1].Parts[0].Required = false
		}, "Mixed"},
		{"constructors with the same required parts", func(v *BeaconVersion) {
			v.CompoundBeacons[2].Constructors[1] = v.CompoundBeacons[2].Constructors[0]
		}, "Mixed"},
		{"compound named as a standard beacon", func(v *BeaconVersion) { v.CompoundBeacons[0].Name = "std2" }, "std2"},
		{"compound named as a signed attribute", func(v *BeaconVersion) { v.CompoundBeacons[0].Name = "plain" }, "plain"},
		{"signed beacon not SignOnly", func(v *BeaconVersion) { v.CompoundBeacons[3].Name = "JustSigned2" }, "JustSigned2"},
		{"virtual field named as an attribute", func(v *BeaconVersion) { v.VirtualFields[0].Name = "Year" }, "Year"},
		{"virtual field on a DoNothing attribute", func(v *BeaconVersion) {
			v.VirtualFields = append(v.VirtualFields, VirtualField{Name: "vf2", Parts: []VirtualPart{{Loc: "free"}}})
		}, "free"},
		{"virtual fields with the same locations", func(v *BeaconVersion) {
			v.VirtualFields = append(v.VirtualFields, VirtualField{Name: "vf2", Parts: []VirtualPart{{Loc: "Title"}, {Loc: "Name"}}})
		}, "vf2"},
		{"virtual field of one beacon's location", func(v *BeaconVersion) {
			v.VirtualFields = append(v.VirtualFields, VirtualField{Name: "vf2", Parts: []VirtualPart{{Loc: "std4", Transforms: []Transform{Upper()}}}})
		}, "std4"},
		{"default partitions without a maximum", func(v *BeaconVersion) { v.DefaultNumberOfPartitions = 2 }, ""},
		{"beacon partitions not under the maximum", func(v *BeaconVersion) {
			v.MaximumNumberOfPartitions = 3
			v.StandardBeacons[0].NumberOfPartitions = 3
		}, "std2"},
		{"256 partitions", func(v *BeaconVersion) { v.MaximumNumberOfPartitions = 256 }, ""},
		{"no key source", func(v *BeaconVersion) { v.KeySource = KeySource{} }, ""},
		{"no cache TTL", func(v *BeaconVersion) { v.KeySource.Single.CacheTTL = 0 }, ""},
		{"multi key field encrypted", func(v *BeaconVersion) {
			v.KeySource = KeySource{Multi: &MultiKeySource{KeyFieldName: "TooBad", CacheTTL: time.Minute}}
		}, "TooBad"},
		{"multi key field is a beacon", func(v *BeaconVersion) {
			v.KeySource = KeySource{Multi: &MultiKeySource{KeyFieldName: "Mixed", CacheTTL: time.Minute}}
		}, "Mixed"},
		{"version 2", func(v *BeaconVersion) { v.Version = 2 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := lotsaBeacons()
			tc.edit(&v)
			_, err := New(Config{Versions: []BeaconVersion{v}, WriteVersion: 1}, pol)
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New: %v, want a *ConfigError", err)
			}
			if tc.names != "" && ce.Name != tc.names && ce.Attribute != tc.names && !strings.Contains(ce.Reason, tc.names) {
				t.Errorf("%v does not name %q", err, tc.names)
			}
		})
	}
	if _, err := New(Config{Versions: []BeaconVersion{lotsaBeacons()}, WriteVersion: 1}, pol); err != nil {
		t.Fatalf("the Dafny fixture is valid: %v", err)
	}
	if _, err := New(Config{Versions: []BeaconVersion{lotsaBeacons(), lotsaBeacons()}, WriteVersion: 1}, pol); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("two versions: %v", err)
	}
	if got := (Config{Versions: []BeaconVersion{lotsaBeacons()}, WriteVersion: 1}).SignedBeacons(); len(got) != 1 || got[0] != "JustSigned" {
		t.Errorf("SignedBeacons = %v", got)
	}
}
