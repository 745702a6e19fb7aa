package search

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// termStore is an in-memory store that answers a Term as a store that is
// not DynamoDB would: by comparing the stored beacon attribute.
func termStoreMatches(t *Term, stored Item) bool {
	switch v := stored[t.Attribute].(type) {
	case *types.AttributeValueMemberS:
		for _, w := range t.Values {
			if (t.Match == Equals && v.Value == w) || (t.Match == BeginsWith && strings.HasPrefix(v.Value, w)) {
				return true
			}
		}
	case *types.AttributeValueMemberSS:
		if t.Match == Contains {
			for _, w := range t.Values {
				if slices.Contains(v.Value, w) {
					return true
				}
			}
		}
	}
	return false
}

// TestTermExactWithCollisions: with 1- and 2-bit beacons most items
// collide; the store's candidates filtered by Keep are exactly the items
// whose plaintext matches, for every kind of term, with and without
// partitions.
func TestTermExactWithCollisions(t *testing.T) {
	pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id",
		Overrides: map[string]actions.Action{"kind": actions.SignOnly}})
	// ann@x is a prefix of ann@xy, bob@x of bob@xz: a prefix ending in an
	// encrypted value matches the whole value only.
	emails := []string{"ann@x", "ann@xy", "bob@x", "bob@xz", "cy@x", "dee@x", "eve@x", "fay@x", "gus@x", "hal@x"}
	kinds := []string{"admin", "user"}
	tags := []string{"red", "green", "blue", "grey"}
	prefixed := 0 // candidates with a longer value under a prefix, dropped by Keep
	for _, parts := range []int{1, 3} {
		t.Run(fmt.Sprint(parts, " partitions"), func(t *testing.T) {
			partition := 0
			v := BeaconVersion{
				Version: 1, KeyStore: &StaticKeys{}, MaximumNumberOfPartitions: parts,
				KeySource:         KeySource{Single: &SingleKeySource{BranchKeyID: "foo", CacheTTL: time.Minute}},
				PartitionSelector: PartitionSelectorFunc(func(Item, int, string) (int, error) { return partition, nil }),
				StandardBeacons:   []StandardBeacon{{Name: "email", Length: 1}, {Name: "tags", Length: 2, Style: AsSet()}},
				CompoundBeacons: []CompoundBeacon{{Name: "KindEmail", Split: ".",
					Signed:    []SignedPart{{Name: "kind", Prefix: "K-"}},
					Encrypted: []EncryptedPart{{Name: "email", Prefix: "E-"}}}},
			}
			if parts == 1 {
				v.PartitionSelector = nil
			}
			sr := newLiteral(t, v, pol)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(3, 4))
			var plain, stored []Item
			for i := range 80 {
				partition = i % parts
				it := Item{"id": s(fmt.Sprint(i)), "email": s(emails[rng.IntN(len(emails))]), "kind": s(kinds[rng.IntN(2)]),
					"tags": ss(tags[rng.IntN(2)], tags[2+rng.IntN(2)])}
				signed, err := sr.AddSignedBeacons(it)
				if err != nil {
					t.Fatal(err)
				}
				bs, err := sr.EncryptedBeacons(ctx, it, nil)
				if err != nil {
					t.Fatal(err)
				}
				st := Item{}
				for k, v := range signed {
					if pol.Action(k) != actions.EncryptAndSign {
						st[k] = v
					}
				}
				for k, v := range bs {
					st[k] = v
				}
				plain, stored = append(plain, it), append(stored, st)
			}
			str := func(it Item, k string) string { return it[k].(*types.AttributeValueMemberS).Value }
			type query struct {
				q     TermQuery
				truth func(Item) bool
				scan  string // the same condition for TransformScan
			}
			var queries []query
			for _, e := range emails {
				queries = append(queries,
					query{TermQuery{Beacon: "email", Value: s(e)}, func(it Item) bool { return str(it, "email") == e }, "email = :v"},
					query{TermQuery{Beacon: "KindEmail", Value: s("K-admin.E-" + e)}, func(it Item) bool { return str(it, "kind") == "admin" && str(it, "email") == e }, "KindEmail = :v"},
					query{TermQuery{Beacon: "KindEmail", Match: BeginsWith, Value: s("E-" + e)}, func(it Item) bool { return false }, "begins_with(KindEmail, :v)"},
					query{TermQuery{Beacon: "KindEmail", Match: BeginsWith, Value: s("K-user.E-" + e)}, func(it Item) bool { return str(it, "kind") == "user" && str(it, "email") == e }, "begins_with(KindEmail, :v)"})
			}
			for _, k := range kinds {
				queries = append(queries,
					query{TermQuery{Beacon: "KindEmail", Match: BeginsWith, Value: s("K-" + k + ".E-")}, func(it Item) bool { return str(it, "kind") == k }, "begins_with(KindEmail, :v)"},
					query{TermQuery{Beacon: "KindEmail", Match: BeginsWith, Value: s("K-" + k)}, func(it Item) bool { return str(it, "kind") == k }, "begins_with(KindEmail, :v)"})
			}
			for _, tag := range tags {
				queries = append(queries, query{TermQuery{Beacon: "tags", Match: Contains, Value: s(tag)},
					func(it Item) bool { return slices.Contains(it["tags"].(*types.AttributeValueMemberSS).Value, tag) }, "contains(tags, :v)"})
			}
			collided := 0
			for _, q := range queries {
				term, err := sr.Term(ctx, q.q)
				if err != nil {
					t.Fatalf("%v %s: %v", q.q.Match, q.q.Beacon, err)
				}
				// The values are those the DynamoDB rewriting sends, partition by partition.
				var scanned []string
				var rf *ResultFilter // the DynamoDB path's filter decides as Keep does
				for p := range parts {
					out, f, err := sr.TransformScan(ctx, &dynamodb.ScanInput{FilterExpression: aws.String(q.scan),
						ExpressionAttributeValues: map[string]types.AttributeValue{":v": q.q.Value, PartitionPlaceholder: n(fmt.Sprint(p))}})
					if err != nil {
						t.Fatal(err)
					}
					rf = f
					for k, v := range out.ExpressionAttributeValues {
						if k != PartitionPlaceholder {
							if w := v.(*types.AttributeValueMemberS).Value; !slices.Contains(scanned, w) {
								scanned = append(scanned, w)
							}
						}
					}
				}
				slices.Sort(scanned)
				if got := slices.Sorted(slices.Values(term.Values)); !slices.Equal(got, scanned) {
					t.Errorf("%s %v: values %q, TransformScan sends %q", q.q.Beacon, q.q.Match, got, scanned)
				}
				for i := range stored {
					cand := termStoreMatches(term, stored[i])
					keep, err := term.Keep(plain[i])
					if err != nil {
						t.Fatal(err)
					}
					want := q.truth(plain[i])
					if viaScan, err := rf.Keep(plain[i]); cand && (err != nil || viaScan != keep) {
						t.Errorf("%s %v: item %d: ResultFilter.Keep = %v, %v; Term.Keep %v", q.q.Beacon, q.q.Match, i, viaScan, err, keep)
					}
					if want && !cand {
						t.Errorf("%s %v: item %d matches but the store does not return it", q.q.Beacon, q.q.Match, i)
					}
					if cand && keep != want {
						t.Errorf("%s %v: item %d: Keep = %v, want %v", q.q.Beacon, q.q.Match, i, keep, want)
					}
					if cand && !want {
						collided++
						if q.q.Match == BeginsWith && strings.HasPrefix(str(plain[i], "email"), strings.TrimPrefix(q.q.Value.(*types.AttributeValueMemberS).Value, "K-user.E-")) && str(plain[i], "kind") == "user" {
							prefixed++ // a longer e-mail whose beacon collides: Keep dropped it
						}
					}
				}
			}
			if collided == 0 {
				t.Error("no collisions: the test does not exercise Keep")
			}
		})
	}
	if prefixed == 0 {
		t.Error("no candidate with a longer value under a prefix: the test does not exercise the prefix rule")
	}
}

func TestTermRefusals(t *testing.T) {
	v := lotsaBeacons()
	v.StandardBeacons = append(v.StandardBeacons,
		StandardBeacon{Name: "partOnly", Length: 24, Style: PartOnly()},
		StandardBeacon{Name: "setAttr", Length: 24, Style: AsSet()})
	v.CompoundBeacons = append(v.CompoundBeacons, CompoundBeacon{Name: "WithPartOnly", Split: ".", Encrypted: []EncryptedPart{{Name: "partOnly", Prefix: "P_"}}})
	sr := newLiteral(t, v, fullPolicy(map[string]actions.Action{"partOnly": actions.EncryptAndSign, "setAttr": actions.EncryptAndSign}))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		q    TermQuery
		want error
	}{
		{"unknown beacon", TermQuery{Beacon: "nope", Value: s("secret-value")}, ErrNoBeacon},
		{"PartOnly", TermQuery{Beacon: "partOnly", Value: s("secret-value")}, ErrOperator},
		{"Contains on a plain standard beacon", TermQuery{Beacon: "std2", Match: Contains, Value: s("secret-value")}, ErrOperator},
		{"Equals on AsSet", TermQuery{Beacon: "setAttr", Value: s("secret-value")}, ErrOperator},
		{"Contains with a set", TermQuery{Beacon: "setAttr", Match: Contains, Value: ss("secret-value")}, ErrOperator},
		{"BeginsWith on a standard beacon", TermQuery{Beacon: "std2", Match: BeginsWith, Value: s("secret-value")}, ErrOperator},
		{"Contains on a compound beacon", TermQuery{Beacon: "Mixed", Match: Contains, Value: s("N_secret-value")}, ErrOperator},
		{"compound piece of no part", TermQuery{Beacon: "Mixed", Value: s("X_secret-value")}, ErrOperator},
		{"compound order no constructor builds", TermQuery{Beacon: "Mixed", Value: s("Y_1984.N_secret-value")}, ErrOperator},
		{"compound with a number", TermQuery{Beacon: "Mixed", Value: n("1984")}, ErrOperator},
		{"no value", TermQuery{Beacon: "std2"}, ErrOperator},
		{"branch key with a single source", TermQuery{Beacon: "std2", Value: s("secret-value"), BranchKeyID: "foo"}, ErrBeaconKey},
	} {
		_, err := sr.Term(ctx, tc.q)
		var qe *QueryError
		if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidQuery) || !errors.As(err, &qe) || qe.Attribute != tc.q.Beacon {
			t.Errorf("%s: %v, want a *QueryError naming %q matching %v", tc.name, err, tc.q.Beacon, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-value") {
			t.Errorf("%s: the error shows the value: %v", tc.name, err)
		}
	}
}

// TestTermMultiTenant: a multi-tenant term needs the branch key, and its
// KeyMatches drops another tenant's item.
func TestTermMultiTenant(t *testing.T) {
	v := lotsaBeacons()
	v.KeySource = KeySource{Multi: &MultiKeySource{KeyFieldName: "TheKeyField", CacheTTL: time.Minute}}
	sr := newLiteral(t, v, fullPolicy(map[string]actions.Action{"TheKeyField": actions.SignOnly}))
	ctx := context.Background()
	if _, err := sr.Term(ctx, TermQuery{Beacon: "std4", Value: s("abc")}); !errors.Is(err, ErrBeaconKey) {
		t.Fatalf("multi-tenant term without a branch key: %v", err)
	}
	term, err := sr.Term(ctx, TermQuery{Beacon: "std4", Value: s("abc"), BranchKeyID: "foo"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(term.Values, []string{std4Beacon}) {
		t.Errorf("values %q, want [%s]", term.Values, std4Beacon)
	}
	if term.KeyMatches(Item{}) {
		t.Error("KeyMatches of an item without a header")
	}
	if _, err := sr.Term(ctx, TermQuery{Beacon: "std4", Value: s("abc"), BranchKeyID: "unknown"}); err == nil {
		t.Error("a term under a branch key the store does not have")
	}
}

// TestBeaconsCurrent: the stored beacons of an item written in any
// partition are current (without a selector EncryptedBeacons picks one at
// random); a changed, added or missing beacon attribute is not; with a
// selector only its partition counts.
func TestBeaconsCurrent(t *testing.T) {
	pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id",
		Overrides: map[string]actions.Action{"kind": actions.SignOnly}})
	ctx := context.Background()
	v := BeaconVersion{
		Version: 1, KeyStore: &StaticKeys{}, MaximumNumberOfPartitions: 5,
		KeySource:       KeySource{Single: &SingleKeySource{BranchKeyID: "foo", CacheTTL: time.Minute}},
		StandardBeacons: []StandardBeacon{{Name: "email", Length: 16}, {Name: "tags", Length: 8, Style: AsSet()}},
		CompoundBeacons: []CompoundBeacon{{Name: "KindEmail", Split: ".",
			Signed: []SignedPart{{Name: "kind", Prefix: "K-"}}, Encrypted: []EncryptedPart{{Name: "email", Prefix: "E-"}}}},
	}
	sr := newLiteral(t, v, pol)
	it := Item{"id": s("1"), "email": s("ann@x"), "kind": s("admin"), "tags": ss("red", "blue")}
	seen := map[string]bool{}
	for range 40 {
		b, err := sr.EncryptedBeacons(ctx, it, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen[b["aws_dbe_b_email"].(*types.AttributeValueMemberS).Value] = true
		stored := Item{"id": s("1"), "email": &types.AttributeValueMemberB{Value: []byte("ciphertext")}}
		for k, v := range b {
			stored[k] = v
		}
		// Set order does not matter.
		tags := stored["aws_dbe_b_tags"].(*types.AttributeValueMemberSS)
		stored["aws_dbe_b_tags"] = &types.AttributeValueMemberSS{Value: []string{tags.Value[1], tags.Value[0]}}
		if ok, err := sr.BeaconsCurrent(ctx, it, nil, stored); !ok || err != nil {
			t.Fatalf("beacons as written: %v, %v", ok, err)
		}
		for _, mutate := range []func(Item){
			func(st Item) { st["aws_dbe_b_email"] = s("0000") },
			func(st Item) { st["aws_dbe_b_other"] = s("00") },
			func(st Item) { delete(st, "aws_dbe_b_KindEmail") },
			func(st Item) { delete(st, VersionTag) },
			func(st Item) { st["aws_dbe_b_tags"] = ss(tags.Value[0]) },
		} {
			st := maps.Clone(stored)
			mutate(st)
			if ok, err := sr.BeaconsCurrent(ctx, it, nil, st); ok || err != nil {
				t.Errorf("changed beacons current: %v, %v", ok, err)
			}
		}
	}
	if len(seen) < 2 {
		t.Fatalf("40 writes used %d partitions: the test does not exercise them", len(seen))
	}
	// With a selector, another partition's beacons are not current.
	v.PartitionSelector = PartitionSelectorFunc(func(Item, int, string) (int, error) { return 3, nil })
	sel := newLiteral(t, v, pol)
	other := PartitionSelectorFunc(func(Item, int, string) (int, error) { return 1, nil })
	v.PartitionSelector = other
	b1, err := newLiteral(t, v, pol).EncryptedBeacons(ctx, it, nil)
	if err != nil {
		t.Fatal(err)
	}
	b3, err := sel.EncryptedBeacons(ctx, it, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := sel.BeaconsCurrent(ctx, it, nil, b3); !ok {
		t.Error("the selector's partition: not current")
	}
	if ok, _ := sel.BeaconsCurrent(ctx, it, nil, b1); ok {
		t.Error("another partition's beacons current under a selector")
	}
}
