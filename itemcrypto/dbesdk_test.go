package itemcrypto_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

type keyringCase struct {
	name string
	kr   keyring.Keyring
}

func testKeyrings(t testing.TB) []keyringCase {
	aes := must(keyring.NewRawAES("test-namespace", "test-key", keyBytes(7, 32)))
	bk := must(hierarchy.NewBranchKey("branch-1", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", keyBytes(9, 32), nil))
	h := must(hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "branch-1" }))
	return []keyringCase{{"raw-aes", aes}, {"hierarchy", h}}
}

func dbesdkConfig(table string, p *actions.Policy, kr keyring.Keyring, suite keyring.Suite) itemcrypto.Config {
	return itemcrypto.Config{TableName: table, Policy: p, Format: itemcrypto.FormatDBESDK, DBESDK: &itemcrypto.DBESDKConfig{
		Keyring: kr, Suite: suite, AllowedUnsigned: []string{"note", "note2"},
	}}
}

func newDBESDK(t testing.TB, table string, p *actions.Policy, kr keyring.Keyring, suite keyring.Suite) *itemcrypto.Encryptor {
	t.Helper()
	e, err := itemcrypto.New(dbesdkConfig(table, p, kr, suite))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

var suites = []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384}

func TestDBESDKRoundTrip(t *testing.T) {
	ctxPolicy := tamperOptions()
	ctxPolicy.Overrides["sign_s"] = actions.SignAndIncludeInEncryptionContext
	for _, kc := range testKeyrings(t) {
		for _, suite := range suites {
			for _, p := range []*actions.Policy{tamperPolicy(), actions.Must(ctxPolicy)} {
				t.Run(fmt.Sprintf("%s/%x/v2=%v", kc.name, uint16(suite), p.HasContext()), func(t *testing.T) {
					e := newDBESDK(t, "orders", p, kc.kr, suite)
					plain := tamperPlaintext()
					stored := encryptOK(t, e, plain)
					if _, ok := stored["aws_dbe_head"]; !ok {
						t.Fatal("no aws_dbe_head")
					}
					if _, ok := stored[itemcrypto.SignatureAttribute]; ok {
						t.Fatal("DDBEC signature in a DB-ESDK item")
					}
					for _, m := range plaintextMarkers {
						for name, v := range stored {
							if strings.Contains(render(v), m) {
								t.Fatalf("plaintext %q in stored attribute %q", m, name)
							}
						}
					}
					got, err := e.Decrypt(context.Background(), stored)
					if err != nil {
						t.Fatalf("Decrypt: %v", err)
					}
					if d := diffItems(got, plain); d != "" {
						t.Fatalf("round trip: %s", d)
					}
				})
			}
		}
	}
}

// TestDBESDKTamper is the tamper matrix of the DDBEC core redone for the
// DB-ESDK format: every byte of the header and footer, every signed
// attribute, swaps, grafts, renames, another table.
func TestDBESDKTamper(t *testing.T) {
	ctx := context.Background()
	for _, kc := range testKeyrings(t) {
		for _, suite := range suites {
			t.Run(fmt.Sprintf("%s/%x", kc.name, uint16(suite)), func(t *testing.T) {
				e := newDBESDK(t, "orders", tamperPolicy(), kc.kr, suite)
				stored := encryptOK(t, e, tamperPlaintext())
				other := encryptOK(t, e, tamperPlaintext()) // same plaintext, another message id
				fail := func(name string, mutate func(it item)) {
					t.Helper()
					it := cloneItem(stored)
					mutate(it)
					got, err := e.Decrypt(ctx, it)
					if err == nil || got != nil {
						t.Errorf("%s: decrypted (err %v)", name, err)
						return
					}
					if !errors.Is(err, itemcrypto.ErrAuthentication) {
						t.Errorf("%s: %v, want ErrAuthentication", name, err)
					}
					for _, m := range plaintextMarkers {
						if strings.Contains(err.Error(), m) {
							t.Errorf("%s: plaintext in error %q", name, err)
						}
					}
				}
				for _, attr := range []string{"aws_dbe_head", "aws_dbe_foot"} {
					raw := bytesOf(t, stored[attr])
					for i := range raw {
						fail(fmt.Sprintf("%s byte %d", attr, i), func(it item) {
							c := bytes.Clone(raw)
							c[i] ^= 0x01
							it[attr] = b(c)
						})
					}
					fail(attr+" truncated", func(it item) { it[attr] = b(raw[:len(raw)-1]) })
					fail(attr+" extended", func(it item) { it[attr] = b(append(bytes.Clone(raw), 0)) })
					fail(attr+" removed", func(it item) { delete(it, attr) })
					fail(attr+" as string", func(it item) { it[attr] = s(string(raw)) })
					fail(attr+" from another item", func(it item) { it[attr] = other[attr] })
				}
				for name, v := range stored {
					if name == "note" || strings.HasPrefix(name, "aws_dbe_") {
						continue
					}
					fail("altered "+name, func(it item) { it[name] = alter(v) })
					fail("dropped "+name, func(it item) { delete(it, name) })
					fail("renamed "+name, func(it item) { delete(it, name); it[name+"x"] = v })
					if !sameValue(v, other[name]) {
						fail("grafted "+name, func(it item) { it[name] = other[name] })
					}
				}
				fail("swapped encrypted values", func(it item) { it["secret_s"], it["secret_b"] = it["secret_b"], it["secret_s"] })
				fail("added signed attribute", func(it item) { it["extra"] = s("x") })
				fail("plaintext in place of ciphertext", func(it item) { it["secret_s"] = s("PLAINTEXT-S-secret") })
				// Another table name: the canonical paths and the context differ.
				otherTable := newDBESDK(t, "orders-copy", tamperPolicy(), kc.kr, suite)
				if got, err := otherTable.Decrypt(ctx, cloneItem(stored)); err == nil || got != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
					t.Errorf("other table: %v", err)
				}
				// DoNothing attributes may change.
				it := cloneItem(stored)
				it["note"] = s("changed")
				it["note2"] = s("added")
				if _, err := e.Decrypt(ctx, it); err != nil {
					t.Errorf("unsigned change: %v", err)
				}
			})
		}
	}
}

func TestDBESDKConfigErrors(t *testing.T) {
	kr := testKeyrings(t)[0].kr
	opts := tamperOptions()
	cases := []struct {
		name string
		cfg  func() itemcrypto.Config
		want error
	}{
		{"DoNothing not allowed unsigned", func() itemcrypto.Config {
			c := dbesdkConfig("t", tamperPolicy(), kr, 0)
			c.DBESDK.AllowedUnsigned = []string{"note"}
			return c
		}, itemcrypto.ErrUnsignedAttribute},
		{"allowed unsigned with an action", func() itemcrypto.Config {
			c := dbesdkConfig("t", tamperPolicy(), kr, 0)
			c.DBESDK.AllowedUnsigned = append(c.DBESDK.AllowedUnsigned, "sign_s")
			return c
		}, itemcrypto.ErrUnsignedAttribute},
		{"key allowed unsigned", func() itemcrypto.Config {
			c := dbesdkConfig("t", tamperPolicy(), kr, 0)
			c.DBESDK.AllowedUnsignedPrefix = "p"
			return c
		}, itemcrypto.ErrUnsignedAttribute},
		{"context action in DDBEC", func() itemcrypto.Config {
			o := opts
			o.Overrides = map[string]actions.Action{"a": actions.SignAndIncludeInEncryptionContext}
			return itemcrypto.Config{TableName: "t", Policy: actions.Must(o), Provider: staticProvider(t)}
		}, nil},
		{"legacy policy without provider", func() itemcrypto.Config {
			c := dbesdkConfig("t", tamperPolicy(), kr, 0)
			c.DBESDK.LegacyPolicy = itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt
			return c
		}, nil},
		{"legacy and plaintext policy", func() itemcrypto.Config {
			c := dbesdkConfig("t", tamperPolicy(), kr, 0)
			c.Provider = staticProvider(t)
			c.DBESDK.LegacyPolicy = itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt
			c.DBESDK.PlaintextPolicy = itemcrypto.ForbidPlaintextWriteAllowPlaintextRead
			return c
		}, nil},
		{"no keyring", func() itemcrypto.Config {
			c := dbesdkConfig("t", tamperPolicy(), kr, 0)
			c.DBESDK.Keyring = nil
			return c
		}, nil},
		{"bad suite", func() itemcrypto.Config { return dbesdkConfig("t", tamperPolicy(), kr, 0x0014) }, keyring.ErrUnsupportedSuite},
		{"format without config", func() itemcrypto.Config {
			return itemcrypto.Config{TableName: "t", Policy: tamperPolicy(), Format: itemcrypto.FormatDBESDK}
		}, nil},
	}
	for _, c := range cases {
		_, err := itemcrypto.New(c.cfg())
		if err == nil {
			t.Errorf("%s: New succeeded", c.name)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestDBESDKMigration: a DB-ESDK table with the legacy override reads the
// DDBEC items of the same table and writes DB-ESDK items; with
// FORCE_LEGACY it writes DDBEC; without it, DDBEC items are refused.
func TestDBESDKMigration(t *testing.T) {
	ctx := context.Background()
	kr := testKeyrings(t)[0].kr
	prov := wrappedAESProvider(t)
	legacy := newEncryptor(t, "orders", tamperPolicy(), prov)
	oldItem := encryptOK(t, legacy, tamperPlaintext())

	for _, pol := range []itemcrypto.LegacyPolicy{itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt, itemcrypto.ForceLegacyEncryptAllowLegacyDecrypt} {
		cfg := dbesdkConfig("orders", tamperPolicy(), kr, 0)
		cfg.Provider = prov
		cfg.DBESDK.LegacyPolicy = pol
		e := must(itemcrypto.New(cfg))
		got, err := e.Decrypt(ctx, oldItem)
		if err != nil {
			t.Fatalf("%s: legacy item: %v", pol, err)
		}
		if d := diffItems(got, tamperPlaintext()); d != "" {
			t.Fatalf("%s: %s", pol, d)
		}
		newItem := encryptOK(t, e, tamperPlaintext())
		_, isDBESDK := newItem["aws_dbe_head"]
		if isDBESDK != (pol == itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt) {
			t.Fatalf("%s: wrote DB-ESDK item = %v", pol, isDBESDK)
		}
		if _, err := e.Decrypt(ctx, newItem); err != nil {
			t.Fatalf("%s: own item: %v", pol, err)
		}
		// The rollback reader: DDBEC format with a DB-ESDK config reads both.
		back := itemcrypto.Config{TableName: "orders", Policy: tamperPolicy(), Provider: prov, DBESDK: cfg.DBESDK}
		back.DBESDK = &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"note", "note2"}}
		rb := must(itemcrypto.New(back))
		if _, err := rb.Decrypt(ctx, newItem); err != nil {
			t.Fatalf("%s: rollback reader: %v", pol, err)
		}
	}
	strict := newDBESDK(t, "orders", tamperPolicy(), kr, 0)
	if _, err := strict.Decrypt(ctx, oldItem); !errors.Is(err, itemcrypto.ErrFormatNotAllowed) || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Fatalf("legacy item without override: %v", err)
	}
	plain := tamperPlaintext()
	if _, err := strict.Decrypt(ctx, plain); !errors.Is(err, itemcrypto.ErrFormatNotAllowed) {
		t.Fatalf("plaintext item without override: %v", err)
	}
}

func TestDBESDKPlaintextOverride(t *testing.T) {
	ctx := context.Background()
	kr := testKeyrings(t)[0].kr
	// The default policy refuses a plaintext item with the errors a DDBEC
	// reader gives it, whichever format the encryptor writes.
	for _, format := range []itemcrypto.Format{itemcrypto.FormatDBESDK, itemcrypto.FormatDDBEC} {
		cfg := dbesdkConfig("orders", tamperPolicy(), kr, 0)
		cfg.Format = format
		if format == itemcrypto.FormatDDBEC {
			cfg.Provider = staticProvider(t)
		}
		e := must(itemcrypto.New(cfg))
		got, err := e.Decrypt(ctx, tamperPlaintext())
		for _, want := range []error{itemcrypto.ErrAuthentication, itemcrypto.ErrNotEncrypted} {
			if !errors.Is(err, want) {
				t.Errorf("format %v: plaintext read: err = %v, want a match for %v", format, err, want)
			}
		}
		if got != nil {
			t.Errorf("format %v: plaintext read returned an item", format)
		}
	}
	for _, pol := range []itemcrypto.PlaintextPolicy{itemcrypto.ForbidPlaintextWriteAllowPlaintextRead, itemcrypto.ForcePlaintextWriteAllowPlaintextRead} {
		cfg := dbesdkConfig("orders", tamperPolicy(), kr, 0)
		cfg.DBESDK.PlaintextPolicy = pol
		e := must(itemcrypto.New(cfg))
		plain := tamperPlaintext()
		got, err := e.Decrypt(ctx, plain)
		if err != nil || diffItems(got, plain) != "" {
			t.Fatalf("%s: plaintext read: %v", pol, err)
		}
		w := encryptOK(t, e, plain)
		_, enc := w["aws_dbe_head"]
		if enc != (pol == itemcrypto.ForbidPlaintextWriteAllowPlaintextRead) {
			t.Fatalf("%s: encrypted = %v", pol, enc)
		}
		// Encrypted items are still verified: one with its footer removed
		// would be "plaintext", but keeps its ciphertexts, so it is not
		// the plaintext it was.
		if enc {
			if _, err := e.Decrypt(ctx, w); err != nil {
				t.Fatalf("%s: encrypted read: %v", pol, err)
			}
		}
	}
}

// dbesdkFuzzFixtures are fuzzFixtures in the DB-ESDK format (suite 0x6700,
// raw AES keyring, deterministic randomness).
func dbesdkFuzzFixtures(tb testing.TB) []fuzzFixture {
	kr := must(keyring.NewRawAES("fuzz", "fuzz-key", keyBytes(60, 32), func(o *keyring.RawAESOptions) { o.Rand = detRand(61) }))
	cfg := dbesdkConfig("FuzzTable", fuzzPolicy(), kr, keyring.SuiteHMAC)
	e, err := itemcrypto.New(cfg, func(o *itemcrypto.Options) { o.Rand = detRand(62) })
	if err != nil {
		tb.Fatal(err)
	}
	plain := fuzzPlaintext()
	stored := encryptOK(tb, e, plain)
	return []fuzzFixture{{e: e, plain: plain, stored: stored, names: slices.Sorted(maps.Keys(stored))}}
}

// TestDBESDKReservedAttributesOutsideSignature: a DB-ESDK writer stores
// beacons (aws_dbe_b_...) and the beacon version tag (aws_dbe_v_1) beside the
// signed attributes, outside the signature scope. Decrypt must accept them
// whatever their value and leave them out of the plaintext, as the DB-ESDK's
// item encryptor does; they never make a signed attribute unsigned.
func TestDBESDKReservedAttributesOutsideSignature(t *testing.T) {
	for _, kc := range testKeyrings(t) {
		t.Run(kc.name, func(t *testing.T) {
			e := newDBESDK(t, "orders", tamperPolicy(), kc.kr, keyring.SuiteHMAC)
			plain := tamperPlaintext()
			stored := encryptOK(t, e, plain)
			withBeacons := maps.Clone(stored)
			withBeacons["aws_dbe_b_email"] = &types.AttributeValueMemberS{Value: "3a7f"}
			withBeacons["aws_dbe_v_1"] = &types.AttributeValueMemberS{Value: " "}
			got, err := e.Decrypt(context.Background(), withBeacons)
			if err != nil {
				t.Fatalf("Decrypt with beacons: %v", err)
			}
			if d := diffItems(got, plain); d != "" {
				t.Fatalf("plaintext: %s", d)
			}
			withBeacons["aws_dbe_b_email"] = &types.AttributeValueMemberS{Value: "0000"}
			if _, err := e.Decrypt(context.Background(), withBeacons); err != nil {
				t.Fatalf("Decrypt with a changed beacon: %v", err)
			}
			// Renaming a signed attribute into the reserved space drops it
			// from the signed set: authentication must fail.
			for name, v := range stored {
				if e.IsReserved(name) || e.Policy().Action(name) == actions.DoNothing {
					continue
				}
				moved := maps.Clone(stored)
				delete(moved, name)
				moved["aws_dbe_b_"+name] = v
				if _, err := e.Decrypt(context.Background(), moved); !errors.Is(err, itemcrypto.ErrAuthentication) {
					t.Fatalf("signed %q moved to aws_dbe_b_%s: err = %v, want ErrAuthentication", name, name, err)
				}
			}
		})
	}
}

// Attribute names outside ASCII: their canonical paths count UTF-16 units
// (internal/dbe/canon); the differential tests against the reference prove
// the bytes. Here: they round-trip, and a name that is not UTF-8 is refused
// with a typed error naming it, before any key is asked for.
func TestDBESDKNonASCIINames(t *testing.T) {
	p := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk",
		Overrides: map[string]actions.Action{"é_sign": actions.SignOnly, "\U0001D7C1": actions.SignOnly}})
	e := newDBESDK(t, "日本語", p, testKeyrings(t)[0].kr, keyring.SuiteHMAC)
	plain := itemcrypto.Item{
		"pk":         &types.AttributeValueMemberS{Value: "k"},
		"é_sign":     &types.AttributeValueMemberS{Value: "signed"},
		"\U0001D7C1": &types.AttributeValueMemberN{Value: "7"},
		"日本語":        &types.AttributeValueMemberS{Value: "secret"},
		"\uFFFF":     &types.AttributeValueMemberB{Value: []byte{1}},
		"\U00010000": &types.AttributeValueMemberS{Value: "x"},
	}
	stored := encryptOK(t, e, plain)
	got, err := e.Decrypt(context.Background(), stored)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if d := diffItems(got, plain); d != "" {
		t.Fatalf("round trip: %s", d)
	}

	bad := maps.Clone(plain)
	bad["a\xff"] = &types.AttributeValueMemberS{Value: "v"}
	_, err = e.Encrypt(context.Background(), bad)
	var ae *itemcrypto.AttributeError
	if !errors.As(err, &ae) || ae.Name != "a\xff" || !errors.Is(err, itemcrypto.ErrInvalidUTF8) {
		t.Fatalf("Encrypt with a non-UTF-8 name: %v, want an AttributeError naming it that matches ErrInvalidUTF8", err)
	}
}

// An item with one of aws_dbe_head and aws_dbe_foot is a damaged encrypted
// item under every policy: never returned as plaintext, ciphertext and all.
func TestDBESDKHalfItemIsNotPlaintext(t *testing.T) {
	ctx := context.Background()
	kr := testKeyrings(t)[0].kr
	for _, pol := range []itemcrypto.PlaintextPolicy{itemcrypto.ForbidPlaintextWriteForbidPlaintextRead, itemcrypto.ForbidPlaintextWriteAllowPlaintextRead, itemcrypto.ForcePlaintextWriteAllowPlaintextRead} {
		writer := newDBESDK(t, "orders", tamperPolicy(), kr, 0)
		stored := encryptOK(t, writer, tamperPlaintext())
		cfg := dbesdkConfig("orders", tamperPolicy(), kr, 0)
		cfg.DBESDK.PlaintextPolicy = pol
		readers := map[string]*itemcrypto.Encryptor{"dbesdk": must(itemcrypto.New(cfg)),
			"ddbec-only": newEncryptor(t, "orders", tamperPolicy(), wrappedAESProvider(t))}
		for rname, e := range readers {
			for _, drop := range []string{"aws_dbe_head", "aws_dbe_foot"} {
				half := maps.Clone(stored)
				delete(half, drop)
				got, err := e.Decrypt(ctx, half)
				if got != nil || !errors.Is(err, itemcrypto.ErrAuthentication) || errors.Is(err, itemcrypto.ErrNotEncrypted) {
					t.Errorf("%s/%s without %s: item %v, err %v; want no item and ErrAuthentication", pol, rname, drop, got != nil, err)
				}
			}
		}
	}
}

// An item of the other format says which format it is and which setting
// reads it, and still matches ErrAuthentication, never ErrNotEncrypted.
func TestWrongFormatSaysWhich(t *testing.T) {
	ctx := context.Background()
	kr := testKeyrings(t)[0].kr
	ddbecOnly := newEncryptor(t, "orders", tamperPolicy(), wrappedAESProvider(t))
	dbesdkOnly := newDBESDK(t, "orders", tamperPolicy(), kr, 0)
	for _, tc := range []struct {
		name         string
		writer, read *itemcrypto.Encryptor
		wantWords    []string
	}{
		{"DB-ESDK item, DDBEC reader", dbesdkOnly, ddbecOnly, []string{"a DB-ESDK item", "FormatDBESDK"}},
		{"DDBEC item, DB-ESDK reader", ddbecOnly, dbesdkOnly, []string{"a DDBEC item", "LegacyPolicy"}},
	} {
		stored := encryptOK(t, tc.writer, tamperPlaintext())
		got, err := tc.read.Decrypt(ctx, stored)
		if got != nil || !errors.Is(err, itemcrypto.ErrAuthentication) || !errors.Is(err, itemcrypto.ErrFormatNotAllowed) || errors.Is(err, itemcrypto.ErrNotEncrypted) {
			t.Errorf("%s: err = %v; want ErrAuthentication and ErrFormatNotAllowed, not ErrNotEncrypted", tc.name, err)
			continue
		}
		for _, w := range tc.wantWords {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}
}
