package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/mongotest"
	"github.com/itemcrypto/go-itemcrypto/internal/rotate"
	"github.com/itemcrypto/go-itemcrypto/internal/testenv"
)

// mongoActions are the actions of the collections of these tests, as
// mongoenc.Config takes them and as rotate's flags give them.
var (
	mongoOverrides = map[string]actions.Action{
		"email": actions.SignOnly, "visits": actions.DoNothing, "profile": actions.SignOnly, "profile.ssn": actions.EncryptAndSign,
	}
	mongoFlags = []string{"--default-action", "encrypt", "--sign", "email,profile", "--nothing", "visits", "--encrypt", "profile.ssn"}
)

func mongoCollection(t *testing.T, p cmp.Provider, coll *mongoenc.Collection) *mongoenc.Collection {
	t.Helper()
	c, err := mongoenc.NewCollection(coll.Unprotected(), mongoenc.Config{Provider: p, Default: actions.EncryptAndSign, Overrides: mongoOverrides})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readMongo reads every document through c, by _id.
func readMongo(t *testing.T, c *mongoenc.Collection) map[bson.ObjectID][]byte {
	t.Helper()
	cur, err := c.Find(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[bson.ObjectID][]byte{}
	for cur.Next(t.Context()) {
		out[cur.Current.Lookup("_id").ObjectID()] = bytes.Clone(cur.Current)
	}
	if err := cur.Err(); err != nil {
		t.Fatalf("reading the collection: %v", err)
	}
	return out
}

// TestRotateCLIMongo rotates a mongoenc collection on FerretDB through the
// CLI: a dry run, then two _id ranges of 4 segments as two processes would,
// the first interrupted with SIGINT and resumed, then rotate status.
func TestRotateCLIMongo(t *testing.T) {
	client := mongotest.Client(t)
	plain := mongotest.Collection(t, client)
	t.Cleanup(func() { plain.Database().Collection(rotate.PlanCollection).Drop(context.Background()) })
	keys := keygen(t, "aes-hmac")
	ks := newKeysetFile(t)
	base, err := mongoenc.NewCollection(plain, mongoenc.Config{Provider: wrappedFromFile(t, keys), Default: actions.EncryptAndSign, Overrides: mongoOverrides})
	if err != nil {
		t.Fatal(err)
	}
	const n = 240
	want := map[bson.ObjectID][]byte{}
	for i := range n {
		d := bson.D{
			{Key: "_id", Value: bson.NewObjectID()},
			{Key: "secret", Value: fmt.Sprintf("secret %d", i)},
			{Key: "email", Value: fmt.Sprintf("u%d@example.com", i)},
			{Key: "visits", Value: int32(i)},
			{Key: "profile", Value: bson.D{{Key: "ssn", Value: fmt.Sprintf("ssn-%d", i)}, {Key: "city", Value: "Lyon"}}},
		}
		if _, err := base.InsertOne(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		b, _ := bson.Marshal(d)
		want[d[0].Value.(bson.ObjectID)] = b
	}
	ns := mongotest.Database + "." + plain.Name()
	dir := t.TempDir()
	flags := append([]string{"rotate", "--mongo", testenv.MongoURI(t), "--collection", ns, "--from-keys", keys, "--to-keyset", ks, "--insecure"}, mongoFlags...)
	ranged := func(r string, extra ...string) []string {
		return append(append(append([]string{}, flags...), "--segments", "4", "--segment-range", r, "--page-size", "10",
			"--checkpoint", filepath.Join(dir, "seg"+r+".checkpoint"), "--log-every", "100ms"), extra...)
	}
	check := func(p cmp.Provider) {
		t.Helper()
		got := readMongo(t, mongoCollection(t, p, base))
		if len(got) != n {
			t.Fatalf("%d documents, want %d", len(got), n)
		}
		for id, w := range want {
			if !bytes.Equal(got[id], w) {
				t.Fatalf("document %s reads back other than written", id.Hex())
			}
		}
	}

	code, out, errOut := runCLI(t, "", append(flags, "--dry-run", "--segments", "2")...)
	if code != 0 {
		t.Fatalf("dry run: exit status %d\n%s\n%s", code, out, errOut)
	}
	wantSummary(t, "dry run", out, map[string]int{"would rotate": n, "already current": 0, "conflicts": 0, "failures": 0})
	if !strings.Contains(out, "Dry run of collection "+ns) {
		t.Errorf("the summary does not name the collection:\n%s", out)
	}
	check(wrappedFromFile(t, keys))
	if c, err := plain.Database().Collection(rotate.PlanCollection).CountDocuments(t.Context(), bson.D{}); err != nil || c != 0 {
		t.Errorf("the dry run kept a plan (%d, %v)", c, err)
	}

	// Segments 0-1, interrupted at about 30% with SIGINT, then resumed.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, os.Interrupt)
	defer signal.Stop(guard)
	var once sync.Once
	third := regexp.MustCompile(`items \(([3-9]\d)%\)`)
	stderr := &syncBuffer{onWrite: func(s string) {
		if third.MatchString(s) {
			once.Do(func() { syscall.Kill(os.Getpid(), syscall.SIGINT) })
		}
	}}
	var stdout bytes.Buffer
	code = run(ranged("0-1", "--rate", "100"), strings.NewReader(""), &stdout, stderr)
	t.Logf("interrupted:\n%s\n%s", stdout.String(), stderr.String())
	if code != 1 || !strings.Contains(stderr.String(), "interrupted; rerun to resume") {
		t.Fatalf("interrupted rotate: exit status %d", code)
	}
	first := summary(t, stdout.String())
	if first["rotated"] == 0 || first["rotated"] >= n/2 {
		t.Errorf("the interrupted run rotated %d documents", first["rotated"])
	}
	code, out, errOut = runCLI(t, "", ranged("0-1")...)
	t.Logf("resumed:\n%s\n%s", out, errOut)
	if code != 0 || !strings.Contains(errOut, "Resuming from checkpoint") {
		t.Fatalf("resumed rotate: exit status %d", code)
	}
	second := summary(t, out)
	code, out, errOut = runCLI(t, "", ranged("2-3")...)
	t.Logf("segments 2-3:\n%s\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("segments 2-3: exit status %d", code)
	}
	third2 := summary(t, out)
	if got := second["rotated"] + third2["rotated"]; got != n {
		t.Errorf("the ranges rotated %d documents in all, want %d", got, n)
	}
	if third2["rotated"] < n/4 || second["rotated"] < n/4 {
		t.Errorf("the ranges rotated %d and %d documents: not split by _id", second["rotated"], third2["rotated"])
	}
	code, out, _ = runCLI(t, "", "rotate", "status", dir)
	t.Logf("status:\n%s", out)
	if code != 0 || !strings.Contains(out, "Segments done: 4 of 4 (complete).") || !strings.Contains(out, "Rotation of mongodb:"+ns) {
		t.Errorf("status: exit status %d", code)
	}
	check(providerOf(t, ks))
	assertNoKeys(t, "rotate output", out+stdout.String()+stderr.String(), append(keyMaterial(t, keys), keysetKeys(t, ks)...))
	if strings.Contains(stdout.String()+stderr.String(), "ssn-") || strings.Contains(stdout.String()+stderr.String(), "secret ") {
		t.Error("rotate output shows document values")
	}
}
