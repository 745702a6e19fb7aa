package rotate_test

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"golang.org/x/sync/errgroup"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
	"github.com/itemcrypto/go-itemcrypto/rotate"
)

// The tables of these tests: partition key "pk" (S), sort key "sk" (N);
// "payload" encrypted, "email" signed, "views" left alone.
const (
	pkName = "pk"
	skName = "sk"
)

func policy(t testing.TB) *actions.Policy {
	t.Helper()
	p, err := actions.New(actions.Options{
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"email": actions.SignOnly, "views": actions.DoNothing},
		PartitionKey: pkName,
		SortKey:      skName,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := crand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func wrappedProvider(t testing.TB) cmp.Provider {
	t.Helper()
	kek, err := cmp.NewAESKey(randBytes(t, 32))
	if err != nil {
		t.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", randBytes(t, 32))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newKeyset(t testing.TB) *keyset.Handle {
	t.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func tinkProvider(t testing.TB, h *keyset.Handle) *tinkcmp.Provider {
	t.Helper()
	p, err := tinkcmp.New(h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func encryptor(t testing.TB, table string, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	e, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: policy(t), Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// keyString identifies an item in the tests' maps.
func keyString(item map[string]types.AttributeValue) string {
	return item[pkName].(*types.AttributeValueMemberS).Value + "/" + item[skName].(*types.AttributeValueMemberN).Value
}

func plainItem(t testing.TB, i int, version string) itemcrypto.Item {
	return itemcrypto.Item{
		pkName:    &types.AttributeValueMemberS{Value: fmt.Sprintf("user-%05d", i/3)},
		skName:    &types.AttributeValueMemberN{Value: strconv.Itoa(i % 3)},
		"payload": &types.AttributeValueMemberB{Value: randBytes(t, 64)},
		"name":    &types.AttributeValueMemberS{Value: fmt.Sprintf("name %d %s", i, version)},
		"email":   &types.AttributeValueMemberS{Value: fmt.Sprintf("u%d@example.com", i)},
		"views":   &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
	}
}

// fill writes n items encrypted by enc and returns their plaintexts by key.
func fill(t testing.TB, c *dynamodb.Client, table string, enc *itemcrypto.Encryptor, n int) map[string]itemcrypto.Item {
	t.Helper()
	ctx := t.Context()
	plain := make(map[string]itemcrypto.Item, n)
	var reqs []types.WriteRequest
	for i := range n {
		it := plainItem(t, i, "v1")
		plain[keyString(it)] = it
		stored, err := enc.Encrypt(ctx, it)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: stored}})
	}
	var g errgroup.Group
	g.SetLimit(8)
	for batch := range slices.Chunk(reqs, 25) {
		g.Go(func() error {
			pending := map[string][]types.WriteRequest{table: batch}
			for len(pending[table]) > 0 {
				out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
				if err != nil {
					return err
				}
				pending = out.UnprocessedItems
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("BatchWriteItem: %v", err)
	}
	return plain
}

// scanAll returns every stored item of table by key.
func scanAll(t testing.TB, c *dynamodb.Client, table string) map[string]itemcrypto.Item {
	t.Helper()
	out := map[string]itemcrypto.Item{}
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		for _, it := range page.Items {
			out[keyString(it)] = it
		}
	}
	return out
}

func equalItems(a, b itemcrypto.Item) bool {
	return ddbjson.EqualItems(a, b, ddbserial.CanonicalNumber)
}

// checkAllUnder checks that every stored item decrypts under enc to its
// plaintext in want, and that no item is missing or extra.
func checkAllUnder(t *testing.T, c *dynamodb.Client, table string, enc *itemcrypto.Encryptor, want map[string]itemcrypto.Item) {
	t.Helper()
	stored := scanAll(t, c, table)
	if len(stored) != len(want) {
		t.Errorf("table holds %d items, want %d", len(stored), len(want))
	}
	bad := 0
	for k, w := range want {
		s, ok := stored[k]
		if !ok {
			t.Errorf("item %s is gone", k)
			continue
		}
		got, err := enc.Decrypt(t.Context(), s)
		if err != nil {
			if bad++; bad <= 5 {
				t.Errorf("item %s does not decrypt under the target: %v", k, err)
			}
			continue
		}
		if !equalItems(got, w) {
			if bad++; bad <= 5 {
				t.Errorf("item %s decrypts to another plaintext", k)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d items are not readable under the target as they were", bad, len(want))
	}
}

func checkCounts(t *testing.T, what string, got rotate.Stats, scanned, rotated, current, conflicts, failed int64) {
	t.Helper()
	if got.Scanned != scanned || got.Rotated != rotated || got.Current != current || got.Conflicts != conflicts || got.Failed != failed {
		t.Errorf("%s: scanned %d, rotated %d, current %d, conflicts %d, failed %d; want %d, %d, %d, %d, %d",
			what, got.Scanned, got.Rotated, got.Current, got.Conflicts, got.Failed, scanned, rotated, current, conflicts, failed)
	}
}

// TestRotateWrappedToTink is the main case: thousands of items move from a
// Wrapped AES provider to a Tink keyset provider; a second run finds them
// all current.
func TestRotateWrappedToTink(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	const n = 3000
	want := fill(t, c, table, source, n)

	var calls atomic.Int64
	st, err := rotate.Run(t.Context(), c, rotate.Config{
		Table: table, Source: source, Target: target,
		Checkpoint: filepath.Join(t.TempDir(), "cp.json"),
		Progress:   func(rotate.Stats) { calls.Add(1) },
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("rotated %d items in %v: %.0f items/s (%d segments, -race=%v)", st.ScannedThisRun, st.Elapsed.Round(time.Millisecond), st.Rate(), rotate.DefaultSegments, raceEnabled)
	checkCounts(t, "first run", st, n, n, 0, 0, 0)
	if st.Total != n {
		t.Errorf("Total = %d, want %d (counted: dynalite's DescribeTable reports 0)", st.Total, n)
	}
	if calls.Load() != n {
		t.Errorf("Progress called %d times, want %d", calls.Load(), n)
	}
	checkAllUnder(t, c, table, target, want)
	// And the source no longer reads them.
	for k, s := range scanAll(t, c, table) {
		if _, err := source.Decrypt(t.Context(), s); err == nil {
			t.Fatalf("item %s still decrypts under the source", k)
		}
		break
	}

	st, err = rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target})
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	checkCounts(t, "second run", st, n, 0, n, 0, 0)
}

// TestRotateInterruptResume cancels a run half way, then resumes it from
// its checkpoint.
func TestRotateInterruptResume(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	const n = 3000
	want := fill(t, c, table, source, n)
	cp := filepath.Join(t.TempDir(), "rotate.checkpoint")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg := rotate.Config{
		Table: table, Source: source, Target: target, Checkpoint: cp, PageSize: 100,
		Progress: func(s rotate.Stats) {
			if s.Scanned >= n/2 {
				cancel()
			}
		},
	}
	first, err := rotate.Run(ctx, c, cfg)
	if !errors.Is(err, rotate.ErrInterrupted) {
		t.Fatalf("interrupted Run: got %v, want ErrInterrupted", err)
	}
	t.Logf("first run stopped after %d items (rotated %d)", first.Scanned, first.Rotated)
	if first.Scanned < n/2 || first.Scanned >= n {
		t.Errorf("first run processed %d items, want about %d", first.Scanned, n/2)
	}
	if _, err := os.Stat(cp); err != nil {
		t.Fatalf("no checkpoint after the interruption: %v", err)
	}
	// The checkpoint's counts are exact: the items rotated so far are
	// exactly those the target reads.
	underTarget := 0
	for _, s := range scanAll(t, c, table) {
		if _, err := target.Decrypt(t.Context(), s); err == nil {
			underTarget++
		}
	}
	if int64(underTarget) != first.Rotated {
		t.Errorf("%d items are under the target after the interruption, the run counted %d", underTarget, first.Rotated)
	}

	cfg.Progress = nil
	second, err := rotate.Run(t.Context(), c, cfg)
	if err != nil {
		t.Fatalf("resumed Run: %v", err)
	}
	if !second.Resumed {
		t.Error("second run did not resume")
	}
	if second.ScannedThisRun != n-first.Scanned {
		t.Errorf("resumed run processed %d items, want the %d left", second.ScannedThisRun, n-first.Scanned)
	}
	checkCounts(t, "after resuming", second, n, n, 0, 0, 0)
	if _, err := os.Stat(cp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoint still there after the run finished: %v", err)
	}
	checkAllUnder(t, c, table, target, want)
}

// racingAPI lets a concurrent writer get in between the rotation's read and
// its write-back: before forwarding the rotation's write of an item that
// race selects, it runs the writer's change to that item first.
type racingAPI struct {
	rotate.API
	race func(ctx context.Context, key map[string]types.AttributeValue)
}

func (a racingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	a.race(ctx, in.Key)
	return a.API.UpdateItem(ctx, in, optFns...)
}

// TestRotateConcurrentWriter races a writer with the rotation: it rewrites
// items with the source encryptor all along (and, deterministically, right
// between the rotation's read and write of every 20th item), and deletes a
// few. No write of it is lost, no deleted item comes back, and every
// conflict is reported with its key.
func TestRotateConcurrentWriter(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	const n = 2000
	want := fill(t, c, table, source, n)
	keys := make([]string, 0, n)
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	var mu sync.Mutex // guards want, raced, deleted
	raced := map[string]bool{}
	deleted := map[string]bool{}
	version := 1
	rewrite := func(ctx context.Context, k string) error {
		mu.Lock()
		defer mu.Unlock()
		if deleted[k] {
			return nil
		}
		version++
		it := plainItem(t, 0, "v"+strconv.Itoa(version))
		pk, sk, _ := strings.Cut(k, "/")
		it[pkName] = &types.AttributeValueMemberS{Value: pk}
		it[skName] = &types.AttributeValueMemberN{Value: sk}
		stored, err := source.Encrypt(ctx, it)
		if err != nil {
			return err
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: stored}); err != nil {
			return err
		}
		want[k] = it
		return nil
	}
	var seen atomic.Int64
	api := racingAPI{API: c, race: func(ctx context.Context, key map[string]types.AttributeValue) {
		k := keyString(key)
		switch i := seen.Add(1); {
		case i%20 == 0:
			if err := rewrite(ctx, k); err != nil {
				t.Errorf("writer: %v", err)
			}
			mu.Lock()
			raced[k] = true
			mu.Unlock()
		case i%97 == 0:
			mu.Lock()
			defer mu.Unlock()
			if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key}); err != nil {
				t.Errorf("deleting: %v", err)
			}
			deleted[k], raced[k] = true, true
			delete(want, k)
		}
	}}

	// The free-running writer.
	ctx, stop := context.WithCancel(t.Context())
	writerDone := make(chan int)
	go func() {
		writes := 0
		for ctx.Err() == nil {
			// Each write runs to its end: a cancelled write might still be
			// applied without the writer knowing it.
			if err := rewrite(context.WithoutCancel(ctx), keys[rand.IntN(len(keys))]); err != nil {
				t.Errorf("writer: %v", err)
				break
			}
			writes++
		}
		writerDone <- writes
	}()

	st, err := rotate.Run(t.Context(), api, rotate.Config{Table: table, Source: source, Target: target})
	stop()
	writes := <-writerDone
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("rotated %d, current %d, conflicts %d, failed %d; the free-running writer wrote %d times", st.Rotated, st.Current, st.Conflicts, st.Failed, writes)
	if st.Scanned != n || st.Failed != 0 {
		t.Errorf("scanned %d, failed %d; want %d, 0", st.Scanned, st.Failed, n)
	}
	if st.Conflicts < int64(len(raced)) {
		t.Errorf("%d conflicts, want at least the %d raced items", st.Conflicts, len(raced))
	}
	if st.Rotated+st.Conflicts+st.Current != n {
		t.Errorf("rotated %d + conflicts %d + current %d != %d", st.Rotated, st.Conflicts, st.Current, n)
	}
	reported := map[string]bool{}
	for _, is := range st.ConflictKeys {
		reported[keyString(is.Key)] = true
		if !strings.Contains(is.Reason, "another writer") {
			t.Errorf("conflict reason %q", is.Reason)
		}
	}
	for k := range raced {
		if !reported[k] {
			t.Errorf("raced item %s not reported as a conflict", k)
		}
	}

	// Nothing lost: every item holds its last write, under either key.
	stored := scanAll(t, c, table)
	if len(stored) != len(want) {
		t.Errorf("table holds %d items, want %d", len(stored), len(want))
	}
	for k := range deleted {
		if _, ok := stored[k]; ok {
			t.Errorf("deleted item %s came back", k)
		}
	}
	underSource := 0
	for k, w := range want {
		s, ok := stored[k]
		if !ok {
			t.Errorf("item %s is gone", k)
			continue
		}
		got, err := target.Decrypt(t.Context(), s)
		if err != nil {
			underSource++
			if got, err = source.Decrypt(t.Context(), s); err != nil {
				t.Errorf("item %s decrypts under neither key", k)
				continue
			}
		}
		if !equalItems(got, w) {
			t.Errorf("item %s does not hold its last write", k)
		}
	}
	if underSource == 0 {
		t.Error("no item left under the source: the writer never won a race")
	}

	// A rerun rotates what the writer left under the source.
	st, err = rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target})
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if st.Rotated != int64(underSource) || st.Conflicts != 0 || st.Failed != 0 {
		t.Errorf("rerun: rotated %d, conflicts %d, failed %d; want %d, 0, 0", st.Rotated, st.Conflicts, st.Failed, underSource)
	}
	checkAllUnder(t, c, table, target, want)
}

// TestRotateKeepsDoNothingUpdates: an update of a DoNothing attribute leaves
// the signature as it is, and the write-back must not undo it.
func TestRotateKeepsDoNothingUpdates(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	want := fill(t, c, table, source, 50)
	var mu sync.Mutex
	api := racingAPI{API: c, race: func(ctx context.Context, key map[string]types.AttributeValue) {
		_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: key,
			UpdateExpression:          aws.String("SET #v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": "views"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "1000000"}},
		})
		if err != nil {
			t.Errorf("UpdateItem: %v", err)
		}
		mu.Lock()
		want[keyString(key)]["views"] = &types.AttributeValueMemberN{Value: "1000000"}
		mu.Unlock()
	}}
	st, err := rotate.Run(t.Context(), api, rotate.Config{Table: table, Source: source, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "run", st, 50, 50, 0, 0, 0)
	checkAllUnder(t, c, table, target, want)
}

// TestRotateDryRun changes nothing and says what it would do.
func TestRotateDryRun(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	fill(t, c, table, source, 300)
	// A few items already under the target.
	for i := 300; i < 310; i++ {
		stored, err := target.Encrypt(t.Context(), plainItem(t, i, "v1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: stored}); err != nil {
			t.Fatal(err)
		}
	}
	before := scanAll(t, c, table)
	cp := filepath.Join(t.TempDir(), "cp")
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target, DryRun: true, Checkpoint: cp})
	if err != nil {
		t.Fatal(err)
	}
	if !st.DryRun {
		t.Error("Stats.DryRun not set")
	}
	checkCounts(t, "dry run", st, 310, 300, 10, 0, 0)
	after := scanAll(t, c, table)
	if len(after) != len(before) {
		t.Fatalf("%d items before, %d after", len(before), len(after))
	}
	for k, b := range before {
		if !equalItems(b, after[k]) {
			t.Fatalf("dry run changed item %s", k)
		}
	}
	if _, err := os.Stat(cp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoint left after a finished dry run: %v", err)
	}
}

// TestRotateTampered: items that verify under neither key are failures
// named by their key, left as they are, and the run goes on.
func TestRotateTampered(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	const n = 200
	fill(t, c, table, source, n)
	stored := scanAll(t, c, table)
	tampered := map[string]itemcrypto.Item{}
	for _, k := range []string{"user-00003/0", "user-00020/2", "user-00050/1"} {
		it := stored[k]
		email := []byte(it["email"].(*types.AttributeValueMemberS).Value)
		email[0] ^= 0x01 // a signed attribute
		it["email"] = &types.AttributeValueMemberS{Value: string(email)}
		if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
		tampered[k] = it
	}
	// And one that was never encrypted.
	plain := plainItem(t, 1000, "plain")
	if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: plain}); err != nil {
		t.Fatal(err)
	}
	tampered[keyString(plain)] = plain

	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkCounts(t, "run", st, n+1, n-3, 0, 0, 4)
	var failed []string
	for _, is := range st.Failures {
		failed = append(failed, keyString(is.Key))
		if !strings.Contains(is.Reason, "neither") || strings.Contains(is.Reason, "example.com") {
			t.Errorf("failure reason %q", is.Reason)
		}
		if len(is.Key) != 2 {
			t.Errorf("failure names %v, want the key attributes only", is.Key)
		}
	}
	slices.Sort(failed)
	if want := []string{"user-00003/0", "user-00020/2", "user-00050/1", "user-00333/1"}; !slices.Equal(failed, want) {
		t.Errorf("failures %v, want %v", failed, want)
	}
	after := scanAll(t, c, table)
	for k, it := range tampered {
		if !equalItems(after[k], it) {
			t.Errorf("failed item %s was changed", k)
		}
	}
}

// TestRotateRateLimit: 200 items at 1000 items/s take at least ~200 ms.
func TestRotateRateLimit(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	fill(t, c, table, source, 200)
	start := time.Now()
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target, RateLimit: 1000, Segments: 2})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("200 items at 1000/s: %v (%.0f items/s)", el, st.Rate())
	if el < 150*time.Millisecond {
		t.Errorf("200 items at 1000 items/s took %v, want at least ~200ms", el)
	}
	checkCounts(t, "run", st, 200, 200, 0, 0, 0)
}

// TestRotateTinkPrimary rotates a Tink keyset's primary key N → N+1 with
// the same keyset as source and target: every item then names the new key,
// so the old one can be disabled.
func TestRotateTinkPrimary(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	h := newKeyset(t)
	old := h.KeysetInfo().GetPrimaryKeyId()
	const n = 300
	want := fill(t, c, table, encryptor(t, table, tinkProvider(t, h)), n)

	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPrimary(id); err != nil {
		t.Fatal(err)
	}
	rotated, err := m.Handle()
	if err != nil {
		t.Fatal(err)
	}
	enc := encryptor(t, table, tinkProvider(t, rotated))
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: enc, Target: enc})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "run", st, n, n, 0, 0, 0)
	for k, s := range scanAll(t, c, table) {
		d, err := materialdesc.Decode(s[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := tinkcmp.KeyID(d); got != id {
			t.Fatalf("item %s names key %d, want the new primary %d", k, got, id)
		}
	}
	if err := m.Disable(old); err != nil {
		t.Fatal(err)
	}
	disabled, err := m.Handle()
	if err != nil {
		t.Fatal(err)
	}
	checkAllUnder(t, c, table, encryptor(t, table, tinkProvider(t, disabled)), want)

	st, err = rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: enc, Target: enc})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "second run", st, n, 0, n, 0, 0)
}

// TestRotateMostRecentVersion moves items of a MostRecent provider to the
// material's new version after cmp.RotateProvider.
func TestRotateMostRecentVersion(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	store, err := metastore.NewMemory("meta", wrappedProvider(t))
	if err != nil {
		t.Fatal(err)
	}
	newMR := func() *cmp.MostRecent {
		p, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: "orders", TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const n = 200
	want := fill(t, c, table, encryptor(t, table, newMR()), n)
	v, err := cmp.RotateProvider(t.Context(), store, "orders")
	if err != nil || v != 1 {
		t.Fatalf("RotateProvider = %d, %v; want version 1", v, err)
	}
	enc := encryptor(t, table, newMR()) // a fresh cache: sees version 1
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: enc, Target: enc})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "run", st, n, n, 0, 0, 0)
	for k, s := range scanAll(t, c, table) {
		d, err := materialdesc.Decode(s[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
		if err != nil {
			t.Fatal(err)
		}
		if got := d[materialdesc.KeyMetaID]; got != "orders#1" {
			t.Fatalf("item %s has meta id %q, want orders#1", k, got)
		}
	}
	checkAllUnder(t, c, table, enc, want)
}

// TestRotateManyAttributes: an item whose update expression would exceed
// DynamoDB's 4 KB limit is written back with a conditional PutItem.
func TestRotateManyAttributes(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	it := plainItem(t, 0, "v1")
	for i := range 600 {
		it[fmt.Sprintf("attr%03d", i)] = &types.AttributeValueMemberN{Value: strconv.Itoa(i)}
	}
	stored, err := source.Encrypt(t.Context(), it)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: stored}); err != nil {
		t.Fatal(err)
	}
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "run", st, 1, 1, 0, 0, 0)
	checkAllUnder(t, c, table, target, map[string]itemcrypto.Item{keyString(it): it})
}

// TestRotateCheckpointMismatch refuses a checkpoint of another rotation.
func TestRotateCheckpointMismatch(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source := encryptor(t, table, wrappedProvider(t))
	target := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	fill(t, c, table, source, 100)
	cp := filepath.Join(t.TempDir(), "cp")
	ctx, cancel := context.WithCancel(t.Context())
	_, err := rotate.Run(ctx, c, rotate.Config{Table: table, Source: source, Target: target, Checkpoint: cp,
		Progress: func(rotate.Stats) { cancel() }})
	if !errors.Is(err, rotate.ErrInterrupted) {
		t.Fatalf("got %v, want ErrInterrupted", err)
	}
	// Another target key, or other segments: refused.
	other := encryptor(t, table, tinkProvider(t, newKeyset(t)))
	for name, cfg := range map[string]rotate.Config{
		"target":   {Table: table, Source: source, Target: other, Checkpoint: cp},
		"segments": {Table: table, Source: source, Target: target, Checkpoint: cp, Segments: 3},
		"dry-run":  {Table: table, Source: source, Target: target, Checkpoint: cp, DryRun: true},
	} {
		if _, err := rotate.Run(t.Context(), c, cfg); err == nil || !strings.Contains(err.Error(), "another rotation") {
			t.Errorf("%s: got %v, want a refusal", name, err)
		}
	}
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target, Checkpoint: cp})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "resumed", st, 100, 100, 0, 0, 0)
}

// BenchmarkRotate measures items/s of a rotation of 3000 items, Wrapped →
// Tink, by the number of segments.
func BenchmarkRotate(b *testing.B) {
	c := testenv.DynamoDBClient(b)
	for _, segs := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("segments=%d", segs), func(b *testing.B) {
			table := testenv.NewTable(b, c, pkName, "S", skName, "N")
			source := encryptor(b, table, wrappedProvider(b))
			const n = 3000
			fill(b, c, table, source, n)
			var total float64
			for b.Loop() {
				// Each round moves the table to a fresh keyset.
				target := encryptor(b, table, tinkProvider(b, newKeyset(b)))
				st, err := rotate.Run(b.Context(), c, rotate.Config{Table: table, Source: source, Target: target, Segments: segs})
				if err != nil || st.Rotated != n {
					b.Fatalf("Run: %v, rotated %d", err, st.Rotated)
				}
				total += float64(st.Rotated)
				source = target
			}
			b.ReportMetric(total/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// TestRotateKeepsBeacons: rotating DB-ESDK items to another keyring keeps
// their beacons (outside the signature, independent of the data key), and a
// rollback to the DDBEC format drops them.
func TestRotateKeepsBeacons(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	newKeyring := func(name string) keyring.Keyring {
		kr, err := keyring.NewRawAES("rotate-test", name, randBytes(t, 32))
		if err != nil {
			t.Fatal(err)
		}
		return kr
	}
	// format DDBEC with DBESDK set reads both formats and writes the DDBEC.
	newEncryptor := func(format itemcrypto.Format, kr keyring.Keyring, p cmp.Provider) *itemcrypto.Encryptor {
		e, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: policy(t), Format: format, Provider: p,
			DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"views"}}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	oldKR, newKR := newKeyring("old"), newKeyring("new")
	source, target := newEncryptor(itemcrypto.FormatDBESDK, oldKR, nil), newEncryptor(itemcrypto.FormatDBESDK, newKR, nil)
	const n = 30
	want := map[string]itemcrypto.Item{}
	beacons := map[string]string{}
	for i := range n {
		it := plainItem(t, i, "v1")
		stored, err := source.Encrypt(t.Context(), it)
		if err != nil {
			t.Fatal(err)
		}
		// What dynamodbenc adds for a table with beacons.
		beacons[keyString(it)] = fmt.Sprintf("%04x", i)
		stored["aws_dbe_b_email"] = &types.AttributeValueMemberS{Value: beacons[keyString(it)]}
		stored["aws_dbe_v_1"] = &types.AttributeValueMemberS{Value: " "}
		if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: stored}); err != nil {
			t.Fatal(err)
		}
		want[keyString(it)] = it
	}
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkCounts(t, "DB-ESDK to DB-ESDK", st, n, n, 0, 0, 0)
	checkAllUnder(t, c, table, target, want)
	for k, s := range scanAll(t, c, table) {
		b, ok := s["aws_dbe_b_email"].(*types.AttributeValueMemberS)
		if !ok || b.Value != beacons[k] {
			t.Fatalf("item %s: beacon %v after rotation, want %q", k, s["aws_dbe_b_email"], beacons[k])
		}
		if _, ok := s["aws_dbe_v_1"]; !ok {
			t.Fatalf("item %s: aws_dbe_v_1 gone", k)
		}
	}

	// Rollback to the DDBEC: the beacons go with the DB-ESDK attributes.
	back := newEncryptor(itemcrypto.FormatDDBEC, newKR, wrappedProvider(t))
	if _, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: target, Target: back}); err != nil {
		t.Fatalf("rollback Run: %v", err)
	}
	checkAllUnder(t, c, table, back, want)
	for k, s := range scanAll(t, c, table) {
		for name := range s {
			if strings.HasPrefix(name, "aws_dbe_") {
				t.Fatalf("item %s keeps %s after the rollback to the DDBEC", k, name)
			}
		}
	}
}
