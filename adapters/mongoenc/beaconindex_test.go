package mongoenc

import (
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestBeaconIndexes: CreateBeaconIndexes creates one index per beacon on
// the test server, idempotently, and queries still answer exactly with it.
func TestBeaconIndexes(t *testing.T) {
	c, plain := serverColl(t, beaconConfig(t, 1))
	ctx := ctxT(t)
	if _, err := c.InsertMany(ctx, bdocs(20)); err != nil {
		t.Fatal(err)
	}
	want := []string{"aws_dbe_b_email_1", "aws_dbe_b_ssn_1"}
	for range 2 {
		names, err := c.CreateBeaconIndexes(ctx)
		if err != nil || !slices.Equal(names, want) {
			t.Fatalf("CreateBeaconIndexes = %v, %v; want %v", names, err, want)
		}
	}
	specs, err := plain.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, s := range specs {
		found[s.Name] = s.KeysDocument.String()
	}
	for _, name := range want {
		field := name[:len(name)-2]
		if k, ok := found[name]; !ok || k != `{"`+field+`": {"$numberInt":"1"}}` {
			t.Errorf("index %s: keys %q (present: %v), want {%s: 1}; all: %v", name, k, ok, field, found)
		}
	}
	if n, err := c.CountDocuments(ctx, bson.D{{Key: "email", Value: beaconEmails[0]}}); err != nil || n != 4 {
		t.Errorf("CountDocuments with the index = %d, %v; want 4", n, err)
	}
	// Explain, for the record: FerretDB v1 (SQLite) reports its SQL plan, a
	// SCAN with filterPushdown false: it pushes no $in down, so the index
	// exists but is not used there; MongoDB reports an IXSCAN.
	var ex bson.Raw
	f, _, err := c.searchFilter(ctx, c.guard("test"), bson.D{{Key: "email", Value: beaconEmails[0]}})
	if err != nil {
		t.Fatal(err)
	}
	err = plain.Database().RunCommand(ctx, bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: plain.Name()}, {Key: "filter", Value: f}}}}).Decode(&ex)
	t.Logf("explain: %v, %v", ex, err)

	// Without Config.Search: nothing to create.
	nc, _ := serverColl(t, testConfig())
	if names, err := nc.CreateBeaconIndexes(ctx); err != nil || names != nil {
		t.Errorf("CreateBeaconIndexes without beacons = %v, %v", names, err)
	}
}
