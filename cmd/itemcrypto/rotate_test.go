package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyfile"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// rotateTable is a dynalite table of n items encrypted with a fresh
// keygen key file (wrapped provider), and the flags that describe it.
type rotateTable struct {
	client *dynamodb.Client
	name   string
	keys   string   // key file the items are under
	flags  []string // --table ... --endpoint ...
	plain  map[string]itemcrypto.Item
}

func newRotateTable(t *testing.T, n int) *rotateTable {
	t.Helper()
	c := testenv.DynamoDBClient(t)
	name := testenv.NewTable(t, c, "id", "S", "n", "N")
	rt := &rotateTable{client: c, name: name, keys: keygen(t, "aes-hmac"), plain: map[string]itemcrypto.Item{}}
	rt.flags = []string{"--table", name, "--partition-key", "id", "--sort-key", "n", "--sign", "email", "--nothing", "views",
		"--endpoint", testenv.DynamoDBEndpoint(t)}
	enc := rt.encryptor(t, rt.wrapped(t))
	for i := range n {
		it := itemcrypto.Item{
			"id":     &types.AttributeValueMemberS{Value: fmt.Sprintf("c-%04d", i/2)},
			"n":      &types.AttributeValueMemberN{Value: strconv.Itoa(i % 2)},
			"secret": &types.AttributeValueMemberS{Value: fmt.Sprintf("secret %d", i)},
			"email":  &types.AttributeValueMemberS{Value: fmt.Sprintf("c%d@example.com", i)},
			"views":  &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
		}
		stored, err := enc.Encrypt(t.Context(), it)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(name), Item: stored}); err != nil {
			t.Fatal(err)
		}
		rt.plain[itemKey(it)] = it
	}
	return rt
}

func itemKey(it itemcrypto.Item) string {
	return it["id"].(*types.AttributeValueMemberS).Value + "/" + it["n"].(*types.AttributeValueMemberN).Value
}

func (rt *rotateTable) wrapped(t *testing.T) cmp.Provider {
	t.Helper()
	return wrappedFromFile(t, rt.keys)
}

// wrappedFromFile is the wrapped provider of a key file.
func wrappedFromFile(t *testing.T, path string) cmp.Provider {
	t.Helper()
	k, err := loadKeyFile(path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p, err := k.Provider(keyfile.Wrapped)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (rt *rotateTable) encryptor(t *testing.T, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	f := cryptFlags{table: rt.name, partitionKey: "id", sortKey: "n", defaultAction: "encrypt", sign: []string{"email"}, nothing: []string{"views"}}
	pol, err := f.policy()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: rt.name, Policy: pol, Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// checkUnder checks that every item decrypts under enc to its plaintext.
func (rt *rotateTable) checkUnder(t *testing.T, enc *itemcrypto.Encryptor) {
	t.Helper()
	out, err := rt.client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(rt.name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != len(rt.plain) || out.LastEvaluatedKey != nil {
		t.Fatalf("table holds %d items (one page), want %d", len(out.Items), len(rt.plain))
	}
	for _, s := range out.Items {
		got, err := enc.Decrypt(t.Context(), s)
		if err != nil {
			t.Fatalf("item %s does not decrypt under the target: %v", itemKey(s), err)
		}
		if !equalItems(got, rt.plain[itemKey(s)]) {
			t.Fatalf("item %s decrypts to another plaintext", itemKey(s))
		}
	}
}

func (rt *rotateTable) rotate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLI(t, "", append(append([]string{"rotate"}, rt.flags...), args...)...)
}

func newKeysetFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyset.json")
	mustKeysetCLI(t, path, "new", "--out", path, "--insecure")
	return path
}

func keysetEncryptor(t *testing.T, rt *rotateTable, path string) *itemcrypto.Encryptor {
	t.Helper()
	return rt.encryptor(t, providerOf(t, path))
}

// providerOf is the Tink provider of a keyset file.
func providerOf(t testing.TB, path string) cmp.Provider {
	t.Helper()
	h, err := readKeysetFile(path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tinkcmp.New(h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var summaryLine = regexp.MustCompile(`(?m)^  (rotated|would rotate|already current|conflicts|failures):\s+(\d+)$`)

// summary parses the counts of the summary on stdout.
func summary(t *testing.T, stdout string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, g := range summaryLine.FindAllStringSubmatch(stdout, -1) {
		m[g[1]], _ = strconv.Atoi(g[2])
	}
	if len(m) != 4 {
		t.Fatalf("no summary of four counts in stdout:\n%s", stdout)
	}
	return m
}

func wantSummary(t *testing.T, what, stdout string, want map[string]int) {
	t.Helper()
	got := summary(t, stdout)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s %d, want %d\nstdout:\n%s", what, k, got[k], v, stdout)
		}
	}
}

// TestRotateCLI moves a table from a keygen key file to a keyset file.
func TestRotateCLI(t *testing.T) {
	rt := newRotateTable(t, 200)
	ks := newKeysetFile(t)
	cp := filepath.Join(t.TempDir(), "rotate.checkpoint")
	secrets := append(keyMaterial(t, rt.keys), keysetKeys(t, ks)...)

	// A dry run first: it changes nothing.
	code, out, errOut := rt.rotate(t, "--from-keys", rt.keys, "--to-keyset", ks, "--insecure", "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit status %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	wantSummary(t, "dry run", out, map[string]int{"would rotate": 200, "already current": 0, "conflicts": 0, "failures": 0})
	if !strings.Contains(out, "nothing was written") {
		t.Errorf("dry run summary does not say nothing was written:\n%s", out)
	}
	rt.checkUnder(t, rt.encryptor(t, rt.wrapped(t)))

	code, out, errOut = rt.rotate(t, "--from-keys", rt.keys, "--to-keyset", ks, "--insecure", "--checkpoint", cp, "--segments", "2")
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("rotate: exit status %d", code)
	}
	wantSummary(t, "rotate", out, map[string]int{"rotated": 200, "already current": 0, "conflicts": 0, "failures": 0})
	if !strings.HasPrefix(errOut, "Rotating table "+rt.name+" from wrapped keys ") {
		t.Errorf("stderr does not start with what is rotated:\n%s", errOut)
	}
	// Not a terminal: a log line every tenth of the table.
	logs := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d rotate \S+: \d+/200 items \(\d+%\)(, ETA \S+)?, \d+ items/s: \d+ rotated, \d+ already current, 0 conflicts, 0 failures$`).FindAllString(errOut, -1)
	if len(logs) < 5 || len(logs) > 12 {
		t.Errorf("%d progress log lines, want about 10", len(logs))
	}
	if !strings.Contains(logs[len(logs)-1], " 200/200 items (100%)") {
		t.Errorf("last log line %q is not at 100%%", logs[len(logs)-1])
	}
	if _, err := os.Stat(cp); !os.IsNotExist(err) {
		t.Errorf("checkpoint left after a finished run: %v", err)
	}
	for _, s := range []string{out, errOut} {
		assertNoKeys(t, "rotate output", s, secrets)
		if strings.Contains(s, "secret ") || strings.Contains(s, "@example.com") {
			t.Errorf("rotate output shows item values")
		}
	}
	rt.checkUnder(t, keysetEncryptor(t, rt, ks))

	// Again: all current.
	code, out, _ = rt.rotate(t, "--from-keys", rt.keys, "--to-keyset", ks, "--insecure", "--checkpoint", cp)
	if code != 0 {
		t.Fatalf("second rotate: exit status %d", code)
	}
	wantSummary(t, "second rotate", out, map[string]int{"rotated": 0, "already current": 200})

	// Rotate the keyset's primary and move the items to it: same file on
	// both sides.
	mustKeysetCLI(t, ks, "rotate", ks, "--insecure")
	code, out, errOut = rt.rotate(t, "--from-keyset", ks, "--to-keyset", ks, "--insecure", "--checkpoint", cp)
	if code != 0 {
		t.Fatalf("keyset rotate: exit status %d\n%s\n%s", code, out, errOut)
	}
	wantSummary(t, "keyset rotate", out, map[string]int{"rotated": 200, "already current": 0})
	keys := listKeys(t, ks)
	var old uint32
	for _, k := range keys {
		if !k.primary {
			old = k.id
		}
	}
	mustKeysetCLI(t, ks, "disable", ks, strconv.FormatUint(uint64(old), 10), "--insecure")
	rt.checkUnder(t, keysetEncryptor(t, rt, ks))

	// A tampered item: a failure named by its key, exit status 1.
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "c-0007"}, "n": &types.AttributeValueMemberN{Value: "1"}}
	_, err := rt.client.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
		TableName: aws.String(rt.name), Key: key,
		UpdateExpression:          aws.String("SET email = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberS{Value: "evil@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = rt.rotate(t, "--from-keys", rt.keys, "--to-keyset", ks, "--insecure", "--checkpoint", cp)
	if code != 1 {
		t.Errorf("rotate with a tampered item: exit status %d, want 1", code)
	}
	wantSummary(t, "tampered", out, map[string]int{"rotated": 0, "already current": 199, "failures": 1})
	if !strings.Contains(out, `{"id":{"S":"c-0007"},"n":{"N":"1"}}: verifies under neither`) {
		t.Errorf("the failure is not reported with its key:\n%s", out)
	}
	if strings.Contains(out, "evil") {
		t.Errorf("the report shows a value")
	}
}

func TestRotateCLIErrors(t *testing.T) {
	keys := keygen(t, "aes-hmac")
	ks := newKeysetFile(t)
	base := []string{"rotate", "--table", "t", "--partition-key", "id", "--no-sort-key", "--endpoint", "http://127.0.0.1:1"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no source", []string{"--to-keys", keys}, "name the keys to rotate from: --from-keys FILE, --from-keyset FILE, --from-metastore TABLE --from-material NAME, or --from-kms-key KEY"},
		{"no target", []string{"--from-keys", keys}, "name the keys to rotate to: --to-keys FILE"},
		{"both", []string{"--from-keys", keys, "--from-keyset", ks, "--to-keys", keys}, "--from-keys and --from-keyset exclude each other"},
		{"two sources", []string{"--from-metastore", "meta", "--from-material", "m", "--from-kms-key", "k", "--metastore-keys", keys, "--to-keys", keys},
			"--from-metastore and --from-kms-key exclude each other"},
		{"two targets", []string{"--from-keys", keys, "--to-keys", keys, "--to-kms-key", "k"}, "--to-keys and --to-kms-key exclude each other"},
		{"material alone", []string{"--from-keys", keys, "--to-material", "m"}, "--to-material needs --to-metastore"},
		{"no material", []string{"--from-keys", keys, "--to-metastore", "meta", "--metastore-keys", keys}, "--to-metastore needs --to-material"},
		{"no metastore keys", []string{"--from-keys", keys, "--to-metastore", "meta", "--to-material", "m"}, "needs --metastore-keys FILE"},
		{"unused metastore keys", []string{"--from-keys", keys, "--to-keys", keys, "--metastore-keys", keys}, "--metastore-keys is for"},
		{"unused kms endpoint", []string{"--from-keys", keys, "--to-keys", keys, "--kms-endpoint", "http://127.0.0.1:1"}, "--kms-endpoint is for"},
		{"new version without metastore", []string{"--from-keys", keys, "--to-keys", keys, "--new-version"}, "it needs --to-metastore"},
		{"new version dry run", []string{"--from-metastore", "meta", "--from-material", "m", "--to-metastore", "meta", "--to-material", "m",
			"--metastore-keys", keys, "--new-version", "--dry-run"}, "not with --dry-run"},
		{"kms alias", []string{"--from-kms-key", "k", "--to-kms-key", "alias/new"}, "not an alias"},
		{"kms endpoint", []string{"--from-keys", keys, "--to-kms-key", "k", "--kms-endpoint", "127.0.0.1:1"}, "--kms-endpoint \"127.0.0.1:1\" is not an http(s) URL"},
		{"insecure", []string{"--from-keys", keys, "--to-keyset", ks}, "pass --insecure"},
		{"provider", []string{"--from-keys", keys, "--from-provider", "magic", "--to-keys", keys}, "unknown provider"},
		{"noop", []string{"--from-keys", keys, "--to-keys", keys, "--default-action", "nothing"}, "nothing to rotate"},
		{"segments", []string{"--from-keys", keys, "--to-keys", keys, "--segments", "0"}, "--segments"},
		{"endpoint", []string{"--from-keys", keys, "--to-keys", keys, "--endpoint", "localhost:8000"}, "not an http(s) URL"},
		{"unreachable", []string{"--from-keys", keys, "--to-keys", keys, "--checkpoint", filepath.Join(t.TempDir(), "cp")}, "DescribeTable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", append(base, tc.args...)...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit status %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer for concurrent writers that calls onWrite
// after each write.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	onWrite func(string)
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, err := b.buf.Write(p)
	s := b.buf.String()
	b.mu.Unlock()
	if b.onWrite != nil {
		b.onWrite(s)
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRotateCLIInterrupt sends the process SIGINT half way: rotate saves its
// checkpoint and exits 1; the same command then resumes and finishes.
func TestRotateCLIInterrupt(t *testing.T) {
	rt := newRotateTable(t, 600)
	ks := newKeysetFile(t)
	cp := filepath.Join(t.TempDir(), "rotate.checkpoint")
	args := append(append([]string{"rotate"}, rt.flags...), "--from-keys", rt.keys, "--to-keyset", ks, "--insecure",
		"--checkpoint", cp, "--rate", "600", "--segments", "2")

	// While this test runs, SIGINT must never end the test binary.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, os.Interrupt)
	defer signal.Stop(guard)

	var once sync.Once
	stderr := &syncBuffer{onWrite: func(s string) {
		if strings.Contains(s, "/600 items (30%)") {
			once.Do(func() { syscall.Kill(os.Getpid(), syscall.SIGINT) })
		}
	}}
	var stdout bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, stderr)
	t.Logf("interrupted run:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	if code != 1 {
		t.Fatalf("interrupted rotate: exit status %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "interrupted; rerun to resume (checkpoint "+cp+")") {
		t.Errorf("stderr does not say how to resume")
	}
	first := summary(t, stdout.String())
	if first["rotated"] < 180 || first["rotated"] >= 600 {
		t.Errorf("interrupted run rotated %d items, want about 180", first["rotated"])
	}
	if _, err := os.Stat(cp); err != nil {
		t.Fatalf("no checkpoint after the interruption: %v", err)
	}

	code, out, errOut := runCLI(t, "", args...)
	t.Logf("resumed run:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("resumed rotate: exit status %d", code)
	}
	if !strings.Contains(errOut, "Resuming from checkpoint "+cp) || !strings.Contains(out, "with the runs before, 600 items") {
		t.Errorf("the second run does not say it resumed")
	}
	wantSummary(t, "resumed", out, map[string]int{"rotated": 600, "already current": 0, "conflicts": 0, "failures": 0})
	if _, err := os.Stat(cp); !os.IsNotExist(err) {
		t.Errorf("checkpoint left after a finished run: %v", err)
	}
	rt.checkUnder(t, keysetEncryptor(t, rt, ks))
}

func equalItems(a, b itemcrypto.Item) bool {
	return ddbjson.EqualItems(a, b, ddbserial.CanonicalNumber)
}

// metaIDs returns the amzn-ddb-meta-id of every item of the table.
func (rt *rotateTable) metaIDs(t *testing.T) map[string]string {
	t.Helper()
	out, err := rt.client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(rt.name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, s := range out.Items {
		d, err := materialdesc.Decode(s[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
		if err != nil {
			t.Fatal(err)
		}
		ids[itemKey(s)] = d[materialdesc.KeyMetaID]
	}
	return ids
}

func wantMetaIDs(t *testing.T, rt *rotateTable, want string) {
	t.Helper()
	ids := rt.metaIDs(t)
	if len(ids) != len(rt.plain) {
		t.Fatalf("%d items, want %d", len(ids), len(rt.plain))
	}
	for k, id := range ids {
		if id != want {
			t.Fatalf("item %s has amzn-ddb-meta-id %q, want %q", k, id, want)
		}
	}
}

// newMetaTable creates an empty meta table, deleted when the test ends.
func newMetaTable(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := testenv.TableName(t)
	return testenv.CreatedTable(t, c, name, func(ctx context.Context) error {
		return metastore.CreateTable(ctx, c, name)
	})
}

// mostRecent is a MostRecent provider over the meta table, protected by the
// wrapped provider of the key file metaKeys, as rotate builds it.
func mostRecent(t *testing.T, c *dynamodb.Client, meta, metaKeys, material string) (*cmp.MostRecent, *metastore.Store) {
	t.Helper()
	store, err := metastore.New(c, meta, wrappedFromFile(t, metaKeys))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: material, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return p, store
}

// TestRotateCLIMostRecent moves a table from a key file to a MostRecent
// material in a meta table, then to the material's next version with
// --new-version.
func TestRotateCLIMostRecent(t *testing.T) {
	rt := newRotateTable(t, 100)
	meta := newMetaTable(t, rt.client)
	metaKeys := keygen(t, "aes-hmac")
	cp := filepath.Join(t.TempDir(), "rotate.checkpoint")
	mr := []string{"--metastore-keys", metaKeys, "--checkpoint", cp}
	secrets := append(keyMaterial(t, rt.keys), keyMaterial(t, metaKeys)...)

	// Key file -> MostRecent: the material has no version yet; the target
	// creates version 0.
	code, out, errOut := rt.rotate(t, append([]string{"--from-keys", rt.keys, "--to-metastore", meta, "--to-material", "orders"}, mr...)...)
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("rotate to MostRecent: exit status %d", code)
	}
	wantSummary(t, "to MostRecent", out, map[string]int{"rotated": 100, "already current": 0, "conflicts": 0, "failures": 0})
	if !strings.Contains(errOut, "to MostRecent material orders in meta table "+meta) {
		t.Errorf("stderr does not name the target")
	}
	p, store := mostRecent(t, rt.client, meta, metaKeys, "orders")
	rt.checkUnder(t, rt.encryptor(t, p))
	wantMetaIDs(t, rt, "orders#0")

	// Version bump: the same material on both sides, --new-version.
	bump := append([]string{"--from-metastore", meta, "--from-material", "orders", "--to-metastore", meta, "--to-material", "orders"}, mr...)
	code, out, errOut = rt.rotate(t, append(bump, "--new-version")...)
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("rotate --new-version: exit status %d", code)
	}
	if !strings.Contains(errOut, "Created version 1 of material orders in meta table "+meta) {
		t.Errorf("stderr does not say which version was created")
	}
	wantSummary(t, "new version", out, map[string]int{"rotated": 100, "already current": 0, "conflicts": 0, "failures": 0})
	wantMetaIDs(t, rt, "orders#1")
	p, _ = mostRecent(t, rt.client, meta, metaKeys, "orders")
	rt.checkUnder(t, rt.encryptor(t, p))
	for _, s := range []string{out, errOut} {
		assertNoKeys(t, "rotate output", s, secrets)
	}

	// Without --new-version: everything is current.
	code, out, _ = rt.rotate(t, bump...)
	if code != 0 {
		t.Fatalf("rerun: exit status %d", code)
	}
	wantSummary(t, "rerun", out, map[string]int{"rotated": 0, "already current": 100})

	// A checkpoint of an interrupted run: --new-version refuses, and creates
	// no version.
	if err := os.WriteFile(cp, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = rt.rotate(t, append(bump, "--new-version")...)
	if code != 1 || !strings.Contains(errOut, "rerun without --new-version to resume") {
		t.Errorf("--new-version with a checkpoint: exit status %d, stderr %q", code, errOut)
	}
	if v, err := store.MaxVersion(t.Context(), "orders"); err != nil || v != 1 {
		t.Errorf("MaxVersion = %d, %v; want 1", v, err)
	}
}

// TestRotateCLIDirectKMS moves a table from a key file to Direct KMS over a
// fake KMS, then from one KMS key to another.
func TestRotateCLIDirectKMS(t *testing.T) {
	rt := newRotateTable(t, 60)
	srv := kmstest.NewServer(t)
	_, arn1 := srv.CreateKey()
	_, arn2 := srv.CreateKey()
	kmsEnc := func(arn string) *itemcrypto.Encryptor {
		p, err := cmp.NewDirectKMS(cmp.DirectKMSConfig{KMS: awskms.New(srv.Client()), KeyID: arn})
		if err != nil {
			t.Fatal(err)
		}
		return rt.encryptor(t, p)
	}
	cp := []string{"--checkpoint", filepath.Join(t.TempDir(), "rotate.checkpoint"), "--kms-endpoint", srv.URL()}

	code, out, errOut := rt.rotate(t, append([]string{"--from-keys", rt.keys, "--to-kms-key", arn1}, cp...)...)
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("rotate to Direct KMS: exit status %d", code)
	}
	wantSummary(t, "to KMS", out, map[string]int{"rotated": 60, "already current": 0, "conflicts": 0, "failures": 0})
	if !strings.Contains(errOut, "to Direct KMS key "+arn1) {
		t.Errorf("stderr does not name the target")
	}
	rt.checkUnder(t, kmsEnc(arn1))
	if n := len(srv.CallsFor("GenerateDataKey")); n < 60 {
		t.Errorf("%d GenerateDataKey calls, want at least 60", n)
	}

	code, out, _ = rt.rotate(t, append([]string{"--from-keys", rt.keys, "--to-kms-key", arn1}, cp...)...)
	if code != 0 {
		t.Fatalf("rerun: exit status %d", code)
	}
	wantSummary(t, "rerun", out, map[string]int{"rotated": 0, "already current": 60})

	// To another KMS key: the items of the first do not verify under the
	// second (its key ARN is checked on decrypt), so they all move.
	code, out, errOut = rt.rotate(t, append([]string{"--from-kms-key", arn1, "--to-kms-key", arn2}, cp...)...)
	if code != 0 {
		t.Fatalf("KMS to KMS: exit status %d\n%s\n%s", code, out, errOut)
	}
	wantSummary(t, "KMS to KMS", out, map[string]int{"rotated": 60, "already current": 0, "failures": 0})
	rt.checkUnder(t, kmsEnc(arn2))
}
