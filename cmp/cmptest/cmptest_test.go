package cmptest_test

import (
	"context"
	crand "crypto/rand"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

func TestFakeProvider(t *testing.T) {
	cmptest.Run(t, func(*testing.T) cmp.Provider { return cmptest.NewFakeProvider("fake-a") }, func(o *cmptest.Options) {
		o.FreshKeyPerItem = true
		o.Other = func(*testing.T) cmp.Provider { return cmptest.NewFakeProvider("fake-b") }
	})
}

func TestFixed(t *testing.T) {
	cmptest.Run(t, cmptest.Fixed(cmptest.NewFakeProvider("fixed")), func(o *cmptest.Options) { o.FreshKeyPerItem = true })
}

// TestFakeProviderNames: fakes of one name share keys, fakes of another
// name refuse the item as not theirs.
func TestFakeProviderNames(t *testing.T) {
	ctx := context.Background()
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
	enc := func(p cmp.Provider) *itemcrypto.Encryptor {
		e, err := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: policy, Provider: p})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	item := itemcrypto.Item{
		"id":     &types.AttributeValueMemberS{Value: "1"},
		"secret": &types.AttributeValueMemberS{Value: "s"},
	}
	stored, err := enc(cmptest.NewFakeProvider("a")).Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := materialdesc.Decode(stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
	if err != nil {
		t.Fatal(err)
	}
	if got := desc[cmptest.FakeDescriptionKey]; got != "a" {
		t.Errorf("description %s = %q, want %q", cmptest.FakeDescriptionKey, got, "a")
	}
	if _, err := enc(cmptest.NewFakeProvider("a")).Decrypt(ctx, stored); err != nil {
		t.Errorf("another fake of the same name: Decrypt: %v", err)
	}
	if _, err := enc(cmptest.NewFakeProvider("b")).Decrypt(ctx, stored); !errors.Is(err, cmp.ErrNoMaterials) {
		t.Errorf("a fake of another name: Decrypt error %v, want one matching cmp.ErrNoMaterials", err)
	}
}

// broken is a provider that breaks one rule: the suite must fail it.
type broken struct {
	cmp.Provider
	enc func(ctx context.Context, ec cmp.EncryptionContext) (*cmp.EncryptionMaterials, error)
	dec func(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error)
}

func (b *broken) EncryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
	if b.enc != nil {
		return b.enc(ctx, ec)
	}
	return b.Provider.EncryptionMaterials(ctx, ec)
}

func (b *broken) DecryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
	if b.dec != nil {
		return b.dec(ctx, ec)
	}
	return b.Provider.DecryptionMaterials(ctx, ec)
}

func newStatic(enc, mac []byte) cmp.Provider {
	var aesKey *cmp.AESKey
	if enc != nil {
		aesKey = must(cmp.NewAESKey(enc))
	}
	return must(cmp.NewStatic(cmp.StaticConfig{EncryptionKey: aesKey, SigningKey: must(cmp.NewHMACKey("HmacSHA256", mac))}))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var (
	staticEnc = []byte("0123456789abcdef0123456789abcdef")
	staticMac = []byte("fedcba9876543210fedcba9876543210")
)

// brokenProviders each break one rule; failing names the subtest that must
// fail.
var brokenProviders = []struct {
	name    string
	failing string
	new     func(t *testing.T) cmp.Provider
	opts    func(*cmptest.Options)
}{
	{
		name: "MaterialsWithError", failing: "ForeignItems",
		new: func(*testing.T) cmp.Provider {
			fake := cmptest.NewFakeProvider("x")
			return &broken{Provider: fake, dec: func(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
				m, err := fake.DecryptionMaterials(ctx, ec)
				if err != nil {
					m, _ = cmp.NewDecryptionMaterials(nil, must(cmp.NewHMACKey("", []byte("k"))))
				}
				return m, err
			}}
		},
	},
	{
		name: "UnclassifiedRefusal", failing: "ForeignItems",
		new: func(*testing.T) cmp.Provider {
			fake := cmptest.NewFakeProvider("x")
			return &broken{Provider: fake, dec: func(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
				m, err := fake.DecryptionMaterials(ctx, ec)
				if err != nil {
					return nil, errors.New("not my item")
				}
				return m, nil
			}}
		},
	},
	{
		name: "StaticClaimsFreshKeys", failing: "FreshKeyPerItem",
		new:  func(t *testing.T) cmp.Provider { return newStatic(staticEnc, staticMac) },
		opts: func(o *cmptest.Options) { o.FreshKeyPerItem = true },
	},
	{
		name: "NewKeysPerInstance", failing: "NewInstance",
		new: func(t *testing.T) cmp.Provider {
			return newStatic([]byte(crand.Text()[:16]), []byte(crand.Text()))
		},
	},
	{
		name: "SignOnlyClaimsEncrypts", failing: "Materials",
		new:  func(t *testing.T) cmp.Provider { return newStatic(nil, staticMac) },
		opts: func(o *cmptest.Options) { o.Encrypts = true },
	},
	{
		name: "EncryptsClaimsSignOnly", failing: "Materials",
		new:  func(t *testing.T) cmp.Provider { return newStatic(staticEnc, staticMac) },
		opts: func(o *cmptest.Options) { o.Encrypts = false },
	},
	{
		name: "ZeroMaterials", failing: "RoundTrip",
		new: func(*testing.T) cmp.Provider {
			return &broken{Provider: cmptest.NewFakeProvider("x"), enc: func(context.Context, cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
				return &cmp.EncryptionMaterials{}, nil
			}}
		},
	},
	{
		name: "InvalidDescription", failing: "Materials",
		new: func(*testing.T) cmp.Provider {
			return &broken{Provider: cmptest.NewFakeProvider("x"), enc: func(context.Context, cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
				return cmp.NewEncryptionMaterials(nil, must(cmp.NewHMACKey("", staticMac)), materialdesc.Description{"k": "\xff"})
			}}
		},
		opts: func(o *cmptest.Options) { o.Encrypts = false },
	},
	{
		name: "ModifiesDescription", failing: "RoundTrip",
		new: func(*testing.T) cmp.Provider {
			fake := cmptest.NewFakeProvider("x")
			return &broken{Provider: fake, dec: func(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
				m, err := fake.DecryptionMaterials(ctx, ec)
				delete(ec.MaterialDescription, materialdesc.KeyEnvelopeAlg)
				return m, err
			}}
		},
	},
	{
		name: "UnwrappedContextError", failing: "Context",
		new: func(*testing.T) cmp.Provider {
			fake := cmptest.NewFakeProvider("x")
			return &broken{Provider: fake, enc: func(ctx context.Context, ec cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
				if ctx.Err() != nil {
					return nil, errors.New("request timed out")
				}
				return fake.EncryptionMaterials(ctx, ec)
			}}
		},
	},
	{
		name: "PanicsOnDoneContext", failing: "Context",
		new: func(*testing.T) cmp.Provider {
			fake := cmptest.NewFakeProvider("x")
			return &broken{Provider: fake, dec: func(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
				if ctx.Err() != nil {
					panic("done")
				}
				return fake.DecryptionMaterials(ctx, ec)
			}}
		},
	},
	{
		name: "ForgetsKeysAfterFiveItems", failing: "NewInstance",
		new: func(*testing.T) cmp.Provider {
			fake := cmptest.NewFakeProvider("x")
			other := cmptest.NewFakeProvider("x")
			var n atomic.Int64
			return &broken{Provider: fake, enc: func(ctx context.Context, ec cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
				if n.Add(1) > 5 {
					m, err := other.EncryptionMaterials(ctx, ec)
					if err != nil {
						return nil, err
					}
					return cmp.NewEncryptionMaterials(m.EncryptionKey(), must(cmp.NewHMACKey("", []byte("zero"))), m.Description())
				}
				return fake.EncryptionMaterials(ctx, ec)
			}}
		},
	},
}

const brokenEnv = "CMPTEST_BROKEN_PROVIDER"

// TestBrokenProviders checks that the suite fails providers that break its
// rules. The suite takes a *testing.T, so each broken provider runs in a
// child process of this test binary, which must fail in the expected
// subtest.
func TestBrokenProviders(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		for _, bp := range brokenProviders {
			if bp.name == name {
				var opts []func(*cmptest.Options)
				if bp.opts != nil {
					opts = append(opts, bp.opts)
				}
				cmptest.Run(t, bp.new, opts...)
				return
			}
		}
		t.Fatalf("unknown broken provider %q", name)
	}
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for _, bp := range brokenProviders {
		t.Run(bp.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenProviders$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+bp.name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a broken provider (err %v):\n%s", err, out)
			}
			if want := "--- FAIL: TestBrokenProviders/" + bp.failing; !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		})
	}
}
