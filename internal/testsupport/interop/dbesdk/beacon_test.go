package dbesdk

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	rt "github.com/aws/aws-database-encryption-sdk-dynamodb/releases/go/dynamodb-esdk/awscryptographydbencryptionsdkdynamodbsmithygeneratedtypes"
	refxf "github.com/aws/aws-database-encryption-sdk-dynamodb/releases/go/dynamodb-esdk/awscryptographydbencryptionsdkdynamodbtransformssmithygenerated"
	refxftypes "github.com/aws/aws-database-encryption-sdk-dynamodb/releases/go/dynamodb-esdk/awscryptographydbencryptionsdkdynamodbtransformssmithygeneratedtypes"
	refstypes "github.com/aws/aws-database-encryption-sdk-dynamodb/releases/go/dynamodb-esdk/awscryptographydbencryptionsdkstructuredencryptionsmithygeneratedtypes"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// beaconCase is a random search configuration over a fixed table shape:
// encrypted strings e0-e3, an encrypted string set es, signed strings s0-s1.
type beaconCase struct {
	std      []search.StandardBeacon
	virt     []search.VirtualField
	compound []search.CompoundBeacon
}

func (b *beaconCase) String() string {
	return fmt.Sprintf("standard %+v\nvirtual %+v\ncompound %+v", b.std, b.virt, b.compound)
}

var beaconActions = map[string]actions.Action{
	"pk": actions.SignOnly, "e0": actions.EncryptAndSign, "e1": actions.EncryptAndSign, "e2": actions.EncryptAndSign,
	"e3": actions.EncryptAndSign, "e4": actions.EncryptAndSign, "es": actions.EncryptAndSign, "es2": actions.EncryptAndSign, "s0": actions.SignOnly, "s1": actions.SignOnly,
}

func (g *gen) transform() search.Transform {
	small := func() int { return g.n(9) - 4 }
	split := string(".-/é"[g.n(3)])
	switch g.n(8) {
	case 0:
		return search.Upper()
	case 1:
		return search.Lower()
	case 2:
		lits := []string{"", "-", "X"}
		if *flagKnown {
			// Known divergence (TestVirtualTransformsOneByOne): Insert("é")
			// then Upper gives different beacons.
			lits = append(lits, "é")
		}
		return search.Insert(lits[g.n(len(lits))])
	case 3:
		return search.Prefix(small())
	case 4:
		return search.Suffix(small())
	case 5:
		return search.Substring(small(), small())
	case 6:
		return search.Segment(split, small())
	default:
		return search.Segments(split, small(), small())
	}
}

func (g *gen) beaconCase() *beaconCase {
	bc := &beaconCase{}
	length := func() int { return 1 + g.n(63) }
	for _, e := range []string{"e0", "e1", "e2"} {
		bc.std = append(bc.std, search.StandardBeacon{Name: "b_" + e, Loc: e, Length: length()})
	}
	bc.std = append(bc.std,
		search.StandardBeacon{Name: "po", Loc: "e3", Length: length(), Style: search.PartOnly()},
		search.StandardBeacon{Name: "set", Loc: "es", Length: length(), Style: search.AsSet()},
		search.StandardBeacon{Name: "sh", Loc: "e4", Length: bc.std[0].Length, Style: search.Shared("b_e0")},
		search.StandardBeacon{Name: "shset", Loc: "es2", Length: bc.std[0].Length, Style: search.SharedSet("b_e0")},
	)
	// A virtual field over an encrypted and a signed attribute, transformed.
	var parts []search.VirtualPart
	locs := []string{"e2", "s0"}
	if g.chance(0.5) {
		locs = []string{"s0", "e2"}
	}
	for _, loc := range locs {
		p := search.VirtualPart{Loc: loc}
		for range g.n(4) {
			p.Transforms = append(p.Transforms, g.transform())
		}
		parts = append(parts, p)
	}
	bc.virt = []search.VirtualField{{Name: "v", Parts: parts}}
	bc.std = append(bc.std, search.StandardBeacon{Name: "bv", Loc: "v", Length: length()})
	// A compound beacon: encrypted parts b_e0 and po, a signed part s1.
	c := search.CompoundBeacon{Name: "c", Split: string("._~"[g.n(3)]),
		Encrypted: []search.EncryptedPart{{Name: "b_e0", Prefix: "A-"}, {Name: "po", Prefix: "B-"}},
		Signed:    []search.SignedPart{{Name: "s1", Prefix: "S-"}}}
	if g.chance(0.7) {
		for range 1 + g.n(3) {
			var con search.Constructor
			for _, n := range []string{"s1", "b_e0", "po"} {
				if g.chance(0.7) {
					con.Parts = append(con.Parts, search.ConstructorPart{Name: n, Required: g.chance(0.5)})
				}
			}
			if len(con.Parts) == 0 {
				con.Parts = []search.ConstructorPart{{Name: "b_e0", Required: true}}
			}
			con.Parts[0].Required = true
			c.Constructors = append(c.Constructors, con)
		}
	}
	bc.compound = []search.CompoundBeacon{c}
	return bc
}

// beaconValue is a string that exercises the transforms: split characters,
// mixed case, non-ASCII.
func (g *gen) beaconValue() string {
	var b strings.Builder
	for range g.n(14) {
		switch g.n(6) {
		case 0:
			b.WriteByte(".-/"[g.n(3)])
		case 1:
			b.WriteRune(g.rune())
		default:
			b.WriteByte("aBcDeFxYz019"[g.n(12)])
		}
	}
	return b.String()
}

func (g *gen) beaconItem() Item {
	it := Item{"pk": &types.AttributeValueMemberS{Value: "p"}}
	for _, n := range []string{"e0", "e1", "e2", "e3", "e4", "s0", "s1"} {
		if g.chance(0.85) {
			it[n] = &types.AttributeValueMemberS{Value: g.beaconValue()}
		}
	}
	for _, set := range []string{"es", "es2"} {
		if !g.chance(0.7) {
			continue
		}
		seen := map[string]bool{}
		var ss []string
		for range 1 + g.n(4) {
			if s := g.beaconValue(); s != "" && !seen[s] {
				seen[s] = true
				ss = append(ss, s)
			}
		}
		if len(ss) > 0 {
			it[set] = &types.AttributeValueMemberSS{Value: ss}
		}
	}
	return it
}

func refBeaconConfig(bc *beaconCase, b *branchKeyStore) rt.SearchConfig {
	var std []rt.StandardBeacon
	for _, s := range bc.std {
		r := rt.StandardBeacon{Name: s.Name, Length: int32(s.Length)}
		if s.Loc != "" {
			loc := s.Loc
			r.Loc = &loc
		}
		switch s.Style.Kind {
		case search.StylePartOnly:
			r.Style = &rt.BeaconStyleMemberpartOnly{Value: rt.PartOnly{}}
		case search.StyleAsSet:
			r.Style = &rt.BeaconStyleMemberasSet{Value: rt.AsSet{}}
		case search.StyleShared:
			r.Style = &rt.BeaconStyleMembershared{Value: rt.Shared{Other: s.Style.Other}}
		case search.StyleSharedSet:
			r.Style = &rt.BeaconStyleMembersharedSet{Value: rt.SharedSet{Other: s.Style.Other}}
		}
		std = append(std, r)
	}
	var virt []rt.VirtualField
	for _, v := range bc.virt {
		rv := rt.VirtualField{Name: v.Name}
		for _, p := range v.Parts {
			rp := rt.VirtualPart{Loc: p.Loc}
			for _, t := range p.Transforms {
				var x rt.VirtualTransform
				switch t.Kind {
				case search.TransformUpper:
					x = &rt.VirtualTransformMemberupper{Value: rt.Upper{}}
				case search.TransformLower:
					x = &rt.VirtualTransformMemberlower{Value: rt.Lower{}}
				case search.TransformInsert:
					x = &rt.VirtualTransformMemberinsert{Value: rt.Insert{Literal: t.Literal}}
				case search.TransformPrefix:
					x = &rt.VirtualTransformMemberprefix{Value: rt.GetPrefix{Length: int32(t.Length)}}
				case search.TransformSuffix:
					x = &rt.VirtualTransformMembersuffix{Value: rt.GetSuffix{Length: int32(t.Length)}}
				case search.TransformSubstring:
					x = &rt.VirtualTransformMembersubstring{Value: rt.GetSubstring{Low: int32(t.Low), High: int32(t.High)}}
				case search.TransformSegment:
					x = &rt.VirtualTransformMembersegment{Value: rt.GetSegment{Split: t.Split, Index: int32(t.Index)}}
				case search.TransformSegments:
					x = &rt.VirtualTransformMembersegments{Value: rt.GetSegments{Split: t.Split, Low: int32(t.Low), High: int32(t.High)}}
				}
				rp.Trans = append(rp.Trans, x)
			}
			rv.Parts = append(rv.Parts, rp)
		}
		virt = append(virt, rv)
	}
	var cmp []rt.CompoundBeacon
	for _, c := range bc.compound {
		rc := rt.CompoundBeacon{Name: c.Name, Split: c.Split}
		for _, e := range c.Encrypted {
			rc.Encrypted = append(rc.Encrypted, rt.EncryptedPart{Name: e.Name, Prefix: e.Prefix})
		}
		for _, s := range c.Signed {
			rc.Signed = append(rc.Signed, rt.SignedPart{Name: s.Name, Prefix: s.Prefix})
		}
		for _, con := range c.Constructors {
			var rcon rt.Constructor
			for _, p := range con.Parts {
				rcon.Parts = append(rcon.Parts, rt.ConstructorPart{Name: p.Name, Required: p.Required})
			}
			rc.Constructors = append(rc.Constructors, rcon)
		}
		cmp = append(cmp, rc)
	}
	return rt.SearchConfig{WriteVersion: 1, Versions: []rt.BeaconVersion{{
		Version:         1,
		KeyStore:        b.ref,
		KeySource:       &rt.BeaconKeySourceMembersingle{Value: rt.SingleKeyStore{KeyId: b.id, CacheTTL: 600}},
		StandardBeacons: std,
		VirtualFields:   virt,
		CompoundBeacons: cmp,
	}}}
}

// TestBeacons: for random search configurations and values, the
// aws_dbe_b_* attributes ours and the reference compute are equal.
func TestBeacons(t *testing.T) {
	ctx := context.Background()
	kp := hierStaticKeyring(t)
	b := hierStore
	ncases, nitems := 60, 10
	if testing.Short() {
		ncases = 10
	}
	base := *flagSeed
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	t.Logf("base seed %d", base)
	acts := map[string]refstypes.CryptoAction{}
	for n, a := range beaconActions {
		acts[n] = refActions[a]
	}
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, Overrides: beaconActions, PartitionKey: "pk"})
	compared, failures, refusedBoth, knownSurrogate := 0, 0, 0, 0
	for i := range uint64(ncases) {
		seed := base + i
		g := newGen(seed)
		bc := g.beaconCase()
		ours, errO := search.New(search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: b.ours,
			KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: b.id, CacheTTL: 10 * time.Minute}},
			StandardBeacons: bc.std, VirtualFields: bc.virt, CompoundBeacons: bc.compound,
		}}}, policy)
		scfg := refBeaconConfig(bc, b)
		xf, errR := newTransforms(rt.DynamoDbTablesEncryptionConfig{TableEncryptionConfigs: map[string]rt.DynamoDbTableEncryptionConfig{
			"tbl": {LogicalTableName: "tbl", PartitionKeyName: "pk", AttributeActionsOnEncrypt: acts, Keyring: kp.Ref, Search: &scfg},
		}})
		switch {
		case errO != nil && errR != nil:
			if refusedBoth++; refusedBoth <= 3 {
				t.Logf("seed %d: configuration refused by both: ours %v; %v", seed, errO, errR)
			}
			continue
		case errO != nil || errR != nil:
			t.Errorf("seed %d: config accepted by one side only: ours %v, reference %v\n%s", seed, errO, errR, bc)
			failures++
			continue
		}
		for range nitems {
			it := g.beaconItem()
			refItem, errR := safe(func() (Item, error) {
				out, err := xf.PutItemInputTransform(ctx, refxftypes.PutItemInputTransformInput{SdkInput: dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: cloneItem(it)}})
				if err != nil {
					return nil, err
				}
				return out.TransformedInput.Item, nil
			})
			withSigned, errO := ours.AddSignedBeacons(cloneItem(it))
			var got Item
			if errO == nil {
				got, errO = ours.EncryptedBeacons(ctx, cloneItem(it), Item{})
			}
			if errO != nil && errR == nil && strings.Contains(errO.Error(), "lone UTF-16 surrogate") && !*flagKnown {
				// Known divergence (report): ours refuses an item whose
				// virtual transform splits a surrogate pair even when the
				// virtual field is not built (a part is absent); the
				// reference writes it.
				knownSurrogate++
				continue
			}
			if (errO == nil) != (errR == nil) {
				t.Errorf("seed %d: item %s accepted by one side only: ours %v, reference %v\n%s", seed, itemJSON(it), errO, errR, bc)
				failures++
				continue
			}
			if errO != nil {
				continue
			}
			want := Item{}
			for n, v := range refItem {
				if strings.HasPrefix(n, search.BeaconPrefix) {
					want[n] = v
				}
			}
			// The reference's item encryptor drops the aws_dbe_v_1 its
			// transform adds (oracles/README.md); beacon values only.
			delete(got, search.VersionTag)
			if v, ok := refItem["c"]; ok {
				want["c"] = v // a signed compound beacon is stored under its name
			}
			if v, ok := withSigned["c"]; ok {
				got["c"] = v
			}
			if !equalExact(want, got) {
				t.Errorf("seed %d: beacons differ for item %s: %s\n%s", seed, itemJSON(it), diffItems(want, got, exact), bc)
				failures++
			}
			compared++
			if failures >= 5 {
				t.Fatal("stopping after 5 failures")
			}
		}
	}
	t.Logf("%d items' beacons compared over %d configurations (%d refused by both; %d items skipped for the known surrogate divergence)", compared, ncases, refusedBoth, knownSurrogate)
}

// newTransforms is the reference's transforms client, whose constructor
// panics ("Client construction failed") on a configuration it refuses.
func newTransforms(cfg rt.DynamoDbTablesEncryptionConfig) (c *refxf.Client, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reference refuses the configuration: %v", p)
		}
	}()
	return refxf.NewClient(cfg)
}
