package rotate

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// These tests need no server.

func testPolicy(t *testing.T) *actions.Policy {
	t.Helper()
	p, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func key32(t *testing.T) []byte {
	b := make([]byte, 32)
	crand.Read(b)
	return b
}

func testEncryptor(t *testing.T, p cmp.Provider) *itemcrypto.Encryptor {
	t.Helper()
	e, err := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: testPolicy(t), Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func identityOf(t *testing.T, e *itemcrypto.Encryptor, pk string) string {
	t.Helper()
	stored, err := e.Encrypt(t.Context(), itemcrypto.Item{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"x":  &types.AttributeValueMemberS{Value: "value"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id, ok := keyIdentity(stored)
	if !ok {
		t.Fatal("no identity")
	}
	return id
}

func TestKeyIdentity(t *testing.T) {
	aes, _ := cmp.NewAESKey(key32(t))
	aes2, _ := cmp.NewAESKey(key32(t))
	mac, _ := cmp.NewHMACKey("HmacSHA256", key32(t))
	wrapped, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: aes, UnwrappingKey: aes, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	static, err := cmp.NewStatic(cmp.StaticConfig{EncryptionKey: aes2, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	tinkOld, err := tinkcmp.New(h)
	if err != nil {
		t.Fatal(err)
	}
	m := keyset.NewManagerFromHandle(h)
	id, _ := m.Add(aead.AES256GCMKeyTemplate())
	m.SetPrimary(id)
	h2, _ := m.Handle()
	tinkNew, err := tinkcmp.New(h2)
	if err != nil {
		t.Fatal(err)
	}
	store, err := metastore.NewMemory("meta", wrapped)
	if err != nil {
		t.Fatal(err)
	}
	mr := func() cmp.Provider {
		p, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: "m", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	mrOld := mr()
	mrOldID := identityOf(t, testEncryptor(t, mrOld), "a")
	if _, err := cmp.RotateProvider(t.Context(), store, "m"); err != nil {
		t.Fatal(err)
	}

	encs := map[string]*itemcrypto.Encryptor{}
	for name, p := range map[string]cmp.Provider{
		"wrapped": wrapped, "static": static, "tink-old": tinkOld, "tink-new": tinkNew, "mostrecent-new": mr(),
	} {
		encs[name] = testEncryptor(t, p)
	}
	// DB-ESDK items: raw AES keyrings of other names, a raw RSA keyring,
	// the other suite.
	dbesdk := func(kr keyring.Keyring, suite keyring.Suite) *itemcrypto.Encryptor {
		e, err := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: testPolicy(t), Format: itemcrypto.FormatDBESDK,
			DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, Suite: suite}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	aesA, _ := keyring.NewRawAES("ns", "a", key32(t))
	aesB, _ := keyring.NewRawAES("ns", "b", key32(t))
	aesOtherNS, _ := keyring.NewRawAES("ns2", "a", key32(t))
	rsaKey, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaA, _ := keyring.NewRawRSA("ns", "a", keyring.RSAOAEPSHA256, &rsaKey.PublicKey, rsaKey)
	encs["dbesdk-aes-a"] = dbesdk(aesA, 0)
	encs["dbesdk-aes-a-6700"] = dbesdk(aesA, keyring.SuiteHMAC)
	encs["dbesdk-aes-b"] = dbesdk(aesB, 0)
	encs["dbesdk-aes-ns2"] = dbesdk(aesOtherNS, 0)
	encs["dbesdk-rsa-a"] = dbesdk(rsaA, 0)

	ids := map[string]string{}
	for name, e := range encs {
		a, b := identityOf(t, e, "a"), identityOf(t, e, "b")
		if a != b {
			t.Errorf("%s: two items have different identities:\n%s\n%s", name, a, b)
		}
		ids[name] = a
	}
	ids["mostrecent-old"] = mrOldID
	seen := map[string]string{}
	for name, id := range ids {
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s have the same identity %s", name, other, id)
		}
		seen[id] = name
	}
	if !strings.Contains(ids["tink-new"], "tink-key-id=") {
		t.Errorf("Tink identity %q names no key", ids["tink-new"])
	}

	for name, it := range map[string]itemcrypto.Item{
		"none":      {"pk": &types.AttributeValueMemberS{Value: "a"}},
		"not B":     {itemcrypto.MaterialDescriptionAttribute: &types.AttributeValueMemberS{Value: "x"}},
		"malformed": {itemcrypto.MaterialDescriptionAttribute: &types.AttributeValueMemberB{Value: []byte{0, 0, 0, 1}}},
	} {
		if _, ok := keyIdentity(it); ok {
			t.Errorf("%s: an identity", name)
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cp")
	c := &checkpointer{path: path, fingerprint: "abc", table: "t"}
	if s, err := c.load(); s != nil || err != nil {
		t.Fatalf("load of a missing file = %v, %v; want nil, nil", s, err)
	}
	k := func(v string) Key { return Key{"pk": &types.AttributeValueMemberS{Value: v}} }
	segs := []segment{{after: k("a")}, {done: true}, {}}
	st := Stats{Total: 10, Scanned: 6, Rotated: 3, Current: 1, Conflicts: 1, Failed: 1,
		ConflictKeys: []Issue{{Key: k("c"), Reason: "changed"}}, Failures: []Issue{{Key: k("f"), Reason: "bad"}}}
	if err := c.write(segs, st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint mode %04o, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want the checkpoint only", len(entries))
	}
	s, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.segs) != 3 || s.segs[0].after.String() != `{"pk":{"S":"a"}}` || !s.segs[1].done || s.segs[2].after != nil || s.segs[2].done {
		t.Errorf("segments came back as %+v", s.segs)
	}
	got := s.stats
	if got.Total != 10 || got.Scanned != 6 || got.Rotated != 3 || got.Current != 1 || got.Conflicts != 1 || got.Failed != 1 ||
		len(got.ConflictKeys) != 1 || got.ConflictKeys[0].Key.String() != `{"pk":{"S":"c"}}` || got.Failures[0].Reason != "bad" {
		t.Errorf("stats came back as %+v", got)
	}

	other := &checkpointer{path: path, fingerprint: "xyz"}
	if _, err := other.load(); err == nil || !strings.Contains(err.Error(), "another rotation") {
		t.Errorf("load with another fingerprint: %v", err)
	}
	os.WriteFile(path, []byte(`{"format":"something else"}`), 0o600)
	if _, err := c.load(); err == nil || !strings.Contains(err.Error(), "not a checkpoint") {
		t.Errorf("load of another file: %v", err)
	}
	if err := c.remove(); err != nil {
		t.Fatal(err)
	}
	if err := c.remove(); err != nil {
		t.Errorf("second remove: %v", err)
	}
}

// describeOnly answers DescribeTable only.
type describeOnly struct {
	API
	table *types.TableDescription
}

func (d describeOnly) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: d.table}, nil
}

func TestRunValidates(t *testing.T) {
	aes, _ := cmp.NewAESKey(key32(t))
	mac, _ := cmp.NewHMACKey("HmacSHA256", key32(t))
	p, _ := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: aes, UnwrappingKey: aes, SigningKey: mac})
	enc := testEncryptor(t, p)
	noop, _ := actions.New(actions.Options{Default: actions.DoNothing, PartitionKey: "pk"})
	noopEnc, _ := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: noop, Provider: p})
	table := func(pk, pkType, sk string) *types.TableDescription {
		td := &types.TableDescription{
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(pk), AttributeType: types.ScalarAttributeType(pkType)}},
			ItemCount:            aws.Int64(0),
		}
		if sk != "" {
			td.KeySchema = append(td.KeySchema, types.KeySchemaElement{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange})
		}
		return td
	}
	for _, tc := range []struct {
		name string
		api  API
		cfg  Config
		want string
	}{
		{"no api", nil, Config{Table: "t", Source: enc, Target: enc}, "no DynamoDB client"},
		{"no table", describeOnly{}, Config{Source: enc, Target: enc}, "Table is required"},
		{"no target", describeOnly{}, Config{Table: "t", Source: enc}, "Target are required"},
		{"noop", describeOnly{}, Config{Table: "t", Source: enc, Target: noopEnc}, "nothing to rotate"},
		{"rate", describeOnly{}, Config{Table: "t", Source: enc, Target: enc, RateLimit: -1}, "RateLimit"},
		{"other key", describeOnly{table: table("id", "S", "")}, Config{Table: "t", Source: enc, Target: enc}, `partition key "id"`},
		{"sort key", describeOnly{table: table("pk", "S", "sk")}, Config{Table: "t", Source: enc, Target: enc}, `sort key "sk"`},
		{"no type", describeOnly{table: &types.TableDescription{KeySchema: table("pk", "S", "").KeySchema}}, Config{Table: "t", Source: enc, Target: enc}, "does not define the type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(t.Context(), tc.api, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v, want an error with %q", err, tc.want)
			}
			if errors.Is(err, ErrInterrupted) {
				t.Errorf("a configuration error matches ErrInterrupted")
			}
		})
	}
}

func TestParseSegmentRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SegmentRange
		ok   bool
	}{
		{"0-3", SegmentRange{0, 3}, true},
		{"5", SegmentRange{5, 5}, true},
		{"2-2", SegmentRange{2, 2}, true},
		{"3-1", SegmentRange{}, false},
		{"-1", SegmentRange{}, false},
		{"a-b", SegmentRange{}, false},
		{"1-2-3", SegmentRange{}, false},
		{"", SegmentRange{}, false},
	} {
		got, err := ParseSegmentRange(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSegmentRange(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestReadStatus merges checkpoints of ranges, and refuses those of other
// rotations and overlapping ones.
func TestReadStatus(t *testing.T) {
	dir := t.TempDir()
	k := func(v string) Key { return Key{"pk": &types.AttributeValueMemberS{Value: v}} }
	write := func(name, rotation string, first int, segs []segment, st Stats) string {
		t.Helper()
		path := filepath.Join(dir, name)
		c := &checkpointer{path: path, fingerprint: rotation + name, rotation: rotation, table: "t", segments: 6, first: first, keep: true}
		if err := c.write(segs, st); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("a.checkpoint", "rot", 0, []segment{{done: true}, {done: true}}, Stats{Total: 10, Scanned: 10, Rotated: 9, Conflicts: 1,
		ConflictKeys: []Issue{{Key: k("c"), ID: "c", Reason: "changed"}}})
	b := write("b.checkpoint", "rot", 2, []segment{{done: true}, {after: k("m")}}, Stats{Total: 10, Scanned: 6, Rotated: 6})
	st, err := ReadStatus([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if st.Table != "t" || st.Segments != 6 || len(st.Parts) != 2 || st.Complete() {
		t.Errorf("status %+v", st)
	}
	if Ranges(st.Done) != "0-2" || Ranges(st.Started) != "3" || Ranges(st.Missing) != "4-5" {
		t.Errorf("done %v, started %v, missing %v", st.Done, st.Started, st.Missing)
	}
	if s := st.Stats; s.Scanned != 16 || s.Rotated != 15 || s.Conflicts != 1 || s.Total != 20 || len(s.ConflictKeys) != 1 || s.ConflictKeys[0].ID != "c" {
		t.Errorf("summed stats %+v", s)
	}
	write("c.checkpoint", "rot", 4, []segment{{done: true}, {done: true}}, Stats{Scanned: 4, Current: 4})
	if st, err := ReadStatus([]string{dir}); err != nil || len(st.Parts) != 3 || Ranges(st.Done) != "0-2,4-5" || st.Complete() {
		t.Errorf("status of the directory: %v, %+v", err, st)
	}

	other := write("other.checkpoint", "another", 0, []segment{{done: true}}, Stats{})
	if _, err := ReadStatus([]string{a, other}); err == nil || !strings.Contains(err.Error(), "another rotation") {
		t.Errorf("checkpoints of two rotations: %v", err)
	}
	overlap := write("overlap.checkpoint", "rot", 1, []segment{{done: true}}, Stats{})
	if _, err := ReadStatus([]string{a, overlap}); err == nil || !strings.Contains(err.Error(), "segment 1 is in") {
		t.Errorf("overlapping checkpoints: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(junk, []byte("{}"), 0o600)
	if _, err := ReadStatus([]string{junk}); err == nil || !strings.Contains(err.Error(), "not a checkpoint") {
		t.Errorf("a file that is no checkpoint: %v", err)
	}
	if _, err := ReadStatus([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no checkpoint files") {
		t.Errorf("an empty directory: %v", err)
	}
}

// FuzzReadStatus: any file is refused with an error or read without a
// panic, and what it reads is within the rotation's segments.
func FuzzReadStatus(f *testing.F) {
	dir := f.TempDir()
	c := &checkpointer{path: filepath.Join(dir, "seed"), fingerprint: "fp", rotation: "rot", table: "t", segments: 4, first: 2}
	k := Key{"pk": &types.AttributeValueMemberS{Value: "a"}}
	if err := c.write([]segment{{done: true}, {after: k}}, Stats{Scanned: 3, Failures: []Issue{{Key: k, ID: "a", Reason: "r"}}}); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(c.path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"format":"itemcrypto-rotate-checkpoint-v1","segments":[{}],"total_segments":1000000000}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "x.checkpoint")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := ReadStatus([]string{path})
		if err != nil {
			return
		}
		if st.Segments < 1 || st.Segments > maxSegments || len(st.Done)+len(st.Started)+len(st.Missing) > 2*st.Segments {
			t.Errorf("status of %d segments: %d done, %d started, %d missing", st.Segments, len(st.Done), len(st.Started), len(st.Missing))
		}
	})
}

// ReadStatus bounds a checkpoint while decoding it: one that claims 4
// segments but lists millions (16 MiB of "{}") is refused after the fifth,
// at a cost linear in the file and independent of what it lists (finding 8
// of the security review: 705 MiB and 8-9 s before it was refused).
func TestReadStatusBoundedCost(t *testing.T) {
	if raceOn {
		t.Skip("allocation figures are meaningless under -race")
	}
	var b bytes.Buffer
	b.WriteString(`{"format":"itemcrypto-rotate-checkpoint-v1","table":"t","fingerprint":"f","rotation":"r","total_segments":4,"first_segment":0,"segments":[`)
	for i := 0; b.Len() < 16<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("{}")
	}
	b.WriteString(`],"stats":{}}`)
	path := filepath.Join(t.TempDir(), "big.checkpoint")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	bytesUsed := alloctest.Bytes(3, func() { _, err = ReadStatus([]string{path}) })
	if err == nil || !strings.Contains(err.Error(), "lists more segments") {
		t.Fatalf("ReadStatus of 4 claimed, millions listed: %v", err)
	}
	t.Logf("%d bytes allocated for a %d-byte checkpoint", bytesUsed, b.Len())
	// The file is read whole (16 MiB, bounded by maxCheckpointSize) and
	// scanned twice; nothing is allocated per listed segment.
	if limit := uint64(b.Len()) + 1<<20; bytesUsed > limit {
		t.Fatalf("ReadStatus allocated %d bytes for a %d-byte checkpoint, want at most %d", bytesUsed, b.Len(), limit)
	}
	// The same bound on the conflicts and failures lists: MaxListed each.
	var c bytes.Buffer
	c.WriteString(`{"format":"itemcrypto-rotate-checkpoint-v1","table":"t","fingerprint":"f","rotation":"r","total_segments":1,"segments":[{"done":true}],"conflicts":[`)
	for i := range MaxListed + 1 {
		if i > 0 {
			c.WriteByte(',')
		}
		c.WriteString(`{"key":{"pk":{"S":"a"}},"id":"a","reason":"r"}`)
	}
	c.WriteString(`],"stats":{}}`)
	if err := os.WriteFile(path, c.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStatus([]string{path}); err == nil || !strings.Contains(err.Error(), "lists more segments or keys") {
		t.Fatalf("ReadStatus of %d conflicts: %v", MaxListed+1, err)
	}
}
