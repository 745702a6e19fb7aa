package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
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
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyfile"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
	"github.com/itemcrypto/go-itemcrypto/rotate"
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
func wrappedFromFile(t testing.TB, path string) cmp.Provider {
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
func summary(t testing.TB, stdout string) map[string]int {
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

	// A tampered item: a failure named by its key, exit status 6.
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
	if code != exitPartial {
		t.Errorf("rotate with a tampered item: exit status %d, want 6", code)
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
		{"range without segments", []string{"--from-keys", keys, "--to-keys", keys, "--segment-range", "0-1"}, "--segment-range needs --segments N"},
		{"range beyond", []string{"--from-keys", keys, "--to-keys", keys, "--segments", "4", "--segment-range", "2-4"}, "the segments are 0-3"},
		{"range syntax", []string{"--from-keys", keys, "--to-keys", keys, "--segments", "4", "--segment-range", "3-1"}, "want FIRST-LAST"},
		{"page size", []string{"--from-keys", keys, "--to-keys", keys, "--page-size", "-1"}, "--page-size"},
		{"dbesdk keyset", []string{"--from-keys", keys, "--to-format", "dbesdk", "--to-keyset", ks, "--insecure"}, "--to-format dbesdk needs --to-keys FILE"},
		{"unknown format", []string{"--from-keys", keys, "--to-keys", keys, "--to-format", "xml"}, "--to-format"},
		{"suite without dbesdk", []string{"--from-keys", keys, "--to-keys", keys, "--to-suite", "0x6700"}, "--to-suite is for --to-format dbesdk"},
		{"table and mongo", []string{"--from-keys", keys, "--to-keys", keys, "--mongo", "mongodb://127.0.0.1:1/", "--collection", "d.c"}, "--table and --mongo exclude each other"},
		{"collection without mongo", []string{"--from-keys", keys, "--to-keys", keys, "--collection", "d.c"}, "--collection and --signing-name are for --mongo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", append(base, tc.args...)...)
			want := exitUsage
			if tc.name == "unreachable" {
				want = exitServer
			}
			if code != want || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit status %d, stderr %q; want %d and %q", code, errOut, want, tc.want)
			}
		})
	}
}

func TestRotateCLIMongoErrors(t *testing.T) {
	keys := keygen(t, "aes-hmac")
	mongo := []string{"rotate", "--from-keys", keys, "--to-keys", keys, "--mongo", "mongodb://127.0.0.1:1/"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing to rotate", []string{"rotate", "--from-keys", keys, "--to-keys", keys}, "name what to rotate: --table NAME (DynamoDB), or --mongo URI"},
		{"no collection", mongo, "--mongo needs --collection DATABASE.COLLECTION"},
		{"bad collection", append(mongo, "--collection", "nodot"), "want DATABASE.COLLECTION"},
		{"key flags", append(mongo, "--collection", "d.c", "--partition-key", "id"), "a collection's key is _id"},
		{"noop", append(mongo, "--collection", "d.c", "--default-action", "nothing"), "nothing to rotate"},
		{"new version", append(mongo, "--collection", "d.c", "--new-version"), "it needs --to-metastore"},
		{"beacon without key", append(mongo, "--collection", "d.c", "--to-format", "dbesdk", "--to-beacon", "email:8"), "--to-beacon needs --to-beacon-key FILE"},
		{"beacon key without beacon", append(mongo, "--collection", "d.c", "--to-format", "dbesdk", "--to-beacon-key", keys), "--to-beacon-key is for --to-beacon"},
		{"beacon on a DDBEC table", []string{"rotate", "--from-keys", keys, "--to-keys", keys, "--table", "t", "--to-beacon", "email:8", "--to-beacon-key", keys}, "--to-beacon needs --to-format dbesdk"},
		{"beacon to the DDBEC", append(mongo, "--collection", "d.c", "--to-beacon", "email:8", "--to-beacon-key", keys), "--to-beacon needs --to-format dbesdk"},
		{"beacon without length", append(mongo, "--collection", "d.c", "--to-format", "dbesdk", "--to-beacon", "email", "--to-beacon-key", keys), "want NAME:LENGTH or NAME:LENGTH:PATH"},
		{"beacon of 0 bits", append(mongo, "--collection", "d.c", "--to-format", "dbesdk", "--to-beacon", "email:0", "--to-beacon-key", keys), "LENGTH must be a number of bits from 1 to 63"},
		{"drop-beacons with beacons", append(mongo, "--collection", "d.c", "--to-format", "dbesdk", "--to-beacon", "email:8", "--to-beacon-key", keys, "--drop-beacons"), "--drop-beacons is for --mongo without --to-beacon"},
		{"beacon with an empty path", append(mongo, "--collection", "d.c", "--to-format", "dbesdk", "--to-beacon", "ssn:8:", "--to-beacon-key", keys), "want NAME:LENGTH or NAME:LENGTH:PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit status %d, stderr %q; want %d and %q", code, errOut, exitUsage, tc.want)
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

// runInterrupted runs the command tree in-process and sends the process
// SIGINT once stderr matches at: the first Ctrl-C of a user. The test
// binary itself ignores SIGINT meanwhile.
func runInterrupted(t *testing.T, at *regexp.Regexp, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, os.Interrupt)
	defer signal.Stop(guard)
	var once sync.Once
	errBuf := &syncBuffer{onWrite: func(s string) {
		if at.MatchString(s) {
			once.Do(func() { syscall.Kill(os.Getpid(), syscall.SIGINT) })
		}
	}}
	var outBuf bytes.Buffer
	code = run(args, strings.NewReader(""), &outBuf, errBuf)
	t.Logf("interrupted run (exit %d):\nstdout:\n%s\nstderr:\n%s", code, outBuf.String(), errBuf.String())
	return code, outBuf.String(), errBuf.String()
}

// TestRotateCLIInterrupt sends the process SIGINT half way: rotate saves its
// checkpoint and exits 1; the same command then resumes and finishes.
func TestRotateCLIInterrupt(t *testing.T) {
	rt := newRotateTable(t, 600)
	ks := newKeysetFile(t)
	cp := filepath.Join(t.TempDir(), "rotate.checkpoint")
	args := append(append([]string{"rotate"}, rt.flags...), "--from-keys", rt.keys, "--to-keyset", ks, "--insecure",
		"--checkpoint", cp, "--rate", "600", "--segments", "2")

	code, stdout, stderr := runInterrupted(t, regexp.MustCompile(`/600 items \(30%\)`), args...)
	if code != exitPartial {
		t.Fatalf("interrupted rotate: exit status %d, want 6", code)
	}
	if !strings.Contains(stderr, "interrupted; rerun to resume (checkpoint "+cp+")") {
		t.Errorf("stderr does not say how to resume")
	}
	first := summary(t, stdout)
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

// buildCLI builds the itemcrypto command into a temporary directory, for
// tests that run it as separate processes.
func buildCLI(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "itemcrypto")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cliProc is one itemcrypto process.
type cliProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	err            error
}

func startCLI(t testing.TB, bin string, args ...string) *cliProc {
	t.Helper()
	p := &cliProc{cmd: exec.Command(bin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process and returns its exit status (-1 when a
// signal ended it).
func (p *cliProc) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("itemcrypto %v did not finish\nstderr:\n%s", p.cmd.Args[1:], p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// TestRotateCLIProcesses splits one rotation over two processes (segments
// 0-1 and 2-3 of 4), kills the first with SIGKILL half way and starts it
// again, while a writer keeps rewriting items through dynamodbenc under the
// target keys. Every item ends up under the target, none is lost, every
// write of the writer is kept, and rotate status sees the whole table done.
func TestRotateCLIProcesses(t *testing.T) {
	bin := buildCLI(t)
	const n = 800
	rt := newRotateTable(t, n)
	ks := newKeysetFile(t)
	dir := t.TempDir()
	cpA, cpB := filepath.Join(dir, "a.checkpoint"), filepath.Join(dir, "b.checkpoint")
	common := append(append([]string{"rotate"}, rt.flags...), "--from-keys", rt.keys, "--to-keyset", ks, "--insecure",
		"--segments", "4", "--page-size", "20", "--rate", "200", "--log-every", "100ms")
	argsA := append(append([]string{}, common...), "--segment-range", "0-1", "--checkpoint", cpA)
	argsB := append(append([]string{}, common...), "--segment-range", "2-3", "--checkpoint", cpB)

	// The writer: the application, already moved to the target keys,
	// rewrites random items all along.
	target := keysetEncryptor(t, rt, ks)
	client, err := dynamodbenc.New(rt.client, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{rt.name: {
		Provider: providerOf(t, ks), Default: actions.EncryptAndSign, PartitionKey: "id", SortKey: "n",
		Overrides: map[string]actions.Action{"email": actions.SignOnly, "views": actions.DoNothing},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, n)
	for k := range rt.plain {
		keys = append(keys, k)
	}
	var mu sync.Mutex
	written := map[string]itemcrypto.Item{}
	ctx, stopWriter := context.WithCancel(t.Context())
	writerDone := make(chan error, 1)
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			k := keys[rand.IntN(len(keys))]
			it := cloneItem(rt.plain[k])
			it["secret"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("written %d", i)}
			mu.Lock() // one write at a time: the last one recorded is the last one made
			_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(rt.name), Item: it})
			if err == nil {
				written[k] = it
			}
			mu.Unlock()
			if err != nil {
				writerDone <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		writerDone <- nil
	}()

	a := startCLI(t, bin, argsA...)
	b := startCLI(t, bin, argsB...)
	// Kill A once it has written a checkpoint and done about a third.
	deadline := time.Now().Add(time.Minute)
	third := regexp.MustCompile(`items \(([3-9]\d)%\)`)
	for !third.MatchString(a.stderr.String()) || !fileExists(cpA) {
		if time.Now().After(deadline) {
			t.Fatalf("process A never got a third of the way\nstderr:\n%s", a.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := a.wait(t); code != -1 {
		t.Fatalf("killed process A: exit status %d, want death by signal\nstderr:\n%s", code, a.stderr.String())
	}
	t.Logf("process A killed:\n%s", a.stderr.String())
	a2 := startCLI(t, bin, argsA...)
	codeA, codeB := a2.wait(t), b.wait(t)
	stopWriter()
	if err := <-writerDone; err != nil {
		t.Fatalf("writer: %v", err)
	}
	t.Logf("process A, restarted (exit %d):\nstdout:\n%s\nstderr:\n%s", codeA, a2.stdout.String(), a2.stderr.String())
	t.Logf("process B (exit %d):\nstdout:\n%s", codeB, b.stdout.String())
	if !strings.Contains(a2.stderr.String(), "Resuming from checkpoint "+cpA) {
		t.Errorf("restarted process A did not resume from its checkpoint")
	}
	for name, p := range map[string]*cliProc{"A": a2, "B": b} {
		code := p.wait(t)
		// Exit status 6 only for conflicts with the writer.
		if s := summary(t, p.stdout.String()); code != 0 && (code != exitPartial || s["conflicts"] == 0 || s["failures"] != 0) {
			t.Errorf("process %s: exit status %d with %v", name, code, s)
		}
	}
	if len(written) == 0 {
		t.Fatal("the writer wrote nothing during the rotation")
	}
	t.Logf("the writer rewrote %d items", len(written))

	// Status merges the two checkpoints: every segment done.
	code, out, errOut := runCLI(t, "", "rotate", "status", cpA, cpB)
	t.Logf("status:\n%s%s", out, errOut)
	if !strings.Contains(out, "Segments done: 4 of 4 (complete).") || !strings.Contains(out, "Rotation of "+rt.name+": 4 segments, 2 checkpoint files.") {
		t.Errorf("status does not report the whole table done")
	}
	if st := summary(t, out); (code == 0) != (st["conflicts"] == 0) || st["failures"] != 0 {
		t.Errorf("status: exit status %d with %v", code, st)
	}
	// Rerun each range, as the summaries ask when there were conflicts: a
	// range with conflicts starts over and finds every item current (the
	// writer wrote under the target); a range without has nothing to do.
	thisRun := regexp.MustCompile(`: (\d+) items in `)
	for _, args := range [][]string{argsA, argsB} {
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 {
			t.Errorf("rerun: exit status %d\n%s%s", code, out, errOut)
		}
		m := thisRun.FindStringSubmatch(out)
		if s := summary(t, out); m == nil || (m[1] != "0" && s["rotated"] != 0) || s["conflicts"] != 0 {
			t.Errorf("rerun: %v, want nothing rotated this run and no conflicts\n%s", s, out)
		}
	}
	code, out, _ = runCLI(t, "", "rotate", "status", dir)
	if code != 0 || !strings.Contains(out, "Segments done: 4 of 4 (complete).") {
		t.Errorf("status after the reruns: exit status %d\n%s", code, out)
	}
	// A finished range without conflicts: a rerun has nothing to do.
	code, out, _ = runCLI(t, "", argsB...)
	if s := summary(t, out); code != 0 || !strings.Contains(out, " 0 items in ") || s["already current"] == 0 {
		t.Errorf("rerun of a finished range: exit status %d\n%s", code, out)
	}

	// Nothing lost, everything under the target, every write kept.
	for k, w := range written {
		rt.plain[k] = w
	}
	rt.checkUnder(t, target)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func cloneItem(it itemcrypto.Item) itemcrypto.Item {
	c := make(itemcrypto.Item, len(it))
	for k, v := range it {
		c[k] = v
	}
	return c
}

// formatReader reads the table all along, as an application's readers do
// during a migration, and records what it saw.
type formatReader struct {
	rt   *rotateTable
	enc  *itemcrypto.Encryptor
	stop context.CancelFunc
	done chan struct{}

	mu                    sync.Mutex
	passes, mixed, failed int
	firstErr              error
}

func startFormatReader(t *testing.T, rt *rotateTable, enc *itemcrypto.Encryptor) *formatReader {
	ctx, cancel := context.WithCancel(t.Context())
	r := &formatReader{rt: rt, enc: enc, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ctx.Err() == nil {
			out, err := rt.client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(rt.name), ConsistentRead: aws.Bool(true)})
			if err != nil {
				if ctx.Err() == nil {
					r.fail(err)
				}
				return
			}
			formats := map[string]bool{}
			for _, s := range out.Items {
				_, dbesdk := s["aws_dbe_head"]
				formats[map[bool]string{true: "dbesdk", false: "ddbec"}[dbesdk]] = true
				got, err := enc.Decrypt(ctx, s)
				if err != nil {
					r.fail(err)
					continue
				}
				if !equalItems(got, rt.plain[itemKey(s)]) {
					r.fail(io.ErrUnexpectedEOF)
				}
			}
			r.mu.Lock()
			r.passes++
			if len(formats) == 2 {
				r.mixed++
			}
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *formatReader) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed++
	if r.firstErr == nil {
		r.firstErr = err
	}
}

// finish stops the reader and checks that it read every item it saw.
func (r *formatReader) finish(t *testing.T, what string) {
	t.Helper()
	r.stop()
	<-r.done
	t.Logf("%s: the reader made %d passes over the table, %d of them with items of both formats", what, r.passes, r.mixed)
	if r.failed > 0 {
		t.Errorf("%s: the reader failed %d times; first: %v", what, r.failed, r.firstErr)
	}
	if r.passes == 0 {
		t.Errorf("%s: the reader made no pass over the table", what)
	}
}

// checkMixed checks that the table holds items of both formats, and that
// enc reads every one to its plaintext.
func (rt *rotateTable) checkMixed(t *testing.T, enc *itemcrypto.Encryptor) {
	t.Helper()
	out, err := rt.client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(rt.name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	dbesdk := 0
	for _, s := range out.Items {
		if _, ok := s["aws_dbe_head"]; ok {
			dbesdk++
		}
	}
	if dbesdk == 0 || dbesdk == len(out.Items) {
		t.Errorf("%d of %d items in the DB-ESDK format half way: not a table half moved", dbesdk, len(out.Items))
	}
	rt.checkUnder(t, enc)
}

// checkFormat checks that every item of the table is in the format.
func (rt *rotateTable) checkFormat(t *testing.T, dbesdk bool) {
	t.Helper()
	out, err := rt.client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(rt.name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Items {
		_, head := s["aws_dbe_head"]
		_, foot := s["aws_dbe_foot"]
		_, sig := s[itemcrypto.SignatureAttribute]
		_, desc := s[itemcrypto.MaterialDescriptionAttribute]
		if head != dbesdk || foot != dbesdk || sig == dbesdk || desc == dbesdk {
			t.Fatalf("item %s: head %v, foot %v, signature %v, description %v; want the DB-ESDK format: %v", itemKey(s), head, foot, sig, desc, dbesdk)
		}
	}
}

// TestRotateCLIFormatMigration moves a DDBEC table to the DB-ESDK format
// and back, while a reader configured with the DB-ESDK legacy override
// (FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT) reads every item all along,
// and reads every item of the table half moved (each run is interrupted
// half way and resumed).
func TestRotateCLIFormatMigration(t *testing.T) {
	const n = 400
	rt := newRotateTable(t, n)
	dk := keygen(t, "aes-hmac")
	k, err := loadKeyFile(dk, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := k.Keyring("orders-ns", "orders-key")
	if err != nil {
		t.Fatal(err)
	}
	pol := rt.encryptor(t, rt.wrapped(t)).Policy()
	newEnc := func(cfg itemcrypto.Config) *itemcrypto.Encryptor {
		cfg.TableName, cfg.Policy = rt.name, pol
		e, err := itemcrypto.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	dbesdk := func(legacy itemcrypto.LegacyPolicy) *itemcrypto.DBESDKConfig {
		return &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"views"}, LegacyPolicy: legacy}
	}
	legacyReader := newEnc(itemcrypto.Config{Format: itemcrypto.FormatDBESDK, Provider: rt.wrapped(t),
		DBESDK: dbesdk(itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt)})
	dbesdkOnly := newEnc(itemcrypto.Config{Format: itemcrypto.FormatDBESDK, DBESDK: dbesdk(0)})
	ddbecOnly := rt.encryptor(t, rt.wrapped(t))
	cp := filepath.Join(t.TempDir(), "rotate.checkpoint")
	toDBESDK := []string{"--from-keys", rt.keys, "--to-format", "dbesdk", "--to-keys", dk,
		"--to-key-namespace", "orders-ns", "--to-key-name", "orders-key", "--rate", "400", "--checkpoint", cp}
	back := []string{"--from-format", "dbesdk", "--from-keys", dk, "--from-key-namespace", "orders-ns",
		"--from-key-name", "orders-key", "--to-keys", rt.keys, "--rate", "400", "--checkpoint", cp}
	secrets := append(keyMaterial(t, rt.keys), keyMaterial(t, dk)...)
	halfway := regexp.MustCompile(`items \(([3-6]\d)%\)`)

	// Each way: the legacy reader reads all along; the run is interrupted
	// half way, when the table holds both formats, and resumed.
	move := func(what string, args []string) {
		t.Helper()
		r := startFormatReader(t, rt, legacyReader)
		code, out, errOut := runInterrupted(t, halfway, append(append([]string{"rotate"}, rt.flags...), args...)...)
		if code != exitPartial {
			t.Fatalf("%s, interrupted: exit status %d", what, code)
		}
		rt.checkMixed(t, legacyReader)
		code, out2, errOut2 := rt.rotate(t, args...)
		r.finish(t, what)
		t.Logf("resumed:\nstdout:\n%s\nstderr:\n%s", out2, errOut2)
		if code != 0 {
			t.Fatalf("%s, resumed: exit status %d", what, code)
		}
		wantSummary(t, what, out2, map[string]int{"rotated": n, "already current": 0, "conflicts": 0, "failures": 0})
		assertNoKeys(t, "rotate output", out+errOut+out2+errOut2, secrets)
	}
	move("DDBEC to DB-ESDK", toDBESDK)
	rt.checkFormat(t, true)
	rt.checkUnder(t, dbesdkOnly)

	// Again: every item is already current (the DB-ESDK key identity).
	code, out, _ := rt.rotate(t, toDBESDK...)
	if code != 0 {
		t.Fatalf("rerun: exit status %d", code)
	}
	wantSummary(t, "rerun", out, map[string]int{"rotated": 0, "already current": n})

	// Back: a rollback to DDBEC under the original key file.
	move("DB-ESDK back to DDBEC", back)
	rt.checkFormat(t, false)
	rt.checkUnder(t, ddbecOnly)

	// The algorithm suite of new items: --to-suite 0x6700 (no ECDSA).
	code, out, errOut := rt.rotate(t, append(toDBESDK, "--to-suite", "0x6700")...)
	if code != 0 {
		t.Fatalf("rotate with --to-suite: exit status %d\n%s\n%s", code, out, errOut)
	}
	rt.checkUnder(t, dbesdkOnly)
	stored, err := rt.client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(rt.name), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := dbesdkSuiteOf(stored.Items[0]); id != keyring.SuiteHMAC {
		t.Errorf("suite of a rotated item: %v, want %v", id, keyring.SuiteHMAC)
	}
}

// dbesdkSuiteOf returns the algorithm suite of a DB-ESDK item: the flavor,
// the second byte of its header.
func dbesdkSuiteOf(item itemcrypto.Item) (keyring.Suite, bool) {
	h, ok := item["aws_dbe_head"].(*types.AttributeValueMemberB)
	if !ok || len(h.Value) < 2 {
		return 0, false
	}
	return keyring.SuiteFromFlavor(h.Value[1])
}

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

// TestRotateCLIMongo rotates a mongoenc collection on FerretDB through the
// CLI: a dry run, then two _id ranges of 4 segments as two processes would,
// the first interrupted with SIGINT and resumed, then rotate status.
func TestRotateCLIMongo(t *testing.T) {
	client := mongotest.Client(t)
	plain := mongotest.Collection(t, client)
	ns := mongotest.Database + "." + plain.Name()
	plans := plain.Database().Collection(rotate.PlanCollection) // shared by the tests: only this collection's plans are removed
	t.Cleanup(func() { plans.DeleteMany(context.Background(), bson.D{{Key: "collection", Value: ns}}) })
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
	dir := t.TempDir()
	flags := append([]string{"rotate", "--mongo", testenv.MongoURI(t), "--collection", ns, "--from-keys", keys, "--to-keyset", ks, "--insecure"}, mongoFlags...)
	ranged := func(r string, extra ...string) []string {
		return append(append(append([]string{}, flags...), "--segments", "4", "--segment-range", r, "--page-size", "10",
			"--checkpoint", filepath.Join(dir, "seg"+r+".checkpoint"), "--log-every", "100ms"), extra...)
	}
	check := func(p cmp.Provider) {
		t.Helper()
		cur, err := mongoCollection(t, p, base).Find(t.Context(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		got := mongotest.AllByObjectID(t, cur)
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
	if c, err := plans.CountDocuments(t.Context(), bson.D{{Key: "collection", Value: ns}}); err != nil || c != 0 {
		t.Errorf("the dry run kept a plan (%d, %v)", c, err)
	}

	// Segments 0-1, interrupted at about 30% with SIGINT, then resumed.
	code, stdout, stderr := runInterrupted(t, regexp.MustCompile(`items \(([3-9]\d)%\)`), ranged("0-1", "--rate", "100")...)
	if code != exitPartial || !strings.Contains(stderr, "interrupted; rerun to resume") {
		t.Fatalf("interrupted rotate: exit status %d", code)
	}
	first := summary(t, stdout)
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
	assertNoKeys(t, "rotate output", out+stdout+stderr, append(keyMaterial(t, keys), keysetKeys(t, ks)...))
	if strings.Contains(stdout+stderr, "ssn-") || strings.Contains(stdout+stderr, "secret ") {
		t.Error("rotate output shows document values")
	}
}

// BenchmarkRotateProcesses rotates one table (dynalite) or collection
// (FerretDB) with 1, 2 and 4 itemcrypto processes sharing 4 segments
// (--segment-range), from one key file to another and back on the next
// iteration, and reports items/s over the whole run (process start-up
// included) and the CPU the rotate processes used per item. The servers'
// share of the machine is what is left: see the README's rotate section.
//
//	go test -run '^$' -bench RotateProcesses -benchtime 3x -count 5 ./cmd/itemcrypto
func BenchmarkRotateProcesses(b *testing.B) {
	bin := buildCLI(b)
	keys := [2]string{keygen(b, "aes-hmac"), keygen(b, "aes-hmac")}
	b.Run("store=dynalite", func(b *testing.B) {
		c := testenv.DynamoDBClient(b)
		const n = 2000
		name := testenv.NewTable(b, c, "id", "S", "n", "N")
		pol, err := actions.New(actions.Options{Default: actions.EncryptAndSign, Overrides: map[string]actions.Action{"email": actions.SignOnly, "views": actions.DoNothing}, PartitionKey: "id", SortKey: "n"})
		if err != nil {
			b.Fatal(err)
		}
		enc, err := itemcrypto.New(itemcrypto.Config{TableName: name, Policy: pol, Provider: wrappedFromFile(b, keys[0])})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			stored, err := enc.Encrypt(b.Context(), benchItem(i))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.PutItem(b.Context(), &dynamodb.PutItemInput{TableName: aws.String(name), Item: stored}); err != nil {
				b.Fatal(err)
			}
		}
		flags := []string{"rotate", "--table", name, "--partition-key", "id", "--sort-key", "n", "--sign", "email", "--nothing", "views",
			"--endpoint", testenv.DynamoDBEndpoint(b), "--no-count"}
		benchProcesses(b, bin, keys, flags, n)
	})
	b.Run("store=ferretdb", func(b *testing.B) {
		plain := mongotest.Collection(b, mongotest.Client(b))
		b.Cleanup(func() {
			plain.Database().Collection(rotate.PlanCollection).DeleteMany(context.Background(), bson.D{{Key: "collection", Value: mongotest.Database + "." + plain.Name()}})
		})
		coll, err := mongoenc.NewCollection(plain, mongoenc.Config{Provider: wrappedFromFile(b, keys[0]), Default: actions.EncryptAndSign, Overrides: mongoOverrides})
		if err != nil {
			b.Fatal(err)
		}
		const n = 1000
		for i := range n {
			d := bson.D{{Key: "secret", Value: fmt.Sprintf("secret %d", i)}, {Key: "email", Value: fmt.Sprintf("u%d@example.com", i)},
				{Key: "visits", Value: int32(i)}, {Key: "profile", Value: bson.D{{Key: "ssn", Value: "ssn"}, {Key: "city", Value: "Lyon"}}}}
			if _, err := coll.InsertOne(b.Context(), d); err != nil {
				b.Fatal(err)
			}
		}
		flags := append([]string{"rotate", "--mongo", testenv.MongoURI(b), "--collection", mongotest.Database + "." + plain.Name(), "--no-count"}, mongoFlags...)
		benchProcesses(b, bin, keys, flags, n)
	})
}

// benchProcesses runs the rotations of BenchmarkRotateProcesses.
func benchProcesses(b *testing.B, bin string, keys [2]string, flags []string, n int) {
	turn := 0
	for _, procs := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("procs=%d", procs), func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				from, to := keys[turn%2], keys[(turn+1)%2]
				turn++
				var ps []*cliProc
				for p := range procs {
					per := 4 / procs
					args := append(append([]string{}, flags...), "--from-keys", from, "--to-keys", to, "--checkpoint=",
						"--segments", "4", "--segment-range", fmt.Sprintf("%d-%d", p*per, p*per+per-1))
					ps = append(ps, startCLI(b, bin, args...))
				}
				rotated := 0
				for _, p := range ps {
					if code := p.wait(b); code != 0 {
						b.Fatalf("exit status %d\n%s\n%s", code, p.stdout.String(), p.stderr.String())
					}
					rotated += summary(b, p.stdout.String())["rotated"]
					cpu += p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
				}
				if rotated != n {
					b.Fatalf("rotated %d items, want %d", rotated, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "rotate-cpu-µs/item")
		})
	}
}

func benchItem(i int) itemcrypto.Item {
	return itemcrypto.Item{
		"id":     &types.AttributeValueMemberS{Value: fmt.Sprintf("c-%05d", i/2)},
		"n":      &types.AttributeValueMemberN{Value: strconv.Itoa(i % 2)},
		"secret": &types.AttributeValueMemberS{Value: strings.Repeat("s", 200)},
		"email":  &types.AttributeValueMemberS{Value: fmt.Sprintf("c%d@example.com", i)},
		"views":  &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
	}
}
