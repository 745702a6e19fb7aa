package main

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

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

// finish stops the reader and checks that it read every item it saw, and
// saw the table half moved at least once.
func (r *formatReader) finish(t *testing.T, what string) {
	t.Helper()
	r.stop()
	<-r.done
	t.Logf("%s: the reader made %d passes over the table, %d of them with items of both formats", what, r.passes, r.mixed)
	if r.failed > 0 {
		t.Errorf("%s: the reader failed %d times; first: %v", what, r.failed, r.firstErr)
	}
	if r.mixed == 0 {
		t.Errorf("%s: the reader never saw the table half moved (%d passes)", what, r.passes)
	}
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
// (FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT) reads every item all along.
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
	toDBESDK := []string{"--from-keys", rt.keys, "--to-format", "dbesdk", "--to-keys", dk,
		"--to-key-namespace", "orders-ns", "--to-key-name", "orders-key", "--rate", "400", "--checkpoint="}
	secrets := append(keyMaterial(t, rt.keys), keyMaterial(t, dk)...)

	r := startFormatReader(t, rt, legacyReader)
	code, out, errOut := rt.rotate(t, toDBESDK...)
	r.finish(t, "DDBEC to DB-ESDK")
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("rotate to DB-ESDK: exit status %d", code)
	}
	wantSummary(t, "to DB-ESDK", out, map[string]int{"rotated": n, "already current": 0, "conflicts": 0, "failures": 0})
	assertNoKeys(t, "rotate output", out+errOut, secrets)
	rt.checkFormat(t, true)
	rt.checkUnder(t, dbesdkOnly)

	// Again: every item is already current (the DB-ESDK key identity).
	code, out, _ = rt.rotate(t, toDBESDK...)
	if code != 0 {
		t.Fatalf("rerun: exit status %d", code)
	}
	wantSummary(t, "rerun", out, map[string]int{"rotated": 0, "already current": n})

	// Back: a rollback to DDBEC under the original key file, while the
	// legacy reader reads.
	r = startFormatReader(t, rt, legacyReader)
	code, out, errOut = rt.rotate(t, "--from-format", "dbesdk", "--from-keys", dk, "--from-key-namespace", "orders-ns",
		"--from-key-name", "orders-key", "--to-keys", rt.keys, "--rate", "400", "--checkpoint=")
	r.finish(t, "DB-ESDK back to DDBEC")
	if code != 0 {
		t.Fatalf("rollback: exit status %d\n%s\n%s", code, out, errOut)
	}
	wantSummary(t, "rollback", out, map[string]int{"rotated": n, "already current": 0, "conflicts": 0, "failures": 0})
	rt.checkFormat(t, false)
	rt.checkUnder(t, ddbecOnly)

	// The algorithm suite of new items: --to-suite 0x6700 (no ECDSA).
	code, out, errOut = rt.rotate(t, append(toDBESDK, "--to-suite", "0x6700")...)
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
