package rotate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/rotate"
)

// mongoConfig: secret and profile.ssn encrypted, email signed, visits left
// alone, everything else encrypted.
func mongoConfig(p cmp.Provider) mongoenc.Config {
	return mongoenc.Config{Provider: p, Default: actions.EncryptAndSign, Overrides: map[string]actions.Action{
		"email": actions.SignOnly, "visits": actions.DoNothing, "profile": actions.SignOnly, "profile.ssn": actions.EncryptAndSign,
		"profile.lastSeen": actions.DoNothing,
	}}
}

func mongoColl(t *testing.T, coll *mongo.Collection, cfg mongoenc.Config) *mongoenc.Collection {
	t.Helper()
	c, err := mongoenc.NewCollection(coll, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mongoDoc(i int, version string) bson.D {
	return bson.D{
		{Key: "_id", Value: bson.NewObjectID()},
		{Key: "secret", Value: fmt.Sprintf("secret %d %s", i, version)},
		{Key: "email", Value: fmt.Sprintf("u%d@example.com", i)},
		{Key: "visits", Value: int32(i)},
		{Key: "profile", Value: bson.D{{Key: "ssn", Value: fmt.Sprintf("ssn-%d", i)}, {Key: "city", Value: "Lyon"}, {Key: "lastSeen", Value: int32(0)}}},
	}
}

// TestRotateMongo rotates a collection split into 4 _id ranges, two
// processes' worth (0-1, then 2-3), the first interrupted half way and
// resumed, while a writer replaces documents under the target and updates
// a DoNothing field. Then a format migration to DB-ESDK.
func TestRotateMongo(t *testing.T) {
	client := mongotest.Client(t)
	coll := mongotest.Collection(t, client)
	t.Cleanup(func() { // the plans are shared by the tests: remove this collection's only
		coll.Database().Collection(rotate.PlanCollection).DeleteMany(context.Background(), bson.D{{Key: "collection", Value: mongotest.Database + "." + coll.Name()}})
	})
	source := mongoColl(t, coll, mongoConfig(wrappedProvider(t)))
	targetProvider := tinkProvider(t, newKeyset(t))
	target := mongoColl(t, coll, mongoConfig(targetProvider))
	const n = 600
	want := map[bson.ObjectID]bson.D{}
	for i := range n {
		d := mongoDoc(i, "v1")
		if _, err := source.InsertOne(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		want[d[0].Value.(bson.ObjectID)] = d
	}
	var ids []bson.ObjectID
	for id := range want {
		ids = append(ids, id)
	}

	dir := t.TempDir()
	run := func(ctx context.Context, first, last int, progress func(rotate.Stats)) (rotate.Stats, error) {
		return rotate.RunMongo(ctx, source, target, rotate.Config{
			Segments: 4, SegmentRange: &rotate.SegmentRange{First: first, Last: last}, PageSize: 25,
			Checkpoint: filepath.Join(dir, fmt.Sprintf("seg%d-%d.checkpoint", first, last)), Progress: progress,
		})
	}
	// The writer acts during the first run: it replaces every 10th
	// document under the target and sets visits of every 7th.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	writes := 0
	first, err := run(ctx, 0, 1, func(s rotate.Stats) {
		if s.Scanned == 60 {
			// The callback holds up both segments after their current
			// item; let the other one's write in flight land first. The
			// test server (FerretDB v1) applies an update as read, modify,
			// write back the whole document, not atomically: an update
			// racing with another on the same document can undo it
			// (MongoDB's single-document updates are atomic). The writes
			// below then race only with documents read and not yet
			// written, which is what the test is about.
			time.Sleep(time.Second)
			for i, id := range ids {
				switch {
				case i%10 == 0:
					d := mongoDoc(i, "written")
					d[0].Value = id
					if _, err := target.ReplaceOne(t.Context(), bson.D{{Key: "_id", Value: id}}, d); err != nil {
						t.Error(err)
					}
					want[id] = d
					writes++
				case i%7 == 0:
					// DoNothing fields, top-level and beside an encrypted
					// one in its parent: the signature stays, the
					// rotation's write-back must not undo them.
					set := bson.D{{Key: "visits", Value: int32(-1)}, {Key: "profile.lastSeen", Value: int32(i)}}
					if _, err := source.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}}); err != nil {
						t.Error(err)
					}
					want[id][3].Value = int32(-1)
					want[id][4].Value = bson.D{{Key: "ssn", Value: want[id][4].Value.(bson.D)[0].Value}, {Key: "city", Value: "Lyon"}, {Key: "lastSeen", Value: int32(i)}}
					writes++
				}
			}
		}
		if s.Scanned >= 150 {
			cancel()
		}
	})
	if !errors.Is(err, rotate.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	t.Logf("first run: %d documents, %d rotated", first.Scanned, first.Rotated)
	resumed, err := run(t.Context(), 0, 1, nil)
	if err != nil || !resumed.Resumed {
		t.Fatalf("resumed run: %v (resumed %v)", err, resumed.Resumed)
	}
	other, err := run(t.Context(), 2, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("segments 0-1: %+v\nsegments 2-3: %+v", resumed, other)
	st, err := rotate.ReadStatus([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Complete() || st.Stats.Failed != 0 || st.Stats.Scanned < n || st.Stats.Rotated+st.Stats.Current < n-st.Stats.Conflicts {
		t.Errorf("status: complete %v, %+v", st.Complete(), st.Stats)
	}
	// Both ranges hold documents: the split is by _id, not all in one.
	if resumed.Scanned < n/4 || other.Scanned < n/4 {
		t.Errorf("ranges of %d and %d documents, want about %d each", resumed.Scanned, other.Scanned, n/2)
	}
	checkMongo(t, target, want)
	if writes == 0 {
		t.Fatal("no concurrent writes")
	}

	// DDBEC to DB-ESDK: the DDBEC side reads DB-ESDK documents too, and the
	// DB-ESDK side DDBEC ones (the legacy override), as the collection's
	// readers do during the migration.
	kr, err := keyring.NewRawAES("ns", "k", randBytes(t, 32))
	if err != nil {
		t.Fatal(err)
	}
	unsigned := []string{"visits", "profile.lastSeen"}
	ddbecCfg := mongoConfig(targetProvider)
	ddbecCfg.DBESDK = &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: unsigned}
	dbesdkCfg := mongoConfig(targetProvider)
	dbesdkCfg.Format = itemcrypto.FormatDBESDK
	dbesdkCfg.DBESDK = &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: unsigned, LegacyPolicy: itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt}
	if _, err := rotate.RunMongo(t.Context(), target, mongoColl(t, coll, dbesdkCfg), rotate.Config{Segments: 2}); err == nil {
		t.Error("RunMongo from a DDBEC-only side to DB-ESDK: no error about the reserved fields")
	}
	mig, err := rotate.RunMongo(t.Context(), mongoColl(t, coll, ddbecCfg), mongoColl(t, coll, dbesdkCfg), rotate.Config{Segments: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "to DB-ESDK", mig, n, n, 0, 0, 0)
	onlyCfg := mongoConfig(nil)
	onlyCfg.Format = itemcrypto.FormatDBESDK
	onlyCfg.DBESDK = &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: unsigned}
	checkMongo(t, mongoColl(t, coll, onlyCfg), want)
	raw, err := coll.FindOne(t.Context(), bson.D{}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("aws_dbe_head"); err != nil {
		t.Error("a migrated document has no aws_dbe_head")
	}
	if _, err := raw.LookupErr(itemcrypto.SignatureAttribute); err == nil {
		t.Error("a migrated document still has the DDBEC signature")
	}
}

func checkMongo(t *testing.T, c *mongoenc.Collection, want map[bson.ObjectID]bson.D) {
	t.Helper()
	cur, err := c.Find(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	got := mongotest.AllByObjectID(t, cur)
	if len(got) != len(want) {
		t.Fatalf("%d documents, want %d", len(got), len(want))
	}
	for id, w := range want {
		b, err := bson.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, got[id]) {
			t.Fatalf("document %s reads back other than written", id.Hex())
		}
	}
}
