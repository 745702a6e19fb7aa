package mongoenc

import (
	"bytes"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/search"
)

// TestWithBeacons: WithBeacons gives a stored document exactly the
// collection's beacons. A document InsertOne wrote comes back byte for
// byte; without Config.Search its beacon fields go and every other field
// stays, in order; under another configuration its beacons are that
// configuration's values. The results verify as the document did.
func TestWithBeacons(t *testing.T) {
	c, plain := serverColl(t, beaconConfig(t, 16))
	ctx := ctxT(t)
	docs := bdocs(5)
	for _, d := range docs {
		if _, err := c.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	noCfg := beaconConfig(t, 16)
	noCfg.Search = nil
	none, err := NewCollection(plain, noCfg)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCollection(plain, beaconConfig(t, 8))
	if err != nil {
		t.Fatal(err)
	}
	sc8, _ := beaconSearch(t, 8)
	cur, err := plain.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var raws []bson.Raw
	if err := cur.All(ctx, &raws); err != nil {
		t.Fatal(err)
	}
	if len(raws) != len(docs) {
		t.Fatalf("%d documents stored", len(raws))
	}
	for _, raw := range raws {
		d := docs[raw.Lookup("_id").Int32()]
		item, err := c.StoredItem(raw)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := c.Encryptor().Decrypt(ctx, item)
		if err != nil {
			t.Fatal(err)
		}
		same, err := c.WithBeacons(ctx, raw, pt)
		if err != nil || !bytes.Equal(same, raw) {
			t.Fatalf("WithBeacons under the configuration that wrote the document: %v, equal %v", err, bytes.Equal(same, raw))
		}

		stripped, err := none.WithBeacons(ctx, raw, pt)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		elems, _ := raw.Elements()
		for _, e := range elems {
			if !isBeaconField(e.Key()) {
				kept = append(kept, e.String())
			}
		}
		var got []string
		elems, _ = stripped.Elements()
		for _, e := range elems {
			got = append(got, e.String())
		}
		if strings.Join(got, "\n") != strings.Join(kept, "\n") {
			t.Fatalf("without Search: %v, want the document without its beacons", stripped)
		}
		if _, err := none.decryptDoc(ctx, stripped); err != nil {
			t.Fatalf("the document without beacons does not verify: %v", err)
		}

		again, err := other.WithBeacons(ctx, raw, pt)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := again.Lookup(search.BeaconPrefix+"email").StringValue(), dbesdkBeacon(t, sc8, "email", d.Email); got != want {
			t.Fatalf("8-bit email beacon %q, want %q", got, want)
		}
		if got, want := again.Lookup(search.BeaconPrefix+"ssn").StringValue(), dbesdkBeacon(t, sc8, "ssn", d.Profile.SSN); got != want {
			t.Fatalf("8-bit ssn beacon %q, want %q", got, want)
		}
		if _, err := other.decryptDoc(ctx, again); err != nil {
			t.Fatalf("the document with other beacons does not verify: %v", err)
		}
	}
}

// TestBeaconIdentity: equal for the same beacons, different for another
// length or beacon set, "" without Search; no server is asked.
func TestBeaconIdentity(t *testing.T) {
	ctx := ctxT(t)
	id := func(cfg Config) string {
		t.Helper()
		s, err := offlineColl(t, cfg).BeaconIdentity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := id(beaconConfig(t, 16))
	if a == "" || a != id(beaconConfig(t, 16)) {
		t.Fatalf("the same beacons: %q and another", a)
	}
	if id(beaconConfig(t, 15)) == a {
		t.Error("another length, the same identity")
	}
	one := beaconConfig(t, 16)
	v := one.Search.Versions[0]
	v.StandardBeacons = v.StandardBeacons[:1]
	one.Search.Versions = []search.BeaconVersion{v}
	if id(one) == a {
		t.Error("one beacon fewer, the same identity")
	}
	// Compound, signed, AsSet and virtual-field beacons count too.
	c := id(compoundConfig(t, 4))
	if c == "" || c != id(compoundConfig(t, 4)) || c == id(compoundConfig(t, 5)) || c == a {
		t.Error("compound beacons: the identity does not follow the configuration")
	}
	one.Search = nil
	if got := id(one); got != "" {
		t.Errorf("no Search: %q", got)
	}
}
