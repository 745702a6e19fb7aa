package dbesdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// mrkRegionB is the second Region of the multi-Region tests; the first,
// Region A, is kmstest.DefaultRegion.
const mrkRegionB = "eu-central-1"

// mrkOtherAccount is an account that owns none of the keys.
const mrkOtherAccount = "444455556666"

// mrkFixture is two Regions of the fake KMS, one server each (a kmstest
// server serves one Region and refuses requests signed for another, as
// KMS does), of their own (TestKMSMRKRefusals resets their call records),
// with a multi-Region key and its replica, and a single-Region
// key in A beside a key in B of the same id and material that is no
// replica (its id has no "mrk-" prefix, so no MRK-aware keyring may take
// one for the other, though KMS B would decrypt A's ciphertexts with it).
type mrkFixture struct {
	a, b       *kmstest.Server
	mrkA, mrkB string // ARNs of the multi-Region key in A and its replica in B
	srkA, srkB string // ARNs of the single-Region key in A and its namesake in B

	// pairs are split keyrings: the writer (ours: the strict keyring, the
	// reference: its MRK-aware strict keyring, both on mrkA) and a reader
	// of another kind on both sides.
	pairs []KeyringPair
	// readers by name, for the refusal cases; each as a KeyringPair whose
	// two keyrings only decrypt.
	readers map[string]KeyringPair
	// writers by name: "mrk" (on mrkA), "srk" (on srkA) and "multi" (srkA
	// generating, mrkA a child).
	writers map[string]KeyringPair
}

var (
	mrkOnce sync.Once
	mrkFix  *mrkFixture
	mrkErr  error
)

// kmsMRK builds the fixture once per process.
func kmsMRK(t testing.TB) *mrkFixture {
	mrkOnce.Do(func() { mrkFix, mrkErr = buildKMSMRK(t) })
	if mrkErr != nil {
		t.Fatal(mrkErr)
	}
	return mrkFix
}

// kmsMRKKeyrings are the multi-Region pairs of the differential test: an
// item written in Region A is read in Region B with the replica (MRK-aware
// strict), with the MRK-aware discovery keyring of B (with and without a
// discovery filter, and of an item whose first EDK is a single-Region
// key's), and in A with the plain discovery keyring; and, in
// "kms-mrk-strict-replica-swapped", ours writes with its MRK-aware strict
// keyring and the reference with its plain strict one.
func kmsMRKKeyrings(t testing.TB) []KeyringPair { return kmsMRK(t).pairs }

func buildKMSMRK(t testing.TB) (*mrkFixture, error) {
	ctx := context.Background()
	m := refMPL(t)
	f := &mrkFixture{readers: map[string]KeyringPair{}, writers: map[string]KeyringPair{}}
	f.a = kmstest.New()
	f.b = kmstest.New(func(o *kmstest.Options) { o.Region = mrkRegionB })
	_, f.mrkA = f.a.CreateKey(kmstest.WithMultiRegion())
	f.mrkB = f.a.ReplicateKey(f.mrkA, f.b)
	material := make([]byte, 32)
	for i := range material {
		material[i] = byte(0x6b ^ i)
	}
	srkID, srkA := f.a.CreateKey(kmstest.WithKeyMaterial(material))
	_, f.srkB = f.b.CreateKey(kmstest.WithKeyID(srkID), kmstest.WithKeyMaterial(material))
	f.srkA = srkA
	clientA, clientB := f.a.Client(), f.b.Client()
	oursA, oursB := awskms.New(clientA), awskms.New(clientB)

	refStrict := func(c *kms.Client, arn string) (mpltypes.IKeyring, error) {
		r, err := m.CreateAwsKmsMrkKeyring(ctx, mpltypes.CreateAwsKmsMrkKeyringInput{KmsClient: c, KmsKeyId: arn})
		if err != nil {
			return nil, fmt.Errorf("reference MRK keyring %s: %w", arn, err)
		}
		return r, nil
	}
	// writers
	for name, arn := range map[string]string{"mrk": f.mrkA, "srk": f.srkA} {
		o, err := kmskeyring.New(oursA, arn)
		if err != nil {
			return nil, err
		}
		r, err := refStrict(clientA, arn)
		if err != nil {
			return nil, err
		}
		f.writers[name] = KeyringPair{Name: name, Ours: o, Ref: r}
	}

	// "multi": the single-Region key generates, the multi-Region key is a
	// child, so that a reader meets an EDK it must pass over first.
	{
		gen, child := f.writers["srk"], f.writers["mrk"]
		o, err := keyring.NewMulti(gen.Ours, child.Ours)
		if err != nil {
			return nil, err
		}
		r, err := m.CreateMultiKeyring(ctx, mpltypes.CreateMultiKeyringInput{Generator: gen.Ref, ChildKeyrings: []mpltypes.IKeyring{child.Ref}})
		if err != nil {
			return nil, fmt.Errorf("reference multi: %w", err)
		}
		f.writers["multi"] = KeyringPair{Name: "multi", Ours: o, Ref: r}
	}

	// readers
	addReader := func(name string, o keyring.Keyring, oErr error, r mpltypes.IKeyring, rErr error) error {
		if oErr != nil {
			return fmt.Errorf("ours %s: %w", name, oErr)
		}
		if rErr != nil {
			return fmt.Errorf("reference %s: %w", name, rErr)
		}
		f.readers[name] = KeyringPair{Name: name, Ours: o, Ref: r}
		return nil
	}
	strict := func(name string, c *kms.Client, ours *awskms.KMS, arn string) error {
		o, oErr := kmskeyring.NewMRK(ours, arn)
		r, rErr := refStrict(c, arn)
		return addReader(name, o, oErr, r, rErr)
	}
	mrkDiscovery := func(name string, filter *kmskeyring.DiscoveryFilter) error {
		o, oErr := kmskeyring.NewMRKDiscovery(oursB, mrkRegionB, filter)
		r, rErr := m.CreateAwsKmsMrkDiscoveryKeyring(ctx, mpltypes.CreateAwsKmsMrkDiscoveryKeyringInput{
			KmsClient: clientB, Region: mrkRegionB, DiscoveryFilter: refFilter(filter)})
		return addReader(name, o, oErr, r, rErr)
	}
	discovery := func(name string, c *kms.Client, ours *awskms.KMS, filter *kmskeyring.DiscoveryFilter) error {
		o, oErr := kmskeyring.NewDiscovery(ours, filter)
		r, rErr := m.CreateAwsKmsDiscoveryKeyring(ctx, mpltypes.CreateAwsKmsDiscoveryKeyringInput{
			KmsClient: c, DiscoveryFilter: refFilter(filter)})
		return addReader(name, o, oErr, r, rErr)
	}
	filter := func(partition string, accounts ...string) *kmskeyring.DiscoveryFilter {
		return &kmskeyring.DiscoveryFilter{Partition: partition, AccountIDs: accounts}
	}
	for _, err := range []error{
		strict("mrk-strict-B", clientB, oursB, f.mrkB),
		strict("srk-strict-B", clientB, oursB, f.srkB),
		mrkDiscovery("mrk-discovery-B", nil),
		mrkDiscovery("mrk-discovery-B-filter", filter("aws", mrkOtherAccount, kmstest.DefaultAccountID)),
		mrkDiscovery("mrk-discovery-B-other-account", filter("aws", mrkOtherAccount)),
		mrkDiscovery("mrk-discovery-B-other-partition", filter("aws-cn", kmstest.DefaultAccountID)),
		discovery("discovery-A", clientA, oursA, nil),
		discovery("discovery-A-filter", clientA, oursA, filter("aws", kmstest.DefaultAccountID)),
		discovery("discovery-A-other-account", clientA, oursA, filter("aws", mrkOtherAccount)),
		discovery("discovery-A-other-partition", clientA, oursA, filter("aws-us-gov", kmstest.DefaultAccountID)),
		discovery("discovery-B", clientB, oursB, nil),
	} {
		if err != nil {
			return nil, err
		}
	}

	split := func(name, writer, reader string) KeyringPair {
		w, rd := f.writers[writer], f.readers[reader]
		return KeyringPair{Name: name, Ours: splitOurs{w.Ours, rd.Ours}, Ref: splitRef{w.Ref, rd.Ref}}
	}
	f.pairs = []KeyringPair{
		split("kms-mrk-strict-replica", "mrk", "mrk-strict-B"),
		split("kms-mrk-discovery-replica", "mrk", "mrk-discovery-B"),
		split("kms-mrk-discovery-replica-filter", "mrk", "mrk-discovery-B-filter"),
		split("kms-mrk-discovery-replica-multi", "multi", "mrk-discovery-B"),
		split("kms-discovery", "mrk", "discovery-A"),
		split("kms-discovery-filter", "mrk", "discovery-A-filter"),
	}
	// The other way round: ours writes with its MRK-aware strict keyring,
	// the reference with its plain strict keyring.
	oMRK, err := kmskeyring.NewMRK(oursA, f.mrkA)
	if err != nil {
		return nil, err
	}
	rPlain, err := m.CreateAwsKmsKeyring(ctx, mpltypes.CreateAwsKmsKeyringInput{KmsClient: clientA, KmsKeyId: f.mrkA})
	if err != nil {
		return nil, fmt.Errorf("reference KMS keyring: %w", err)
	}
	rd := f.readers["mrk-strict-B"]
	f.pairs = append(f.pairs, KeyringPair{Name: "kms-mrk-strict-replica-swapped", Ours: splitOurs{oMRK, rd.Ours}, Ref: splitRef{rPlain, rd.Ref}})
	return f, nil
}

// refFilter is the reference's form of a discovery filter.
func refFilter(f *kmskeyring.DiscoveryFilter) *mpltypes.DiscoveryFilter {
	if f == nil {
		return nil
	}
	return &mpltypes.DiscoveryFilter{Partition: f.Partition, AccountIds: f.AccountIDs}
}

// decryptCalls returns the KeyIds of the Decrypt calls srv recorded.
func decryptCalls(srv *kmstest.Server) []string {
	var ids []string
	for _, c := range srv.CallsFor(kmstest.OpDecrypt) {
		ids = append(ids, c.KeyID)
	}
	return ids
}

// kmsOutcome is what a decryption did, as far as both sides can be
// compared: whether it succeeded and which keys it asked KMS A and B to
// decrypt with (a refusal's error text differs between the sides).
type kmsOutcome struct {
	ok   bool
	a, b []string
}

func (o kmsOutcome) String() string {
	return fmt.Sprintf("ok=%v Decrypt KeyIds: A %q, B %q", o.ok, o.a, o.b)
}

// decrypt decrypts stored with s and reports the KMS calls it made. The
// tests of the package run one at a time, and only the pairs of the
// fixture reach its servers.
func (f *mrkFixture) decrypt(ctx context.Context, s Side, stored Item) (kmsOutcome, error) {
	f.a.ResetCalls()
	f.b.ResetCalls()
	_, err := dec(ctx, s, stored)
	return kmsOutcome{ok: err == nil, a: decryptCalls(f.a), b: decryptCalls(f.b)}, err
}

// TestKMSMRKRefusals: items written in Region A (by each side, on six
// configurations generated from the run's seed) that a reader of the other kind must refuse on
// both sides: discovery filters of another account or partition, a key in
// B of the same id and material that is no multi-Region key, and the plain
// discovery keyring of B (which does not follow replicas). Each case has a
// control reader that decrypts the same items, and both sides must ask KMS
// the same (the refusals by filter or region ask it nothing).
func TestKMSMRKRefusals(t *testing.T) {
	ctx := context.Background()
	f := kmsMRK(t)
	for _, tc := range []struct {
		writer, control, refused string
		// refusedCallsB: the refused reader asks KMS B with this key (the
		// plain discovery keyring of B asks for the key of A there).
		refusedCallsB func(f *mrkFixture) []string
	}{
		{writer: "mrk", control: "mrk-discovery-B-filter", refused: "mrk-discovery-B-other-account"},
		{writer: "mrk", control: "mrk-discovery-B-filter", refused: "mrk-discovery-B-other-partition"},
		{writer: "mrk", control: "discovery-A-filter", refused: "discovery-A-other-account"},
		{writer: "mrk", control: "discovery-A-filter", refused: "discovery-A-other-partition"},
		{writer: "srk", control: "discovery-A", refused: "srk-strict-B"},
		{writer: "srk", control: "discovery-A", refused: "mrk-discovery-B"},
		{writer: "mrk", control: "mrk-discovery-B", refused: "discovery-B", refusedCallsB: func(f *mrkFixture) []string { return []string{f.mrkA} }},
		{writer: "srk", control: "discovery-A", refused: "discovery-B", refusedCallsB: func(f *mrkFixture) []string { return []string{f.srkA} }},
		{writer: "multi", control: "mrk-discovery-B", refused: "discovery-B", refusedCallsB: func(f *mrkFixture) []string { return []string{f.srkA, f.mrkA} }},
		{writer: "multi", control: "discovery-A", refused: "mrk-discovery-B-other-account"},
	} {
		t.Run(tc.writer+"/"+tc.refused, func(t *testing.T) {
			w, ctl, ref := f.writers[tc.writer], f.readers[tc.control], f.readers[tc.refused]
			var wantB []string
			if tc.refusedCallsB != nil {
				wantB = tc.refusedCallsB(f)
			}
			items := 0
			base := max(*flagSeed, 1) // the run's seed: other items each run
			for seed := base; items < 6; seed++ {
				if seed-base >= 100 {
					t.Fatalf("only %d items written in 100 configurations from seed %d", items, base)
				}
				g := newGen(seed)
				c := g.config([]string{w.Name})
				ow, errO := newOurs(c, w.Ours)
				rw, errR := newRef(c, w.Ref)
				if errO != nil || errR != nil {
					continue // a configuration both refuse, or one the main test compares
				}
				it := g.item(c)
				eo, errO := enc(ctx, ow, it)
				er, errR := enc(ctx, rw, it)
				if errO != nil || errR != nil {
					continue
				}
				items++
				readers := map[string]Side{}
				for _, kp := range []KeyringPair{ctl, ref} {
					o, r := newSides(t, c, kp.Ours, kp.Ref)
					readers["ours/"+kp.Name], readers["reference/"+kp.Name] = o, r
				}
				for writer, stored := range map[string]Item{"ours": eo, "reference": er} {
					var ctlOut, refOut [2]kmsOutcome
					for i, side := range []string{"ours", "reference"} {
						out, err := f.decrypt(ctx, readers[side+"/"+ctl.Name], stored)
						if err != nil {
							t.Fatalf("seed %d: %s's item: control %s of %s: %v", seed, writer, ctl.Name, side, err)
						}
						ctlOut[i] = out
						out, err = f.decrypt(ctx, readers[side+"/"+ref.Name], stored)
						if err == nil {
							t.Fatalf("seed %d: %s's item: %s of %s decrypts", seed, writer, ref.Name, side)
						}
						if side == "ours" && wantB == nil && !errors.Is(err, keyring.ErrNoDecryptableKey) {
							t.Errorf("seed %d: %s's item: ours refuses with %v, want keyring.ErrNoDecryptableKey", seed, writer, err)
						}
						refOut[i] = out
					}
					if !equalOutcome(ctlOut[0], ctlOut[1]) {
						t.Errorf("seed %d: %s's item: control %s: ours %v, reference %v", seed, writer, ctl.Name, ctlOut[0], ctlOut[1])
					}
					want := kmsOutcome{b: wantB}
					for i, side := range []string{"ours", "reference"} {
						if !equalOutcome(refOut[i], want) {
							t.Errorf("seed %d: %s's item: %s of %s: %v, want %v", seed, writer, ref.Name, side, refOut[i], want)
						}
					}
				}
			}
		})
	}
}

func equalOutcome(x, y kmsOutcome) bool {
	return x.ok == y.ok && slices.Equal(x.a, y.a) && slices.Equal(x.b, y.b)
}

// TestKMSMRKSameKeyInB is the refusals' control of the fake KMS: the key
// of B that shares the single-Region key's id and material decrypts A's
// ciphertexts when asked directly, so MRK-aware keyrings refuse such
// items by their ARN rule, not because KMS B cannot.
func TestKMSMRKSameKeyInB(t *testing.T) {
	ctx := context.Background()
	f := kmsMRK(t)
	blob, err := awskms.New(f.a.Client()).Encrypt(ctx, f.srkA, []byte("sixteen byte key"), map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	p, arn, err := awskms.New(f.b.Client()).DecryptWithARN(ctx, f.srkB, blob, map[string]string{"k": "v"})
	if err != nil || string(p) != "sixteen byte key" || arn != f.srkB {
		t.Fatalf("KMS B with the same-id key: %q %s %v", p, arn, err)
	}
}

// TestKMSMRKConstruction: configurations both sides refuse to build: an
// MRK-aware discovery keyring whose Region is not its client's, and
// discovery filters with no partition, no account or a blank account.
func TestKMSMRKConstruction(t *testing.T) {
	ctx := context.Background()
	f := kmsMRK(t)
	m := refMPL(t)
	client := f.a.Client()
	ours := awskms.New(client)
	for _, tc := range []struct {
		name   string
		region string
		filter *kmskeyring.DiscoveryFilter
		refuse bool
	}{
		{"client and region match", kmstest.DefaultRegion, nil, false},
		{"client of A, region B", mrkRegionB, nil, true},
		{"filter without partition", kmstest.DefaultRegion, &kmskeyring.DiscoveryFilter{AccountIDs: []string{kmstest.DefaultAccountID}}, true},
		{"filter without accounts", kmstest.DefaultRegion, &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{}}, true},
		{"filter with a blank account", kmstest.DefaultRegion, &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{kmstest.DefaultAccountID, ""}}, true},
	} {
		_, errO := kmskeyring.NewMRKDiscovery(ours, tc.region, tc.filter)
		_, errR := m.CreateAwsKmsMrkDiscoveryKeyring(ctx, mpltypes.CreateAwsKmsMrkDiscoveryKeyringInput{KmsClient: client, Region: tc.region, DiscoveryFilter: refFilter(tc.filter)})
		if (errO != nil) != tc.refuse || (errR != nil) != tc.refuse {
			t.Errorf("MRK discovery, %s: ours %v, reference %v; want refused=%v", tc.name, errO, errR, tc.refuse)
		}
		if tc.region != kmstest.DefaultRegion {
			continue
		}
		_, errO = kmskeyring.NewDiscovery(ours, tc.filter)
		_, errR = m.CreateAwsKmsDiscoveryKeyring(ctx, mpltypes.CreateAwsKmsDiscoveryKeyringInput{KmsClient: client, DiscoveryFilter: refFilter(tc.filter)})
		if (errO != nil) != tc.refuse || (errR != nil) != tc.refuse {
			t.Errorf("discovery, %s: ours %v, reference %v; want refused=%v", tc.name, errO, errR, tc.refuse)
		}
	}
}

// TestKMSMRKDifferential is TestDifferential over the multi-Region pairs
// only (which TestDifferential draws among all the others), a twentieth of
// its items, so that -run KMSMRK checks them on their own.
func TestKMSMRKDifferential(t *testing.T) {
	pairs, names := pairsOf(kmsMRKKeyrings(t))
	runMany(t, context.Background(), pairs, names, max(itemsPerDirection()/20, 1))
}
