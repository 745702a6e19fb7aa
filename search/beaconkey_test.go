package search_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// emailBeacon computes the beacon of one email under keys named name.
func emailBeacon(t *testing.T, keys search.BeaconKeys, name, email string) string {
	t.Helper()
	pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
	s, err := search.New(search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
		Version: 1, KeyStore: keys,
		KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: name, CacheTTL: time.Hour}},
		StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 16}},
	}}}, pol)
	if err != nil {
		t.Fatal(err)
	}
	item := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "1"}, "email": &types.AttributeValueMemberS{Value: email}}
	out, err := s.EncryptedBeacons(context.Background(), item, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out["aws_dbe_b_email"].(*types.AttributeValueMemberS).Value
}

// A beacon key held without a key store computes the same beacons as the
// same key in a branch key (search.StaticKeys, the DB-ESDK vectors' form):
// a table can move between them.
func TestBeaconKeyFromBytes(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	bk, err := search.NewBeaconKey("beacons", key)
	if err != nil {
		t.Fatal(err)
	}
	branch, err := hierarchy.NewBranchKey("beacons", "4f2e1a0c-8d3b-4c6e-9f7a-1b2c3d4e5f60", bytes.Repeat([]byte{1}, 32), key)
	if err != nil {
		t.Fatal(err)
	}
	static, err := search.NewStaticKeys(branch)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := emailBeacon(t, bk, "beacons", "ada@example.com"), emailBeacon(t, static, "beacons", "ada@example.com"); a != b {
		t.Fatalf("BeaconKey beacon %s, StaticKeys beacon %s", a, b)
	}
	if _, err := bk.GetBeaconKey(context.Background(), "other"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("another name: %v", err)
	}
	for _, bad := range [][]byte{nil, key[:16], append(key, 0)} {
		if _, err := search.NewBeaconKey("beacons", bad); !errors.Is(err, search.ErrBeaconKeyInvalid) {
			t.Fatalf("a %d-byte key: %v", len(bad), err)
		}
	}
	if _, err := search.NewBeaconKey("", key); !errors.Is(err, search.ErrBeaconKeyInvalid) {
		t.Fatalf("empty name: %v", err)
	}
}

// A beacon key wrapped by KMS (here the fake KMS, spoken to by the real SDK
// client) unwraps to the same key at every start-up, only under its own
// name, and beacons are stable across unwraps.
func TestBeaconKeyKMS(t *testing.T) {
	ctx := context.Background()
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	kms := awskms.New(srv.Client())
	wrapped, err := search.WrapBeaconKeyKMS(ctx, kms, arn, "beacons")
	if err != nil {
		t.Fatal(err)
	}
	k1, err := search.UnwrapBeaconKeyKMS(ctx, kms, arn, "beacons", wrapped)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := search.UnwrapBeaconKeyKMS(ctx, kms, arn, "beacons", wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := emailBeacon(t, k1, "beacons", "ada@example.com"), emailBeacon(t, k2, "beacons", "ada@example.com"); a != b {
		t.Fatalf("two unwraps give beacons %s and %s", a, b)
	}
	// Bound to its name by the KMS encryption context.
	if _, err := search.UnwrapBeaconKeyKMS(ctx, kms, arn, "other", wrapped); err == nil {
		t.Fatal("unwrapped under another name")
	}
	// Two wraps are two keys.
	other, err := search.WrapBeaconKeyKMS(ctx, kms, arn, "beacons")
	if err != nil {
		t.Fatal(err)
	}
	k3, err := search.UnwrapBeaconKeyKMS(ctx, kms, arn, "beacons", other)
	if err != nil {
		t.Fatal(err)
	}
	if emailBeacon(t, k3, "beacons", "ada@example.com") == emailBeacon(t, k1, "beacons", "ada@example.com") {
		t.Fatal("a second WrapBeaconKeyKMS made the same key")
	}
}
