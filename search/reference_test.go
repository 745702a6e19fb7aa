package search

import (
	"context"
	"encoding/hex"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/refkat"
)

// TestReferenceNonASCIIBeacons computes the beacons of the cases the
// DB-ESDK's Go edition (the reference) wrote under a fixed beacon key in
// ../itemcrypto/testdata/reference/nonascii.json (see
// itemcrypto/reference_test.go for how to regenerate it) and compares them.
// What the reference does, as the cases pin it:
//
//   - Standard beacons: the HMAC-SHA384 input is the value's UTF-8 bytes
//     (é, 日本語, U+10000, U+10FFFF), at lengths 1, 8, 32, 63 and as a set.
//   - Virtual transforms count positions in UTF-16 code units: Prefix(3) of
//     "a😀b" is "a😀", Prefix(2) and Suffix(2) and Substring(2,4) fall
//     inside the pair. A transform whose result holds a lone surrogate
//     makes the reference refuse the item (its UTF-8 encoding fails; the
//     translated code panics), as does a split character outside the BMP
//     (two units). GetPos clamps a non-negative end to length-1, so
//     Substring(1,10) of "abcd" is "bc" and Substring(-3,10) of
//     "é日本語\U00010000" ends inside the pair (refused). Upper and Lower
//     change ASCII letters only (É, À, ß, U+10400 and U+10428 stay).
//     Segment splits on a BMP character beyond ASCII (é, U+FFFF).
//   - Compound beacons: the parts in configuration order, each its prefix
//     (beyond ASCII allowed: É-, 日-, S😀-, U+10000:) then its value (an
//     encrypted part's beacon, a signed part's plaintext), joined by the
//     split character, which may be any one BMP character (., é, U+FFFF);
//     a split outside the BMP (two units) is taken by the reference's
//     configuration and refused at write time (ours refuses the
//     configuration; so for a virtual Segment split), and a part whose
//     value holds the split character makes the write fail. A signed-only
//     compound beacon is stored under its own name.
//
// Where the reference refuses an item, ours must refuse it too.
func TestReferenceNonASCIIBeacons(t *testing.T) {
	f, err := refkat.Load("../itemcrypto/testdata/reference/nonascii.json")
	if err != nil {
		t.Fatal(err)
	}
	key, err := hex.DecodeString(f.Beacons.BeaconKey)
	if err != nil {
		t.Fatal(err)
	}
	bk, err := hierarchy.NewBranchKey("kat", "00000000-0000-4000-8000-000000000000", make([]byte, 32), key)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := NewStaticKeys(bk)
	if err != nil {
		t.Fatal(err)
	}
	overrides := map[string]actions.Action{}
	for n, a := range f.Beacons.Actions {
		if overrides[n], err = actions.Parse(a); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	var compared, refused int
	for _, c := range f.Beacons.Cases {
		t.Run(c.Name, func(t *testing.T) {
			v := referenceBeaconVersion(t, c.Config)
			// Ours wants a signed beacon's name in the policy (the
			// reference configures it itself).
			o := maps.Clone(overrides)
			for _, cb := range c.Config.Compound {
				if len(cb.Encrypted) == 0 {
					o[cb.Name] = actions.SignOnly
				}
			}
			policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, Overrides: o, PartitionKey: "pk"})
			v.KeyStore = keys
			v.KeySource = KeySource{Single: &SingleKeySource{BranchKeyID: "kat", CacheTTL: time.Minute}}
			s, err := New(Config{WriteVersion: 1, Versions: []BeaconVersion{v}}, policy)
			if c.ConfigRefused != "" {
				if err == nil {
					t.Errorf("ours accepts a configuration the reference refuses (%s)", c.ConfigRefused)
				}
				return
			}
			if err != nil && c.Refused != "" {
				// A split character outside the BMP: the reference takes
				// the configuration and fails every write that uses it;
				// ours refuses the configuration.
				refused++
				t.Logf("ours refuses the configuration (%v); the reference the item (%s)", err, c.Refused)
				return
			}
			if err != nil {
				t.Fatalf("ours refuses a configuration the reference accepts: %v", err)
			}
			item, err := ddbjson.UnmarshalItem(c.Item)
			if err != nil {
				t.Fatal(err)
			}
			signed, errS := s.AddSignedBeacons(item)
			var got Item
			if errS == nil {
				got, errS = s.EncryptedBeacons(ctx, item, Item{})
			}
			if c.Refused != "" {
				refused++
				if errS == nil {
					t.Errorf("ours writes beacons %s where the reference refuses (%s)", mustItemJSON(t, got), c.Refused)
				}
				return
			}
			if errS != nil {
				t.Fatalf("ours refuses an item the reference writes: %v", errS)
			}
			want, err := ddbjson.UnmarshalItem(c.Beacons)
			if err != nil {
				t.Fatal(err)
			}
			delete(got, VersionTag)
			for _, cb := range c.Config.Compound {
				if v, ok := signed[cb.Name]; ok && len(cb.Encrypted) == 0 {
					got[cb.Name] = v
				}
			}
			for n := range got {
				if !strings.HasPrefix(n, BeaconPrefix) && want[n] == nil {
					delete(got, n)
				}
			}
			if !ddbjson.EqualItems(want, got, func(s string) (string, error) { return s, nil }) {
				t.Errorf("beacons of %s:\n ours      %s\n reference %s", c.Item, mustItemJSON(t, got), c.Beacons)
			}
			compared++
		})
	}
	t.Logf("%d cases compared, %d refused by both", compared, refused)
	if compared < 20 || refused < 5 {
		t.Errorf("only %d cases compared and %d refused", compared, refused)
	}
}

func mustItemJSON(t *testing.T, it Item) string {
	j, err := ddbjson.MarshalItem(it)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

func referenceBeaconVersion(t *testing.T, c refkat.BeaconConfig) BeaconVersion {
	v := BeaconVersion{Version: 1}
	for _, sb := range c.Standard {
		b := StandardBeacon{Name: sb.Name, Loc: sb.Loc, Length: sb.Length}
		switch sb.Style {
		case "":
		case "partOnly":
			b.Style = PartOnly()
		case "asSet":
			b.Style = AsSet()
		default:
			t.Fatalf("unknown style %q", sb.Style)
		}
		v.StandardBeacons = append(v.StandardBeacons, b)
	}
	for _, vf := range c.Virtual {
		f := VirtualField{Name: vf.Name}
		for _, p := range vf.Parts {
			vp := VirtualPart{Loc: p.Loc}
			for _, x := range p.Transforms {
				var tr Transform
				switch x.Op {
				case "upper":
					tr = Upper()
				case "lower":
					tr = Lower()
				case "insert":
					tr = Insert(x.Literal)
				case "prefix":
					tr = Prefix(x.Length)
				case "suffix":
					tr = Suffix(x.Length)
				case "substring":
					tr = Substring(x.Low, x.High)
				case "segment":
					tr = Segment(x.Split, x.Index)
				case "segments":
					tr = Segments(x.Split, x.Low, x.High)
				default:
					t.Fatalf("unknown transform %q", x.Op)
				}
				vp.Transforms = append(vp.Transforms, tr)
			}
			f.Parts = append(f.Parts, vp)
		}
		v.VirtualFields = append(v.VirtualFields, f)
	}
	for _, cb := range c.Compound {
		sc := CompoundBeacon{Name: cb.Name, Split: cb.Split}
		for _, p := range cb.Encrypted {
			sc.Encrypted = append(sc.Encrypted, EncryptedPart{Name: p.Name, Prefix: p.Prefix})
		}
		for _, p := range cb.Signed {
			sc.Signed = append(sc.Signed, SignedPart{Name: p.Name, Prefix: p.Prefix})
		}
		v.CompoundBeacons = append(v.CompoundBeacons, sc)
	}
	return v
}
