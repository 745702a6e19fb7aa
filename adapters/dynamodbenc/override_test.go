package dynamodbenc

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// A searchable-encryption configuration beside a legacy or plaintext
// override is refused by New, as the DB-ESDK specification requires
// (ddb-table-encryption-config.md): with a read-old-items policy a beacon
// query would miss every old item silently, and with a forced legacy write
// the beacons would sit outside the DDBEC signature.
func TestSearchWithOverrideRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*TableConfig)
	}{
		{"legacy read", func(c *TableConfig) { c.DBESDK.LegacyPolicy = itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt }},
		{"legacy write", func(c *TableConfig) { c.DBESDK.LegacyPolicy = itemcrypto.ForceLegacyEncryptAllowLegacyDecrypt }},
		{"plaintext read", func(c *TableConfig) { c.DBESDK.PlaintextPolicy = itemcrypto.ForbidPlaintextWriteAllowPlaintextRead }},
		{"plaintext write", func(c *TableConfig) { c.DBESDK.PlaintextPolicy = itemcrypto.ForcePlaintextWriteAllowPlaintextRead }},
	} {
		cfg := beaconConfig(t)
		d := *cfg.DBESDK
		cfg.DBESDK = &d
		cfg.Provider = testProvider(t)
		tc.set(&cfg)
		_, err := New(dynamodb.New(dynamodb.Options{Region: "us-west-2"}), Config{Tables: map[string]TableConfig{"t": cfg}})
		if !errors.Is(err, itemcrypto.ErrOverrideWithBeacons) {
			t.Errorf("%s: New = %v, want ErrOverrideWithBeacons", tc.name, err)
		}
		if _, err := NewOption(Config{Tables: map[string]TableConfig{"t": cfg}}); !errors.Is(err, itemcrypto.ErrOverrideWithBeacons) {
			t.Errorf("%s: NewOption = %v, want ErrOverrideWithBeacons", tc.name, err)
		}
	}
	// Without the override the same configuration is accepted.
	if _, err := New(dynamodb.New(dynamodb.Options{Region: "us-west-2"}), Config{Tables: map[string]TableConfig{"t": beaconConfig(t)}}); err != nil {
		t.Fatalf("New without an override: %v", err)
	}
}
