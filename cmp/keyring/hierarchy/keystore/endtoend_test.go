package keystore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
)

// recordingSource counts the store reads the keyring makes.
type recordingSource struct {
	hierarchy.Source
	mu       sync.Mutex
	active   int
	versions []string
}

func (r *recordingSource) ActiveBranchKey(ctx context.Context, id string) (*hierarchy.BranchKey, error) {
	r.mu.Lock()
	r.active++
	r.mu.Unlock()
	return r.Source.ActiveBranchKey(ctx, id)
}

func (r *recordingSource) BranchKeyVersion(ctx context.Context, id, version string) (*hierarchy.BranchKey, error) {
	r.mu.Lock()
	r.versions = append(r.versions, version)
	r.mu.Unlock()
	return r.Source.BranchKeyVersion(ctx, id, version)
}

func dbeConfig(mm keyring.MaterialsManager) *dbe.Config {
	actions := map[string]dbe.Action{"pk": dbe.SignOnly, "secret": dbe.EncryptAndSign, "tenant": dbe.SignOnly}
	return &dbe.Config{
		Table: "orders", PartitionKey: "pk", Version: 1, Suite: keyring.SuiteHMAC, Manager: mm,
		Action: func(name string) (dbe.Action, error) {
			if a, ok := actions[name]; ok {
				return a, nil
			}
			return 0, errors.New("no action")
		},
		Unsigned: func(string) bool { return false },
	}
}

func item(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":     &types.AttributeValueMemberS{Value: pk},
		"secret": &types.AttributeValueMemberS{Value: "the secret of " + pk},
		"tenant": &types.AttributeValueMemberS{Value: "t1"},
	}
}

// edkVersion is the branch key version an item was wrapped under: in the
// hierarchy EDK, after the wrapped data key, the salt and the IV.
func edkVersion(t *testing.T, p dbe.Parsed) string {
	t.Helper()
	if len(p.EDKs) != 1 || p.EDKs[0].ProviderID != hierarchy.ProviderID {
		t.Fatalf("EDKs %v", p.EDKs)
	}
	const at = keyring.WrappedDataKeyLength + 16 + 12
	u, err := uuid.FromBytes(p.EDKs[0].Ciphertext[at : at+16])
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// TestEndToEnd: items encrypted through the hierarchical keyring over the
// store decrypt after VersionKey; new items use the new version once the
// cached active key expires; every client of the table reads both.
func TestEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	src := &recordingSource{Source: e.store}
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) {
		o.BranchKeyID = id
		o.TTL = time.Minute
		o.Now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := dbeConfig(keyring.NewDefaultManager(kr))
	v1, err := e.store.GetActiveBranchKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	roundTrip := func(pk string) (map[string]types.AttributeValue, string) {
		t.Helper()
		enc, err := dbe.Encrypt(ctx, cfg, item(pk))
		if err != nil {
			t.Fatal(err)
		}
		out, p, err := dbe.Decrypt(ctx, cfg, enc)
		if err != nil {
			t.Fatal(err)
		}
		if got := out["secret"].(*types.AttributeValueMemberS).Value; got != "the secret of "+pk {
			t.Fatalf("decrypted %q", got)
		}
		return enc, edkVersion(t, p)
	}
	old1, ver := roundTrip("a")
	old2, _ := roundTrip("b")
	if ver != v1.BranchKey.Version() {
		t.Fatalf("item wrapped under version %s, want the active %s", ver, v1.BranchKey.Version())
	}
	if src.active != 1 {
		t.Fatalf("%d active reads for two items, want 1 (cached)", src.active)
	}

	if err := e.store.VersionKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	v2, err := e.store.GetActiveBranchKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Within the TTL the cached active version still wraps new items.
	if _, ver := roundTrip("c"); ver != v1.BranchKey.Version() {
		t.Fatalf("within the TTL: version %s, want the cached %s", ver, v1.BranchKey.Version())
	}
	clock.Lock()
	now = now.Add(time.Minute + time.Second)
	clock.Unlock()
	newItem, ver := roundTrip("d")
	if ver != v2.BranchKey.Version() {
		t.Fatalf("after the TTL: version %s, want the new %s", ver, v2.BranchKey.Version())
	}

	// A fresh client (empty cache) reads the old and new items, each from
	// its own version item.
	fresh := &recordingSource{Source: e.newStore(t, func(o *keystore.Options) { o.KMS = keystore.KeyARN(e.keyARN) })}
	kr2, err := hierarchy.New(fresh, func(o *hierarchy.Options) { o.BranchKeyID = id })
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := dbeConfig(keyring.NewDefaultManager(kr2))
	for _, enc := range []map[string]types.AttributeValue{old1, old2, newItem} {
		if _, _, err := dbe.Decrypt(ctx, cfg2, enc); err != nil {
			t.Fatalf("fresh client: %v", err)
		}
	}
	if want := []string{v1.BranchKey.Version(), v2.BranchKey.Version()}; len(fresh.versions) != 2 || fresh.versions[0] != want[0] || fresh.versions[1] != want[1] {
		t.Fatalf("fresh client read versions %v, want %v (one read each)", fresh.versions, want)
	}
	if fresh.active != 0 {
		t.Fatal("decrypting read the active key")
	}

	// A tampered branch key item stops a fresh client with the opaque error.
	raw := e.rawItem(t, id, "branch:version:"+v1.BranchKey.Version())
	raw["create-time"] = &types.AttributeValueMemberS{Value: "tampered"}
	e.putRaw(t, raw)
	kr3, err := hierarchy.New(e.newStore(t, func(o *keystore.Options) { o.KMS = keystore.KeyARN(e.keyARN) }), func(o *hierarchy.Options) { o.BranchKeyID = id })
	if err != nil {
		t.Fatal(err)
	}
	if out, _, err := dbe.Decrypt(ctx, dbeConfig(keyring.NewDefaultManager(kr3)), old1); !errors.Is(err, dbe.ErrAuthentication) || out != nil {
		t.Fatalf("decrypt over a tampered branch key item: %v, want ErrAuthentication and no item", err)
	}
}
