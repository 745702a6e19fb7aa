package kmskeyring_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

func TestMRKMatchForDecrypt(t *testing.T) {
	const (
		west  = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234"
		east  = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234"
		srk   = "arn:aws:kms:us-west-2:111122223333:key/1234"
		srkE  = "arn:aws:kms:us-east-1:111122223333:key/1234"
		alias = "arn:aws:kms:us-west-2:111122223333:alias/mrk-1234"
	)
	tests := []struct {
		configured, message string
		want                bool
	}{
		{west, west, true},
		{west, east, true},
		{east, west, true},
		{srk, srk, true},
		{srk, srkE, false},
		{west, "arn:aws:kms:us-east-1:444455556666:key/mrk-1234", false},
		{west, "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1234", false},
		{west, "arn:aws:kms:us-east-1:111122223333:key/mrk-5678", false},
		{west, srk, false},
		{alias, "arn:aws:kms:us-east-1:111122223333:alias/mrk-1234", false},
		{"mrk-1234", east, false},
		{"mrk-1234", "mrk-1234", true},
	}
	for _, tt := range tests {
		if got := kmskeyring.MRKMatchForDecrypt(tt.configured, tt.message); got != tt.want {
			t.Errorf("MRKMatchForDecrypt(%s, %s) = %t, want %t", tt.configured, tt.message, got, tt.want)
		}
	}
	for id, want := range map[string]bool{"mrk-1": true, "alias/mrk-1": false, "1234": false, west: true, srk: false, alias: false, "arn:mrk-": false} {
		if got := kmskeyring.IsMultiRegionIdentifier(id); got != want {
			t.Errorf("IsMultiRegionIdentifier(%s) = %t, want %t", id, got, want)
		}
	}
}

// mrkFixture is a multi-Region key with replicas in two regions, each
// region a fake KMS, plus a single-Region key in the west.
type mrkFixture struct {
	west, east         *kmstest.Server
	westKMS, eastKMS   *awskms.KMS
	westARN, eastARN   string // the multi-Region key and its replica
	srkARN             string // single-Region, us-west-2
	ec                 map[string]string
	westEDKs, srkEDKs  []keyring.EncryptedDataKey
	westDK, srkDataKey []byte
}

func newMRKFixture(t *testing.T) *mrkFixture {
	t.Helper()
	f := &mrkFixture{ec: map[string]string{"aws-crypto-table-name": "users", "tenant": "a"}}
	f.west = kmstest.NewServer(t)
	f.east = kmstest.NewServer(t, func(o *kmstest.Options) { o.Region = "us-east-1" })
	_, f.westARN = f.west.CreateKey(kmstest.WithMultiRegion())
	f.eastARN = f.west.ReplicateKey(f.westARN, f.east)
	_, f.srkARN = f.west.CreateKey()
	f.westKMS, f.eastKMS = awskms.New(f.west.Client()), awskms.New(f.east.Client())
	kr, err := kmskeyring.NewMRK(f.westKMS, f.westARN)
	if err != nil {
		t.Fatal(err)
	}
	em := encrypt(t, kr, keyring.SuiteHMAC, f.ec)
	f.westEDKs, f.westDK = em.EncryptedDataKeys(), em.DataKey()
	em = encrypt(t, mustKR(kmskeyring.New(f.westKMS, f.srkARN)), keyring.SuiteHMAC, f.ec)
	f.srkEDKs, f.srkDataKey = em.EncryptedDataKeys(), em.DataKey()
	f.west.ResetCalls()
	return f
}

func mustKR[K keyring.Keyring](k K, err error) K {
	if err != nil {
		panic(err)
	}
	return k
}

func TestMRKKeyringDecryptsReplica(t *testing.T) {
	f := newMRKFixture(t)
	if !strings.HasPrefix(f.eastARN, "arn:aws:kms:us-east-1:") || strings.TrimPrefix(f.eastARN, "arn:aws:kms:us-east-1:") != strings.TrimPrefix(f.westARN, "arn:aws:kms:us-west-2:") {
		t.Fatalf("replica %s of %s", f.eastARN, f.westARN)
	}
	east := mustKR(kmskeyring.NewMRK(f.eastKMS, f.eastARN))
	dm, err := decrypt(context.Background(), east, keyring.SuiteHMAC, f.ec, f.westEDKs)
	if err != nil || string(dm.DataKey()) != string(f.westDK) {
		t.Fatalf("the us-east-1 replica's MRK keyring: %v", err)
	}
	calls := f.east.CallsFor(kmstest.OpDecrypt)
	if len(calls) != 1 || calls[0].KeyID != f.eastARN {
		t.Fatalf("Decrypt calls %+v, want one naming the configured replica", calls)
	}
	// The strict keyring matches ARNs exactly: the replica is not its key.
	if _, err := decrypt(context.Background(), mustKR(kmskeyring.New(f.eastKMS, f.eastARN)), keyring.SuiteHMAC, f.ec, f.westEDKs); !errors.Is(err, keyring.ErrNoDecryptableKey) {
		t.Fatalf("strict keyring on the replica: %v, want ErrNoDecryptableKey", err)
	}
	// A single-Region key of another region never matches.
	if _, err := decrypt(context.Background(), east, keyring.SuiteHMAC, f.ec, f.srkEDKs); !errors.Is(err, keyring.ErrNoDecryptableKey) {
		t.Fatalf("MRK keyring on a single-Region EDK: %v", err)
	}
	// Encrypting in the east decrypts in the west.
	em := encrypt(t, east, keyring.SuiteECDSAP384, f.ec)
	if string(em.EncryptedDataKeys()[0].ProviderInfo) != f.eastARN {
		t.Fatalf("provider info %q", em.EncryptedDataKeys()[0].ProviderInfo)
	}
	if _, err := decrypt(context.Background(), mustKR(kmskeyring.NewMRK(f.westKMS, f.westARN)), keyring.SuiteECDSAP384, em.EncryptionContext(), em.EncryptedDataKeys()); err != nil {
		t.Fatal(err)
	}
	// A disabled replica fails as KMS says, typed.
	f.east.DisableKey(f.eastARN)
	_, err = decrypt(context.Background(), east, keyring.SuiteHMAC, f.ec, f.westEDKs)
	var disabled *types.DisabledException
	var ke *cmp.KMSError
	if !errors.As(err, &disabled) || !errors.As(err, &ke) {
		t.Fatalf("disabled replica: %v, want a KMSError wrapping DisabledException", err)
	}
}

func TestDiscoveryKeyring(t *testing.T) {
	f := newMRKFixture(t)
	ctx := context.Background()
	kr := mustKR(kmskeyring.NewDiscovery(f.westKMS, nil))
	for _, tc := range []struct {
		edks []keyring.EncryptedDataKey
		dk   []byte
		arn  string
	}{{f.westEDKs, f.westDK, f.westARN}, {f.srkEDKs, f.srkDataKey, f.srkARN}} {
		f.west.ResetCalls()
		dm, err := decrypt(ctx, kr, keyring.SuiteHMAC, f.ec, tc.edks)
		if err != nil || string(dm.DataKey()) != string(tc.dk) {
			t.Fatalf("discovery: %v", err)
		}
		if c := f.west.CallsFor(kmstest.OpDecrypt); len(c) != 1 || c[0].KeyID != tc.arn {
			t.Fatalf("Decrypt calls %+v, want one naming the provider info %s", c, tc.arn)
		}
	}
	// The plain discovery keyring does not rewrite regions: its us-east-1
	// client cannot reach the us-west-2 ARN.
	_, err := decrypt(ctx, mustKR(kmskeyring.NewDiscovery(f.eastKMS, nil)), keyring.SuiteHMAC, f.ec, f.westEDKs)
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("discovery in another region: %v, want NotFoundException", err)
	}

	for _, tc := range []struct {
		filter *kmskeyring.DiscoveryFilter
		ok     bool
	}{
		{&kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{"444455556666", kmstest.DefaultAccountID}}, true},
		{&kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{"444455556666"}}, false},
		{&kmskeyring.DiscoveryFilter{Partition: "aws-cn", AccountIDs: []string{kmstest.DefaultAccountID}}, false},
	} {
		f.west.ResetCalls()
		kr := mustKR(kmskeyring.NewDiscovery(f.westKMS, tc.filter))
		_, err := decrypt(ctx, kr, keyring.SuiteHMAC, f.ec, f.westEDKs)
		if tc.ok != (err == nil) || (!tc.ok && (!errors.Is(err, keyring.ErrNoDecryptableKey) || len(f.west.Calls()) != 0)) {
			t.Fatalf("filter %+v: %v (%d calls)", tc.filter, err, len(f.west.Calls()))
		}
	}
	for _, bad := range []kmskeyring.DiscoveryFilter{{Partition: "aws"}, {AccountIDs: []string{"1"}}, {Partition: "aws", AccountIDs: []string{""}}} {
		if _, err := kmskeyring.NewDiscovery(f.westKMS, &bad); !errors.Is(err, kmskeyring.ErrInvalidDiscoveryFilter) {
			t.Fatalf("filter %+v: %v", bad, err)
		}
		if _, err := kmskeyring.NewMRKDiscovery(f.westKMS, "us-west-2", &bad); !errors.Is(err, kmskeyring.ErrInvalidDiscoveryFilter) {
			t.Fatalf("filter %+v: %v", bad, err)
		}
	}
	if _, err := kmskeyring.NewDiscovery(nil, nil); err == nil {
		t.Fatal("NewDiscovery(nil) succeeded")
	}
	em, _ := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, f.ec, nil)
	if err := kr.OnEncrypt(ctx, em); !errors.Is(err, kmskeyring.ErrDiscoveryCannotEncrypt) || !errors.Is(err, keyring.ErrKeyringCannotEncrypt) {
		t.Fatalf("OnEncrypt = %v", err)
	}
}

func TestMRKDiscoveryKeyring(t *testing.T) {
	f := newMRKFixture(t)
	ctx := context.Background()
	east := mustKR(kmskeyring.NewMRKDiscovery(f.eastKMS, "us-east-1", nil))
	dm, err := decrypt(ctx, east, keyring.SuiteHMAC, f.ec, f.westEDKs)
	if err != nil || string(dm.DataKey()) != string(f.westDK) {
		t.Fatalf("MRK discovery in us-east-1: %v", err)
	}
	if c := f.east.CallsFor(kmstest.OpDecrypt); len(c) != 1 || c[0].KeyID != f.eastARN {
		t.Fatalf("Decrypt calls %+v, want one naming the us-east-1 replica", c)
	}
	// A single-Region key of another region is filtered out: no call.
	f.east.ResetCalls()
	if _, err := decrypt(ctx, east, keyring.SuiteHMAC, f.ec, f.srkEDKs); !errors.Is(err, keyring.ErrNoDecryptableKey) || len(f.east.Calls()) != 0 {
		t.Fatalf("single-Region EDK of us-west-2: %v", err)
	}
	// ... and one of its own region is tried.
	west := mustKR(kmskeyring.NewMRKDiscovery(f.westKMS, "us-west-2", &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{kmstest.DefaultAccountID}}))
	if _, err := decrypt(ctx, west, keyring.SuiteHMAC, f.ec, f.srkEDKs); err != nil {
		t.Fatal(err)
	}
	if _, err := kmskeyring.NewMRKDiscovery(f.eastKMS, "us-west-2", nil); !errors.Is(err, kmskeyring.ErrRegionMismatch) {
		t.Fatalf("region mismatch: %v", err)
	}
	if _, err := kmskeyring.NewMRKDiscovery(f.eastKMS, "", nil); err == nil {
		t.Fatal("no region accepted")
	}
	if got := east.String(); got != "kmskeyring.MRKDiscoveryKeyring{us-east-1}" {
		t.Fatalf("String() = %s", got)
	}
}

// TestDiscoveryFailureModes: a failed key does not stop the others; every
// failure is reported, typed, when none succeeds.
func TestDiscoveryFailureModes(t *testing.T) {
	f := newMRKFixture(t)
	ctx := context.Background()
	both := append(cloneEDKs(f.srkEDKs), f.westEDKs...) // srk first
	deny := func(arn string) func(kmstest.Call) *kmstest.Failure {
		return func(c kmstest.Call) *kmstest.Failure {
			if c.KeyARN == arn {
				return &kmstest.Failure{Code: "AccessDeniedException"}
			}
			return nil
		}
	}
	kr := mustKR(kmskeyring.NewMRKDiscovery(f.westKMS, "us-west-2", nil))
	f.west.SetFailure(deny(f.srkARN))
	dm, err := decrypt(ctx, kr, keyring.SuiteHMAC, f.ec, both)
	if err != nil || string(dm.DataKey()) != string(f.westDK) {
		t.Fatalf("access denied on the first key: %v, want the second key's data key", err)
	}
	f.west.SetFailure(nil)
	f.west.FailNext(kmstest.OpDecrypt, "ThrottlingException", 2)
	_, err = decrypt(ctx, kr, keyring.SuiteHMAC, f.ec, both)
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" || !strings.Contains(err.Error(), f.srkARN) || !strings.Contains(err.Error(), f.westARN) {
		t.Fatalf("throttled: %v, want both attempts' ThrottlingException", err)
	}
	f.west.DisableKey(f.westARN)
	_, err = decrypt(ctx, mustKR(kmskeyring.NewDiscovery(f.westKMS, nil)), keyring.SuiteHMAC, f.ec, f.westEDKs)
	var disabled *types.DisabledException
	if !errors.As(err, &disabled) {
		t.Fatalf("disabled: %v", err)
	}
}

func TestDiscoveryRefusals(t *testing.T) {
	f := newMRKFixture(t)
	ctx := context.Background()
	krs := map[string]keyring.Keyring{
		"discovery":     mustKR(kmskeyring.NewDiscovery(f.westKMS, nil)),
		"mrk discovery": mustKR(kmskeyring.NewMRKDiscovery(f.westKMS, "us-west-2", nil)),
		"mrk":           mustKR(kmskeyring.NewMRK(f.westKMS, f.westARN)),
	}
	aliasARN := cloneEDKs(f.westEDKs)
	aliasARN[0].ProviderInfo = []byte("arn:aws:kms:us-west-2:111122223333:alias/mrk-x")
	notARN := cloneEDKs(f.westEDKs)
	notARN[0].ProviderInfo = []byte("mrk-x")
	for name, kr := range krs {
		for _, edks := range [][]keyring.EncryptedDataKey{aliasARN, notARN} {
			if _, err := decrypt(ctx, kr, keyring.SuiteHMAC, f.ec, edks); !errors.Is(err, kmskeyring.ErrInvalidProviderInfo) || !errors.Is(err, keyring.ErrAuthentication) {
				t.Fatalf("%s, provider info %q: %v", name, edks[0].ProviderInfo, err)
			}
		}
		if _, err := decrypt(ctx, kr, keyring.SuiteHMAC, map[string]string{"tenant": "b"}, f.westEDKs); !errors.Is(err, keyring.ErrAuthentication) {
			t.Fatalf("%s, another context: %v", name, err)
		}
		// A KMS answering with another key than asked for is refused.
		bad := &badKMS{KMSWithKeyARN: f.westKMS, arn: "arn:aws:kms:us-west-2:111122223333:key/other"}
		var kr2 keyring.Keyring
		switch name {
		case "discovery":
			kr2 = mustKR(kmskeyring.NewDiscovery(bad, nil))
		case "mrk discovery":
			kr2 = mustKR(kmskeyring.NewMRKDiscovery(bad, "us-west-2", nil))
		default:
			kr2 = mustKR(kmskeyring.NewMRK(bad, f.westARN))
		}
		if _, err := decrypt(ctx, kr2, keyring.SuiteHMAC, f.ec, f.westEDKs); !errors.Is(err, kmskeyring.ErrInvalidResponse) {
			t.Fatalf("%s, KMS answering with another key: %v", name, err)
		}
	}
}
