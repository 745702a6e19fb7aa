package search

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
)

// TestStandardBeaconValues: the values a query sends for one string are
// those EncryptedBeacons stores in every partition, one per partition of
// the beacon.
func TestStandardBeaconValues(t *testing.T) {
	bk, err := hierarchy.NewBranchKey("k", "00000000-0000-4000-8000-000000000000", make([]byte, 32), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := NewStaticKeys(bk)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"})
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range []int{1, 5} {
		partition := 0
		s, err := New(Config{WriteVersion: 1, Versions: []BeaconVersion{{
			Version: 1, KeyStore: keys, MaximumNumberOfPartitions: parts,
			PartitionSelector: PartitionSelectorFunc(func(Item, int, string) (int, error) { return partition, nil }),
			KeySource:         KeySource{Single: &SingleKeySource{BranchKeyID: "k", CacheTTL: time.Hour}},
			StandardBeacons:   []StandardBeacon{{Name: "email", Length: 32}, {Name: "ssn", Length: 32, NumberOfPartitions: ssnParts(parts)}},
		}}}, policy)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		v := &types.AttributeValueMemberS{Value: "a@example.com"}
		for _, b := range []struct {
			name string
			n    int
		}{{"email", parts}, {"ssn", max(1, ssnParts(parts))}} {
			got, err := s.StandardBeaconValues(ctx, b.name, v)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for partition = range parts {
				out, err := s.EncryptedBeacons(ctx, Item{b.name: v}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if w := out[BeaconPrefix+b.name].(*types.AttributeValueMemberS).Value; !slices.Contains(want, w) {
					want = append(want, w)
				}
			}
			if !slices.Equal(got, want) || len(got) != b.n {
				t.Errorf("%d partitions, %s: StandardBeaconValues = %v, want %v (%d values)", parts, b.name, got, want, b.n)
			}
		}
		if _, err := s.StandardBeaconValues(ctx, "nope", v); !errors.Is(err, ErrNoBeacon) {
			t.Errorf("unknown beacon: %v, want ErrNoBeacon", err)
		}
	}
}

// ssnParts is the ssn beacon's own number of partitions: 2 of 5, or the
// default (0) without partitions.
func ssnParts(parts int) int {
	if parts == 1 {
		return 0
	}
	return 2
}
