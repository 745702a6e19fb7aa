// Package branchkeys serves test branch keys by id: a hierarchy.Source of
// one branch key per tenant, for the multi-tenant beacon tests of the
// adapters.
package branchkeys

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
)

// Source is a hierarchy.Source of one branch key (one version) per id.
type Source map[string]*hierarchy.BranchKey

// ActiveBranchKey implements hierarchy.Source.
func (k Source) ActiveBranchKey(_ context.Context, id string) (*hierarchy.BranchKey, error) {
	if bk, ok := k[id]; ok {
		return bk, nil
	}
	return nil, fmt.Errorf("no branch key %q", id)
}

// BranchKeyVersion implements hierarchy.Source.
func (k Source) BranchKeyVersion(ctx context.Context, id, version string) (*hierarchy.BranchKey, error) {
	bk, err := k.ActiveBranchKey(ctx, id)
	if err == nil && bk.Version() != version {
		return nil, fmt.Errorf("no version %q of %q", version, id)
	}
	return bk, err
}

// Tenants returns a Source with a branch key per tenant, id the tenant's
// name, and the keys in the order given. Tenant i's key is 32 bytes of
// i+1, its beacon key 32 bytes of i+9: fixed, for reproducible tests.
func Tenants(t testing.TB, tenants ...string) (Source, []*hierarchy.BranchKey) {
	t.Helper()
	src := Source{}
	var bks []*hierarchy.BranchKey
	for i, tenant := range tenants {
		bk, err := hierarchy.NewBranchKey(tenant, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), bytes.Repeat([]byte{byte(i + 1)}, 32), bytes.Repeat([]byte{byte(i + 9)}, 32))
		if err != nil {
			t.Fatal(err)
		}
		src[tenant] = bk
		bks = append(bks, bk)
	}
	return src, bks
}
