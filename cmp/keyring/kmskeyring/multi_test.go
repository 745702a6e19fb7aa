package kmskeyring_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// regional is awskms.RegionalClients over one aws.Config whose endpoint is
// chosen by Region among the fake KMS servers, as a real program's would
// be by the SDK.
func regional(servers ...*kmstest.Server) kmskeyring.ClientSupplier {
	urls := map[string]string{}
	for _, s := range servers {
		urls[s.Region()] = s.URL()
	}
	cfg := aws.Config{Region: servers[0].Region(), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAKMSTESTEXAMPLE", "kmstest-dummy-secret", "")}
	return awskms.RegionalClients(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(urls[o.Region]) })
}

// TestMultiKeyrings: the MPL's four KMS multi-keyrings built through a
// regional client supplier: an item written by the MRK multi-keyring (an
// MRK generator and a single-Region child) is read by the MRK discovery
// multi-keyring in the replica's Region and by the discovery
// multi-keyring; the strict multi-keyring's item by the strict keyring of
// its child.
func TestMultiKeyrings(t *testing.T) {
	f := newMRKFixture(t)
	ctx := context.Background()
	clients := regional(f.west, f.east)

	w := mustKR(kmskeyring.NewMRKMulti(clients, f.westARN, []string{f.srkARN}))
	em := encrypt(t, w, keyring.SuiteHMAC, f.ec)
	if edks := em.EncryptedDataKeys(); len(edks) != 2 || string(edks[0].ProviderInfo) != f.westARN || string(edks[1].ProviderInfo) != f.srkARN {
		t.Fatalf("EDKs %v, want the MRK's then the single-Region key's", edks)
	}
	f.west.ResetCalls()
	r := mustKR(kmskeyring.NewMRKDiscoveryMulti(clients, []string{"us-east-1", "us-west-2"}, &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{kmstest.DefaultAccountID}}))
	dm, err := decrypt(ctx, r, keyring.SuiteHMAC, f.ec, em.EncryptedDataKeys())
	if err != nil || string(dm.DataKey()) != string(em.DataKey()) {
		t.Fatalf("MRK discovery multi-keyring: %v", err)
	}
	if calls := f.east.CallsFor(kmstest.OpDecrypt); len(calls) != 1 || calls[0].KeyID != f.eastARN {
		t.Fatalf("us-east-1 Decrypt calls %+v, want one naming the replica", calls)
	}
	if calls := f.west.CallsFor(kmstest.OpDecrypt); len(calls) != 0 {
		t.Fatalf("us-west-2 was asked too: %+v", calls)
	}
	// The plain discovery multi-keyring in us-east-1 does not follow replicas
	// and a single-Region key of us-west-2 is not its Region's: nothing to read.
	east := mustKR(kmskeyring.NewDiscoveryMulti(clients, []string{"us-east-1"}, nil))
	if _, err := decrypt(ctx, east, keyring.SuiteHMAC, f.ec, em.EncryptedDataKeys()); err == nil {
		t.Fatal("the us-east-1 discovery multi-keyring read us-west-2 keys")
	}
	west := mustKR(kmskeyring.NewDiscoveryMulti(clients, []string{"us-west-2"}, nil))
	if _, err := decrypt(ctx, west, keyring.SuiteHMAC, f.ec, em.EncryptedDataKeys()); err != nil {
		t.Fatalf("the us-west-2 discovery multi-keyring: %v", err)
	}

	strict := mustKR(kmskeyring.NewMulti(clients, f.srkARN, nil, func(o *kmskeyring.Options) { o.GrantTokens = []string{"grant-1"} }))
	em = encrypt(t, strict, keyring.SuiteHMAC, f.ec)
	if calls := f.west.CallsFor(kmstest.OpGenerateDataKey); len(calls) == 0 || calls[len(calls)-1].KeyID != f.srkARN || fmt.Sprint(calls[len(calls)-1].GrantTokens) != "[grant-1]" {
		t.Fatalf("GenerateDataKey calls %+v, want the last naming the key with the grant token", calls)
	}
	if _, err := decrypt(ctx, mustKR(kmskeyring.New(f.westKMS, f.srkARN)), keyring.SuiteHMAC, f.ec, em.EncryptedDataKeys()); err != nil {
		t.Fatal(err)
	}
	// A child-only multi-keyring adds its EDK to materials that have a data key.
	child := mustKR(kmskeyring.NewMulti(clients, "", []string{f.westARN}))
	if _, err := keyring.NewMulti(strict, child); err != nil {
		t.Fatal(err)
	}
}

func TestMultiKeyringRefusals(t *testing.T) {
	f := newMRKFixture(t)
	clients := regional(f.west, f.east)
	failing := kmskeyring.ClientSupplier(func(region string) (cmp.KMS, error) { return nil, errors.New("no credentials") })
	for _, tc := range []struct {
		name  string
		build func() error
		want  error
		names []string
	}{
		{"replicas of one MRK", func() error {
			_, err := kmskeyring.NewMRKMulti(clients, f.westARN, []string{f.srkARN, f.eastARN})
			return err
		},
			kmskeyring.ErrDuplicateMRK, []string{f.westARN, f.eastARN}},
		{"an MRK by id and by ARN", func() error {
			_, err := kmskeyring.NewMRKMulti(clients, "", []string{"mrk-1234", "arn:aws:kms:us-west-2:111122223333:key/mrk-1234"})
			return err
		}, kmskeyring.ErrDuplicateMRK, []string{"mrk-1234", "key/mrk-1234"}},
		{"no supplier", func() error { _, err := kmskeyring.NewMulti(nil, f.srkARN, nil); return err }, kmskeyring.ErrClientSupplierRequired, nil},
		{"no supplier, discovery", func() error { _, err := kmskeyring.NewMRKDiscoveryMulti(nil, []string{"us-east-1"}, nil); return err }, kmskeyring.ErrClientSupplierRequired, nil},
		{"no keys", func() error { _, err := kmskeyring.NewMulti(clients, "", nil); return err }, nil, nil},
		{"invalid identifier", func() error { _, err := kmskeyring.NewMulti(clients, "arn:aws:s3:::bucket", nil); return err }, nil, []string{"arn:aws:s3:::bucket"}},
		{"no Regions", func() error { _, err := kmskeyring.NewDiscoveryMulti(clients, nil, nil); return err }, nil, nil},
		{"an empty Region", func() error {
			_, err := kmskeyring.NewDiscoveryMulti(clients, []string{"us-west-2", ""}, nil)
			return err
		}, nil, []string{"Region 1"}},
		{"the supplier fails", func() error { _, err := kmskeyring.NewMRKMulti(failing, f.westARN, nil); return err }, nil, []string{`"us-west-2"`, "no credentials"}},
		{"a client of another Region", func() error {
			wrong := kmskeyring.ClientSupplier(func(string) (cmp.KMS, error) { return f.westKMS, nil })
			_, err := kmskeyring.NewMRKDiscoveryMulti(wrong, []string{"us-east-1"}, nil)
			return err
		}, kmskeyring.ErrRegionMismatch, nil},
	} {
		err := tc.build()
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want an error matching %v", tc.name, err, tc.want)
			continue
		}
		for _, n := range tc.names {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("%s: %q does not name %s", tc.name, err, n)
			}
		}
	}
}

// TestMultiKeyringChecksFirst: as in the MPL, every key identifier, Region
// and the discovery filter are checked before the supplier is asked for
// any client, so a refused configuration asks it nothing.
func TestMultiKeyringChecksFirst(t *testing.T) {
	f := newMRKFixture(t)
	var asked []string
	clients := regional(f.west, f.east)
	counting := kmskeyring.ClientSupplier(func(region string) (cmp.KMS, error) {
		asked = append(asked, region)
		return clients(region)
	})
	for name, build := range map[string]func() error{
		"an invalid last child": func() error {
			_, err := kmskeyring.NewMulti(counting, f.westARN, []string{f.srkARN, "key/x"})
			return err
		},
		"an invalid generator": func() error {
			_, err := kmskeyring.NewMRKMulti(counting, "arn:aws:kms:us-west-2:111122223333:key/a:b", []string{f.srkARN})
			return err
		},
		"an empty last Region": func() error {
			_, err := kmskeyring.NewDiscoveryMulti(counting, []string{"us-west-2", "us-east-1", ""}, nil)
			return err
		},
		"an invalid filter": func() error {
			_, err := kmskeyring.NewMRKDiscoveryMulti(counting, []string{"us-west-2"}, &kmskeyring.DiscoveryFilter{Partition: "aws"})
			return err
		},
	} {
		asked = nil
		if err := build(); err == nil {
			t.Errorf("%s: built", name)
		}
		if len(asked) != 0 {
			t.Errorf("%s: the supplier was asked for %q", name, asked)
		}
	}
	// A configuration that is built asks once per key, in order.
	asked = nil
	if _, err := kmskeyring.NewMRKMulti(counting, f.westARN, []string{"alias/x", f.srkARN}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(asked) != "[us-west-2  us-west-2]" {
		t.Errorf("asked %q, want the generator's Region, \"\" for the alias, the child's Region", asked)
	}
}

// TestRegionalClients: one client per Region, made once; "" keeps the
// configuration's Region.
func TestRegionalClients(t *testing.T) {
	west := kmstest.NewServer(t)
	east := kmstest.NewServer(t, func(o *kmstest.Options) { o.Region = "us-east-1" })
	clients := regional(west, east)
	a, _ := clients("us-east-1")
	b, _ := clients("us-east-1")
	d, _ := clients("")
	if a != b {
		t.Error("two clients for one Region")
	}
	for k, want := range map[cmp.KMS]string{a: "us-east-1", d: "us-west-2"} {
		if got := k.(interface{ Region() string }).Region(); got != want {
			t.Errorf("Region() = %s, want %s", got, want)
		}
	}
}

// A global table read in whichever Region the program runs, whatever
// Region's replica of a multi-Region key wrapped the item: one MRK-aware
// discovery keyring per Region, each with its Region's KMS client.
func ExampleNewMRKDiscoveryMulti() {
	west := kmstest.New()
	defer west.Close()
	east := kmstest.New(func(o *kmstest.Options) { o.Region = "us-east-1" })
	defer east.Close()
	_, westARN := west.CreateKey(kmstest.WithMultiRegion())
	west.ReplicateKey(westARN, east)

	// With AWS: cfg, err := config.LoadDefaultConfig(ctx); clients := awskms.RegionalClients(cfg)
	clients := regional(west, east)
	writer, err := kmskeyring.NewMRKMulti(clients, westARN, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(writer, map[string]string{"tenant": "a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The reader in us-east-1 tries its own Region first.
	reader, err := kmskeyring.NewMRKDiscoveryMulti(clients, []string{"us-east-1", "us-west-2"},
		&kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{kmstest.DefaultAccountID}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("decrypted:", exampleDecrypt(reader, em) == nil, "by us-east-1:", len(east.CallsFor(kmstest.OpDecrypt)) == 1)
	// Output: decrypted: true by us-east-1: true
}
