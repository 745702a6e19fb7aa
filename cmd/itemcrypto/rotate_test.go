package main

import (
	"bytes"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
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
	k, err := loadKeyFile(rt.keys, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p, err := k.provider("wrapped")
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
	h, err := readKeysetFile(path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tinkcmp.New(h)
	if err != nil {
		t.Fatal(err)
	}
	return rt.encryptor(t, p)
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
	base := []string{"rotate", "--table", "t", "--partition-key", "id", "--endpoint", "http://127.0.0.1:1"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no source", []string{"--to-keys", keys}, "--from-keys FILE or --from-keyset FILE"},
		{"no target", []string{"--from-keys", keys}, "--to-keys FILE or --to-keyset FILE"},
		{"both", []string{"--from-keys", keys, "--from-keyset", ks, "--to-keys", keys}, "exclude each other"},
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
