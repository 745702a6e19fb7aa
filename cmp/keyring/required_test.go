package keyring_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

func mustRequired(t testing.TB, under keyring.MaterialsManager, keys ...string) keyring.MaterialsManager {
	t.Helper()
	m, err := keyring.NewRequiredContextManager(under, keys)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRequiredContextManagerNeedsKeys(t *testing.T) {
	under := keyring.NewDefaultManager(mustAES(t, "ns", "aes-256"))
	if _, err := keyring.NewRequiredContextManager(under, nil); !errors.Is(err, keyring.ErrNoRequiredKeys) {
		t.Fatalf("no keys: %v", err)
	}
	if _, err := keyring.NewRequiredContextManager(nil, []string{"a"}); err == nil {
		t.Fatal("nil underlying manager accepted")
	}
}

func TestRequiredContextManagerRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := mustRequired(t, keyring.NewDefaultManager(mustAES(t, "ns", "aes-256")), "tenant", "table", "tenant")
	ec := map[string]string{"tenant": "t1", "table": "orders", "other": "x"}
	em, err := m.EncryptionMaterials(ctx, keyring.EncryptionRequest{Suite: keyring.SuiteHMAC, EncryptionContext: ec, RequiredKeys: []string{"other"}})
	if err != nil {
		t.Fatal(err)
	}
	req := slices.Sorted(slices.Values(em.RequiredKeys()))
	if !slices.Equal(req, []string{"other", "table", "tenant"}) {
		t.Fatalf("required keys %q", req)
	}
	// The item stores the context without the required keys.
	stored := maps.Clone(em.EncryptionContext())
	for _, k := range em.RequiredKeys() {
		delete(stored, k)
	}
	dm, err := m.DecryptionMaterials(ctx, keyring.DecryptionRequest{
		Suite: keyring.SuiteHMAC, EncryptedDataKeys: em.EncryptedDataKeys(), StoredContext: stored,
		ReproducedContext: map[string]string{"tenant": "t1", "table": "orders", "other": "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkSameKeys(t, em, dm, 0)
	if !maps.Equal(dm.EncryptionContext(), ec) {
		t.Fatalf("decryption context %v, want %v", dm.EncryptionContext(), ec)
	}

	for name, tc := range map[string]struct {
		reproduced map[string]string
		want       error
	}{
		"none":        {nil, keyring.ErrRequiredContext},
		"one missing": {map[string]string{"tenant": "t1", "other": "x"}, keyring.ErrRequiredContext},
		"wrong value": {map[string]string{"tenant": "t2", "table": "orders", "other": "x"}, keyring.ErrAuthentication},
	} {
		_, err := m.DecryptionMaterials(ctx, keyring.DecryptionRequest{
			Suite: keyring.SuiteHMAC, EncryptedDataKeys: em.EncryptedDataKeys(), StoredContext: stored, ReproducedContext: tc.reproduced,
		})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// A reproduced value that contradicts the stored one.
	_, err = m.DecryptionMaterials(ctx, keyring.DecryptionRequest{
		Suite: keyring.SuiteHMAC, EncryptedDataKeys: em.EncryptedDataKeys(), StoredContext: map[string]string{"tenant": "t9"},
		ReproducedContext: map[string]string{"tenant": "t1", "table": "orders"},
	})
	if !errors.Is(err, keyring.ErrEncryptionContext) || errors.Is(err, keyring.ErrRequiredContext) {
		t.Errorf("conflict: %v", err)
	}
}

func TestRequiredContextManagerEncryptMissingKey(t *testing.T) {
	m := mustRequired(t, keyring.NewDefaultManager(mustAES(t, "ns", "aes-256")), "tenant")
	_, err := m.EncryptionMaterials(context.Background(), keyring.EncryptionRequest{EncryptionContext: map[string]string{"table": "orders"}})
	if !errors.Is(err, keyring.ErrRequiredContext) || !errors.Is(err, keyring.ErrEncryptionContext) {
		t.Fatalf("got %v", err)
	}
}

// droppingManager forgets the required keys of the request.
type droppingManager struct{ keyring.MaterialsManager }

func (d droppingManager) EncryptionMaterials(ctx context.Context, req keyring.EncryptionRequest) (*keyring.EncryptionMaterials, error) {
	req.RequiredKeys = nil
	return d.MaterialsManager.EncryptionMaterials(ctx, req)
}

func TestRequiredContextManagerChecksUnderlying(t *testing.T) {
	m := mustRequired(t, droppingManager{keyring.NewDefaultManager(mustAES(t, "ns", "aes-256"))}, "tenant")
	_, err := m.EncryptionMaterials(context.Background(), keyring.EncryptionRequest{EncryptionContext: map[string]string{"tenant": "t1"}})
	if !errors.Is(err, keyring.ErrRequiredContext) {
		t.Fatalf("got %v", err)
	}
}

// Required managers nest: the outer one's keys add to the inner one's.
func TestRequiredContextManagerNested(t *testing.T) {
	inner := mustRequired(t, keyring.NewDefaultManager(mustAES(t, "ns", "aes-256")), "a")
	m := mustRequired(t, inner, "b")
	em, err := m.EncryptionMaterials(context.Background(), keyring.EncryptionRequest{Suite: keyring.SuiteHMAC, EncryptionContext: map[string]string{"a": "1", "b": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(em.RequiredKeys())); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("required keys %q", got)
	}
}
