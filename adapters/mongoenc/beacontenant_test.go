package mongoenc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// tenantKey is the context key of the tests' branch key id supplier.
type tenantKey struct{}

func withTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

// tenantSource serves the branch keys of several tenants.
type tenantSource map[string]*hierarchy.BranchKey

func (s tenantSource) ActiveBranchKey(_ context.Context, id string) (*hierarchy.BranchKey, error) {
	if bk, ok := s[id]; ok {
		return bk, nil
	}
	return nil, hierarchy.ErrBranchKeyNotFound
}

func (s tenantSource) BranchKeyVersion(ctx context.Context, id, version string) (*hierarchy.BranchKey, error) {
	bk, err := s.ActiveBranchKey(ctx, id)
	if err != nil || bk.Version() != version {
		return nil, hierarchy.ErrBranchKeyNotFound
	}
	return bk, nil
}

// tenantConfig: a multi-tenant collection (key field "tenant", SignOnly)
// of tenants "tenant-a" and "tenant-b", with a standard beacon of length
// bits on email and a compound beacon KindEmail; the keyring takes the
// tenant from the context.
func tenantConfig(t testing.TB, length int) Config {
	t.Helper()
	src := tenantSource{}
	var bks []*hierarchy.BranchKey
	for i, id := range []string{"tenant-a", "tenant-b"} {
		bk, err := hierarchy.NewBranchKey(id, fmt.Sprintf("4f2e1a0c-8d3b-4c6e-9f7a-1b2c3d4e5f6%d", i),
			bytes.Repeat([]byte{byte(0x10 + i)}, 32), bytes.Repeat([]byte{byte(0x20 + i)}, 32))
		if err != nil {
			t.Fatal(err)
		}
		src[id] = bk
		bks = append(bks, bk)
	}
	keys, err := search.NewStaticKeys(bks...)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) {
		o.IDSupplier = func(ctx context.Context, _ map[string]string) (string, error) {
			if id, ok := ctx.Value(tenantKey{}).(string); ok {
				return id, nil
			}
			return "", errors.New("no tenant in the context")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Default:   actions.SignOnly,
		Overrides: map[string]actions.Action{"email": actions.EncryptAndSign},
		Format:    itemcrypto.FormatDBESDK,
		DBESDK:    &itemcrypto.DBESDKConfig{Keyring: kr},
		Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: keys,
			KeySource:       search.KeySource{Multi: &search.MultiKeySource{KeyFieldName: "tenant", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: length}},
			CompoundBeacons: []search.CompoundBeacon{{Name: "KindEmail", Split: "|",
				Signed: []search.SignedPart{{Name: "kind", Prefix: "K-"}}, Encrypted: []search.EncryptedPart{{Name: "email", Prefix: "E-"}}}},
		}}},
	}
}

type tdoc struct {
	ID     int32  `bson:"_id"`
	Tenant string `bson:"tenant"`
	Email  string `bson:"email"`
	Kind   string `bson:"kind"`
}

// TestTenantBeacons: in a multi-tenant collection each document's beacons
// use its own tenant's beacon key; a beacon filter names the tenant by
// equality on the key field and returns (counts, deletes) exactly that
// tenant's matching documents: a document whose key field names the tenant
// but that another tenant's branch key encrypted is dropped unread, even
// when its 1-bit beacon collides.
func TestTenantBeacons(t *testing.T) {
	c, plain := serverColl(t, tenantConfig(t, 1))
	ctx := ctxT(t)
	var all []tdoc
	for i := range 30 {
		d := tdoc{ID: int32(i), Tenant: []string{"tenant-a", "tenant-b"}[i%2], Email: beaconEmails[i%len(beaconEmails)], Kind: []string{"x", "y"}[i/2%2]}
		all = append(all, d)
		if _, err := c.InsertOne(withTenant(ctx, d.Tenant), d); err != nil {
			t.Fatal(err)
		}
	}
	// Rogue documents: "tenant-a" in the key field, encrypted by tenant-b.
	rogue := map[int32]bool{}
	for i, e := range beaconEmails {
		d := tdoc{ID: int32(100 + i), Tenant: "tenant-a", Email: e, Kind: "x"}
		rogue[d.ID] = true
		if _, err := c.InsertOne(withTenant(ctx, "tenant-b"), d); err != nil {
			t.Fatal(err)
		}
	}
	ann := beaconEmails[0]
	stored := storedByID(t, plain)
	// The same e-mail gets each tenant's beacon; some rogue document
	// collides with tenant-a's beacon of ann.
	annA := stored[0].Lookup("aws_dbe_b_email").StringValue()
	collide := 0
	for id := range rogue {
		if stored[id].Lookup("aws_dbe_b_email").StringValue() == annA {
			collide++
		}
	}
	if collide == 0 {
		t.Fatal("no rogue document collides with tenant-a's beacon of ann: the fixture proves nothing")
	}

	actx := withTenant(ctx, "tenant-a")
	for name, tc := range map[string]struct {
		filter any
		want   func(tdoc) bool
	}{
		"email": {bson.D{{Key: "tenant", Value: "tenant-a"}, {Key: "email", Value: ann}},
			func(d tdoc) bool { return d.Tenant == "tenant-a" && d.Email == ann }},
		"$and $eq": {bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "tenant", Value: bson.D{{Key: "$eq", Value: "tenant-a"}}}}, BeginsWith("KindEmail", "K-x|E-"+ann)}}},
			func(d tdoc) bool { return d.Tenant == "tenant-a" && d.Email == ann && d.Kind == "x" }},
		"$nor": {bson.D{{Key: "tenant", Value: "tenant-a"}, {Key: "$nor", Value: bson.A{bson.D{{Key: "email", Value: ann}}}}},
			func(d tdoc) bool { return d.Tenant == "tenant-a" && d.Email != ann }},
	} {
		var want []int32
		for _, d := range all {
			if tc.want(d) {
				want = append(want, d.ID)
			}
		}
		cur, err := c.Find(actx, tc.filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(2))
		if err != nil {
			t.Fatal(err)
		}
		var got []tdoc
		if err := cur.All(actx, &got); err != nil {
			t.Fatalf("%s: Find: %v", name, err)
		}
		ids := make([]int32, len(got))
		for i, d := range got {
			ids[i] = d.ID
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s: Find = %v, want %v", name, ids, want)
		}
		if n, err := c.CountDocuments(actx, tc.filter); err != nil || n != int64(len(want)) {
			t.Errorf("%s: CountDocuments = %d, %v; want %d", name, n, err, len(want))
		}
	}
	// A beacon filter without the tenant is refused before anything is sent.
	for name, f := range map[string]any{
		"no tenant":     bson.D{{Key: "email", Value: ann}},
		"tenant in $or": bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "tenant", Value: "tenant-a"}}, bson.D{{Key: "email", Value: ann}}}}},
		"tenant $in":    bson.D{{Key: "tenant", Value: bson.D{{Key: "$in", Value: bson.A{"tenant-a"}}}}, {Key: "email", Value: ann}},
		"two tenants":   bson.D{{Key: "tenant", Value: "tenant-a"}, {Key: "$and", Value: bson.A{bson.D{{Key: "tenant", Value: "tenant-b"}}}}, {Key: "email", Value: ann}},
	} {
		_, err := c.Find(actx, f)
		wantUnsafe(t, "Find "+name, err, "tenant")
	}
	// Without a beacon condition nothing is required of the tenant.
	if n, err := c.CountDocuments(actx, bson.D{{Key: "tenant", Value: "tenant-a"}, {Key: "$and", Value: bson.A{bson.D{{Key: "tenant", Value: "tenant-b"}}}}}); err != nil || n != 0 {
		t.Errorf("CountDocuments of two tenants without a beacon = %d, %v; want 0", n, err)
	}
	// DeleteMany of tenant-a's ann: the rogue ann and tenant-b's stay.
	before := storedByID(t, plain)
	res, err := c.DeleteMany(actx, bson.D{{Key: "tenant", Value: "tenant-a"}, {Key: "email", Value: ann}})
	want := 0
	for _, d := range all {
		if d.Tenant == "tenant-a" && d.Email == ann {
			want++
		}
	}
	if err != nil || res.DeletedCount != int64(want) {
		t.Fatalf("DeleteMany = %+v, %v; want %d", res, err, want)
	}
	after := storedByID(t, plain)
	wantUntouched(t, before, after, func(id int32) bool {
		return id >= 100 || all[id].Tenant != "tenant-a" || all[id].Email != ann
	})
}
