package dbesdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	mpl "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygenerated"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// The MPL's four AWS KMS multi-keyrings on both sides, over the two
// Regions of the multi-Region fixture (kmsmrk_test.go): ours built by
// kmskeyring.NewMulti, NewMRKMulti, NewDiscoveryMulti and
// NewMRKDiscoveryMulti over awskms.RegionalClients, the reference's by
// CreateAwsKmsMultiKeyring, CreateAwsKmsMrkMultiKeyring,
// CreateAwsKmsDiscoveryMultiKeyring and CreateAwsKmsMrkDiscoveryMultiKeyring
// over an IClientSupplier; both sides' clients are SDK clients pointed, by
// Region, at that Region's kmstest server, through one recording transport
// (kmsTrace), so that the KMS calls of the two sides can be compared in
// order across the Regions.

// multiFixture is the multi-keyring fixture.
type multiFixture struct {
	mrk   *mrkFixture
	srkB  string // a single-Region key of Region B only
	urls  map[string]string
	trace *kmsTrace
	cfg   aws.Config

	// writers: "kms-multi" (NewMulti: mrkA generating, srkA a child) and
	// "kms-mrk-multi" (NewMRKMulti: mrkA generating, srkB a child).
	writers map[string]KeyringPair
	// readers: "mrk-discovery-multi" over [B, A] with a discovery filter,
	// "discovery-multi" over [B, A] without.
	readers map[string]KeyringPair
	pairs   []KeyringPair
}

var (
	multiOnce sync.Once
	multiFix  *multiFixture
	multiErr  error
)

func kmsMulti(t testing.TB) *multiFixture {
	mrk := kmsMRK(t)
	multiOnce.Do(func() { multiFix, multiErr = buildKMSMulti(t, mrk) })
	if multiErr != nil {
		t.Fatal(multiErr)
	}
	return multiFix
}

// kmsMultiKeyrings are the multi-keyring pairs of the differential test:
// each writer's items read by each reader.
func kmsMultiKeyrings(t testing.TB) []KeyringPair { return kmsMulti(t).pairs }

// kmsTrace is an http.RoundTripper that records every KMS request both
// sides send, in order: the Region of the server it reaches, the
// operation, the KeyId and whether KMS answered it.
type kmsTrace struct {
	base    http.RoundTripper
	regions map[string]string // server host → Region

	mu    sync.Mutex
	calls []string
}

func (tr *kmsTrace) RoundTrip(r *http.Request) (*http.Response, error) {
	var req struct{ KeyId string }
	r2 := r.Clone(r.Context())
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		_ = json.Unmarshal(b, &req) // a body that is not JSON records no KeyId
		r2.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := tr.base.RoundTrip(r2)
	outcome := "ok"
	switch {
	case err != nil:
		outcome = "error"
	case resp.StatusCode != http.StatusOK:
		outcome = "refused"
	}
	region, ok := tr.regions[r.URL.Host]
	if !ok {
		region = "unknown host " + r.URL.Host
	}
	tr.mu.Lock()
	tr.calls = append(tr.calls, fmt.Sprintf("%s %s %s %s", region, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService."), req.KeyId, outcome))
	tr.mu.Unlock()
	return resp, err
}

// take returns the calls recorded since the last take.
func (tr *kmsTrace) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	c := tr.calls
	tr.calls = nil
	return c
}

func buildKMSMulti(t testing.TB, mrk *mrkFixture) (*multiFixture, error) {
	f := &multiFixture{mrk: mrk, urls: map[string]string{}, writers: map[string]KeyringPair{}, readers: map[string]KeyringPair{}}
	_, f.srkB = mrk.b.CreateKey()
	f.trace = &kmsTrace{base: http.DefaultTransport.(*http.Transport).Clone(), regions: map[string]string{}}
	for _, s := range []*kmstest.Server{mrk.a, mrk.b} {
		u, err := url.Parse(s.URL())
		if err != nil {
			return nil, err
		}
		f.urls[s.Region()] = s.URL()
		f.trace.regions[u.Host] = s.Region()
	}
	f.cfg = aws.Config{Region: mrk.a.Region(), RetryMaxAttempts: 1, HTTPClient: &http.Client{Transport: f.trace},
		Credentials: credentials.NewStaticCredentialsProvider("AKIAKMSTESTEXAMPLE", "kmstest-dummy-secret", "")}

	var asked []string // the fixture's own keyrings: not compared here
	ours, ref := f.oursClients(&asked), f.refClients(&asked)
	for _, b := range []multiBuild{
		{name: "kms-multi", kind: multiStrict, generator: mrk.mrkA, keys: []string{mrk.srkA}},
		{name: "kms-mrk-multi", kind: multiMRK, generator: mrk.mrkA, keys: []string{f.srkB}},
		{name: "mrk-discovery-multi", kind: multiMRKDiscovery, regions: []string{mrkRegionB, kmstest.DefaultRegion},
			filter: &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{mrkOtherAccount, kmstest.DefaultAccountID}}},
		{name: "discovery-multi", kind: multiDiscovery, regions: []string{mrkRegionB, kmstest.DefaultRegion}},
		// Readers of TestKMSMultiCalls only.
		{name: "discovery-multi-B", kind: multiDiscovery, regions: []string{mrkRegionB}},
		{name: "mrk-discovery-multi-other-account", kind: multiMRKDiscovery, regions: []string{mrkRegionB, kmstest.DefaultRegion},
			filter: &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{mrkOtherAccount}}},
	} {
		o, errO := b.ours(ours)
		r, errR := b.ref(refMPL(t), ref)
		if errO != nil || errR != nil {
			return nil, fmt.Errorf("%s: ours %v, reference %v", b.name, errO, errR)
		}
		kp := KeyringPair{Name: b.name, Ours: o, Ref: r}
		if b.kind == multiStrict || b.kind == multiMRK {
			f.writers[b.name] = kp
		} else {
			f.readers[b.name] = kp
		}
	}
	for _, w := range []string{"kms-multi", "kms-mrk-multi"} {
		for _, rd := range []string{"mrk-discovery-multi", "discovery-multi"} {
			wp, rp := f.writers[w], f.readers[rd]
			f.pairs = append(f.pairs, KeyringPair{Name: w + "/" + rd, Ours: splitOurs{wp.Ours, rp.Ours}, Ref: splitRef{wp.Ref, rp.Ref}})
		}
	}
	return f, nil
}

// endpoint routes a client to the server of its Region.
func (f *multiFixture) endpoint(o *kms.Options) {
	if u, ok := f.urls[o.Region]; ok {
		o.BaseEndpoint = aws.String(u)
	}
}

// oursClients is our ClientSupplier: awskms.RegionalClients over the
// fixture's aws.Config, appending each Region asked to asked. A Region
// without a server fails, as the reference's supplier does.
func (f *multiFixture) oursClients(asked *[]string) kmskeyring.ClientSupplier {
	clients := awskms.RegionalClients(f.cfg, f.endpoint)
	return func(region string) (cmp.KMS, error) {
		*asked = append(*asked, region)
		if _, ok := f.urls[region]; !ok && region != "" {
			return nil, fmt.Errorf("no KMS server for Region %q", region)
		}
		return clients(region)
	}
}

// refClients is the reference's client supplier (the MPL's
// IClientSupplier): an SDK client per Region over the fixture's
// aws.Config ("" is the configuration's Region), appending each Region
// asked to asked.
type refClients struct {
	f     *multiFixture
	asked *[]string
	mu    *sync.Mutex
	made  map[string]*kms.Client
}

func (f *multiFixture) refClients(asked *[]string) refClients {
	return refClients{f: f, asked: asked, mu: &sync.Mutex{}, made: map[string]*kms.Client{}}
}

func (s refClients) GetClient(in mpltypes.GetClientInput) (kms.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.asked = append(*s.asked, in.Region)
	region := in.Region
	if region == "" {
		region = s.f.cfg.Region
	}
	if _, ok := s.f.urls[region]; !ok {
		// The MPL panics on an error of no type of its own.
		return kms.Client{}, mpltypes.AwsCryptographicMaterialProvidersException{Message: fmt.Sprintf("no KMS server for Region %q", in.Region)}
	}
	c, ok := s.made[region]
	if !ok {
		c = kms.NewFromConfig(s.f.cfg, func(o *kms.Options) { o.Region = region }, s.f.endpoint)
		s.made[region] = c
	}
	return *c, nil
}

type multiKind int

const (
	multiStrict multiKind = iota
	multiMRK
	multiDiscovery
	multiMRKDiscovery
)

func (k multiKind) String() string {
	return [...]string{"NewMulti", "NewMRKMulti", "NewDiscoveryMulti", "NewMRKDiscoveryMulti"}[k]
}

// multiBuild is one multi-keyring configuration, built on either side.
type multiBuild struct {
	name      string
	kind      multiKind
	generator string   // strict kinds; "" for none
	keys      []string // strict kinds' children
	regions   []string // discovery kinds
	filter    *kmskeyring.DiscoveryFilter
}

func (b multiBuild) ours(clients kmskeyring.ClientSupplier) (*keyring.Multi, error) {
	switch b.kind {
	case multiStrict:
		return kmskeyring.NewMulti(clients, b.generator, b.keys)
	case multiMRK:
		return kmskeyring.NewMRKMulti(clients, b.generator, b.keys)
	case multiDiscovery:
		return kmskeyring.NewDiscoveryMulti(clients, b.regions, b.filter)
	default:
		return kmskeyring.NewMRKDiscoveryMulti(clients, b.regions, b.filter)
	}
}

func (b multiBuild) ref(m *mpl.Client, clients mpltypes.IClientSupplier) (mpltypes.IKeyring, error) {
	ctx := context.Background()
	var gen *string
	if b.generator != "" {
		gen = aws.String(b.generator)
	}
	var out mpltypes.IKeyring
	var err error
	switch b.kind {
	case multiStrict:
		out, err = m.CreateAwsKmsMultiKeyring(ctx, mpltypes.CreateAwsKmsMultiKeyringInput{ClientSupplier: clients, Generator: gen, KmsKeyIds: b.keys})
	case multiMRK:
		out, err = m.CreateAwsKmsMrkMultiKeyring(ctx, mpltypes.CreateAwsKmsMrkMultiKeyringInput{ClientSupplier: clients, Generator: gen, KmsKeyIds: b.keys})
	case multiDiscovery:
		out, err = m.CreateAwsKmsDiscoveryMultiKeyring(ctx, mpltypes.CreateAwsKmsDiscoveryMultiKeyringInput{ClientSupplier: clients, Regions: b.regions, DiscoveryFilter: refFilter(b.filter)})
	default:
		out, err = m.CreateAwsKmsMrkDiscoveryMultiKeyring(ctx, mpltypes.CreateAwsKmsMrkDiscoveryMultiKeyringInput{ClientSupplier: clients, Regions: b.regions, DiscoveryFilter: refFilter(b.filter)})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TestKMSMultiDifferential is TestDifferential over the multi-keyring
// pairs only (which TestDifferential draws among all the others), a
// fortieth of its items (each costs four to six KMS calls a side).
func TestKMSMultiDifferential(t *testing.T) {
	pairs, names := pairsOf(kmsMultiKeyrings(t))
	runMany(t, context.Background(), pairs, names, max(itemsPerDirection()/40, 1))
}

// TestKMSMultiCalls: on items of configurations generated from the run's
// seed, each side's writers ask KMS the same, in the same order, and each
// side's readers, reading either side's items, ask KMS the same as the
// other side's, in the same order across the two Regions: the KeyIds, the
// Regions and which calls KMS refused. The expected calls are spelled out
// too, so that both sides agreeing on a wrong sequence fails.
func TestKMSMultiCalls(t *testing.T) {
	ctx := context.Background()
	f := kmsMulti(t)
	m := f.mrk
	A, B := kmstest.DefaultRegion, mrkRegionB
	call := func(region, op, key, outcome string) string {
		return region + " " + op + " " + key + " " + outcome
	}
	// Each keyring generates its intermediate key (the DB-ESDK's suites
	// wrap the data key with one): GenerateDataKey, never Encrypt.
	wantWrite := map[string][]string{
		"kms-multi":     {call(A, "GenerateDataKey", m.mrkA, "ok"), call(A, "GenerateDataKey", m.srkA, "ok")},
		"kms-mrk-multi": {call(A, "GenerateDataKey", m.mrkA, "ok"), call(B, "GenerateDataKey", f.srkB, "ok")},
	}
	// The MRK discovery keyring of B reads the replica of the generator's
	// key; the plain discovery keyring of B asks KMS B for each key of the
	// item as it is (it follows no replica), then that of A. A reader
	// whose calls do not end in "ok" must fail on both sides (a discovery
	// filter of another account asks KMS nothing).
	wantRead := map[string]map[string][]string{
		"kms-multi": {
			"mrk-discovery-multi":               {call(B, "Decrypt", m.mrkB, "ok")},
			"discovery-multi":                   {call(B, "Decrypt", m.mrkA, "refused"), call(B, "Decrypt", m.srkA, "refused"), call(A, "Decrypt", m.mrkA, "ok")},
			"discovery-multi-B":                 {call(B, "Decrypt", m.mrkA, "refused"), call(B, "Decrypt", m.srkA, "refused")},
			"mrk-discovery-multi-other-account": nil,
		},
		"kms-mrk-multi": {
			"mrk-discovery-multi":               {call(B, "Decrypt", m.mrkB, "ok")},
			"discovery-multi":                   {call(B, "Decrypt", m.mrkA, "refused"), call(B, "Decrypt", f.srkB, "ok")},
			"discovery-multi-B":                 {call(B, "Decrypt", m.mrkA, "refused"), call(B, "Decrypt", f.srkB, "ok")},
			"mrk-discovery-multi-other-account": nil,
		},
	}
	items := 0
	base := max(*flagSeed, 1)
	for seed := base; items < 4; seed++ {
		if seed-base >= 100 {
			t.Fatalf("only %d items written in 100 configurations from seed %d", items, base)
		}
		g := newGen(seed)
		c := g.config([]string{"kms-multi"})
		it := g.item(c)
		ok := true
		stored := map[string]Item{} // by writer and side
		for _, wn := range []string{"kms-multi", "kms-mrk-multi"} {
			w := f.writers[wn]
			ow, errO := newOurs(c, w.Ours)
			rw, errR := newRef(c, w.Ref)
			if errO != nil || errR != nil {
				ok = false // a configuration both refuse, or one the main test compares
				break
			}
			f.trace.take()
			eo, errO := enc(ctx, ow, it)
			callsO := f.trace.take()
			er, errR := enc(ctx, rw, it)
			callsR := f.trace.take()
			if errO != nil || errR != nil {
				ok = false
				break
			}
			for side, calls := range map[string][]string{"ours": callsO, "reference": callsR} {
				if !slices.Equal(calls, wantWrite[wn]) {
					t.Errorf("seed %d: %s of %s asks KMS %q, want %q", seed, wn, side, calls, wantWrite[wn])
				}
			}
			stored[wn+"/ours"], stored[wn+"/reference"] = eo, er
		}
		if !ok {
			continue
		}
		items++
		for _, rn := range []string{"mrk-discovery-multi", "discovery-multi", "discovery-multi-B", "mrk-discovery-multi-other-account"} {
			rd := f.readers[rn]
			o, r := newSides(t, c, rd.Ours, rd.Ref)
			for _, wn := range []string{"kms-multi", "kms-mrk-multi"} {
				for _, writer := range []string{"ours", "reference"} {
					for _, reader := range []Side{o, r} {
						f.trace.take()
						got, err := dec(ctx, reader, stored[wn+"/"+writer])
						calls := f.trace.take()
						want := wantRead[wn][rn]
						wantOK := len(want) > 0 && strings.HasSuffix(want[len(want)-1], " ok")
						switch {
						case !wantOK && err == nil:
							t.Errorf("seed %d: %s's %s item: %s of %s decrypts", seed, writer, wn, rn, reader.Name())
						case !wantOK:
						case err != nil:
							t.Errorf("seed %d: %s's %s item: %s of %s: %v", seed, writer, wn, rn, reader.Name(), err)
						case !equalByValue(it, got):
							t.Errorf("seed %d: %s's %s item: %s of %s: %s", seed, writer, wn, rn, reader.Name(), diffItems(it, got, byValue))
						}
						if !slices.Equal(calls, want) {
							t.Errorf("seed %d: %s's %s item: %s of %s asks KMS %q, want %q", seed, writer, wn, rn, reader.Name(), calls, want)
						}
					}
				}
			}
		}
	}
}

// multiCase is a construction both sides are asked to make.
type multiCase struct {
	multiBuild
	refuse bool
	// wrongRegion: the suppliers hand out Region A's client whatever the
	// Region asked.
	wrongRegion bool
	// oursOnly: a known divergence: ours refuses with this error, the
	// reference builds the keyring.
	oursOnly error
}

// TestKMSMultiConstruction: configurations of the four multi-keyrings
// that both sides build or both refuse (the outcome, not the error text),
// asking their client suppliers for the same Regions in the same order (no
// Region at all before the keys, Regions and filter are checked); the key
// identifiers of the table on the single KMS keyrings too; and the known
// divergences, pinned so that a change on either side shows.
func TestKMSMultiConstruction(t *testing.T) {
	f := kmsMulti(t)
	m := f.mrk
	mrkID := m.mrkA[strings.LastIndex(m.mrkA, "/")+1:]
	A, B := kmstest.DefaultRegion, mrkRegionB
	filter := func(partition string, accounts ...string) *kmskeyring.DiscoveryFilter {
		return &kmskeyring.DiscoveryFilter{Partition: partition, AccountIDs: accounts}
	}
	var cases []multiCase
	add := func(refuse bool, b multiBuild) { cases = append(cases, multiCase{multiBuild: b, refuse: refuse}) }
	add(true, multiBuild{name: "MRK replicas: generator and child", kind: multiMRK, generator: m.mrkA, keys: []string{m.mrkB}})
	add(true, multiBuild{name: "MRK replicas among the children", kind: multiMRK, keys: []string{m.mrkA, m.srkA, m.mrkB}})
	add(true, multiBuild{name: "one MRK twice", kind: multiMRK, generator: m.mrkA, keys: []string{m.mrkA}})
	add(true, multiBuild{name: "an MRK by id and by ARN", kind: multiMRK, keys: []string{mrkID, m.mrkB}})
	add(false, multiBuild{name: "MRK replicas, not MRK-aware", kind: multiStrict, generator: m.mrkA, keys: []string{m.mrkB}})
	add(false, multiBuild{name: "an alias named like the MRK", kind: multiMRK, generator: m.mrkA, keys: []string{"alias/" + mrkID, "arn:aws:kms:eu-central-1:111122223333:alias/" + mrkID}})
	add(false, multiBuild{name: "the same single-Region key twice", kind: multiMRK, generator: m.srkA, keys: []string{m.srkA}})
	add(false, multiBuild{name: "children only", kind: multiMRK, keys: []string{m.srkA, f.srkB}})
	for _, k := range []multiKind{multiStrict, multiMRK} {
		add(true, multiBuild{name: "no keys", kind: k})
		add(true, multiBuild{name: "no keys, empty list", kind: k, keys: []string{}})
		add(true, multiBuild{name: "a Region without a client", kind: k, keys: []string{"arn:aws:kms:ap-south-1:111122223333:key/abc"}})
	}
	for _, id := range []struct {
		id    string
		valid bool
	}{
		{"arn:aws:s3:::bucket", false},
		{"arn:aws:kms:us-west-2:111122223333:key/", false},
		{"arn:aws:kms:us-west-2::key/abc", false},
		{"arn:aws:kms::111122223333:key/abc", false},
		{"arn::kms:us-west-2:111122223333:key/abc", false},
		{"arn:aws:kms:us-west-2:111122223333:grant/abc", false},
		{"arn:aws:kms:us-west-2:111122223333:abc", false},
		{"arn:aws:kms:us-west-2:111122223333:key/a:b", false},
		{"arn:aws:kms:us-west-2:111122223333:key/a/b", true},
		{"arn:aws:kms:us-west-2:111122223333:alias/a/b", true},
		{"alias/", false},
		{"alias/a/b", true},
		{"key/abc", false},
		{"other/abc", false},
		{"abc", true},
		{"mrk-abc", true},
		{"", false},
		{"abc:def", true},
		{"a b", true},
		{"cl\u00e9", false},
		{strings.Repeat("k", 2048), true},
		{strings.Repeat("k", 2049), false},
	} {
		add(!id.valid, multiBuild{name: fmt.Sprintf("generator %.40q", id.id), kind: multiStrict, generator: id.id})
		add(!id.valid, multiBuild{name: fmt.Sprintf("child %.40q", id.id), kind: multiMRK, generator: m.mrkA, keys: []string{m.srkA, id.id}})
		// The single keyrings take the same identifiers.
		client := m.a.Client()
		_, errO := kmskeyring.New(awskms.New(client), id.id)
		_, errR := refMPL(t).CreateAwsKmsKeyring(context.Background(), mpltypes.CreateAwsKmsKeyringInput{KmsClient: client, KmsKeyId: id.id})
		if (errO != nil) != !id.valid || (errR != nil) != !id.valid {
			t.Errorf("KMS keyring on %.40q: ours %v, reference %v; want refused=%v", id.id, errO, errR, !id.valid)
		}
		_, errO = kmskeyring.NewMRK(awskms.New(client), id.id)
		_, errR = refMPL(t).CreateAwsKmsMrkKeyring(context.Background(), mpltypes.CreateAwsKmsMrkKeyringInput{KmsClient: client, KmsKeyId: id.id})
		if (errO != nil) != !id.valid || (errR != nil) != !id.valid {
			t.Errorf("KMS MRK keyring on %.40q: ours %v, reference %v; want refused=%v", id.id, errO, errR, !id.valid)
		}
	}
	for _, k := range []multiKind{multiDiscovery, multiMRKDiscovery} {
		add(false, multiBuild{name: "Regions B, A", kind: k, regions: []string{B, A}})
		add(false, multiBuild{name: "one Region twice", kind: k, regions: []string{A, A}})
		add(true, multiBuild{name: "no Regions", kind: k})
		add(true, multiBuild{name: "an empty list of Regions", kind: k, regions: []string{}})
		add(true, multiBuild{name: "an empty Region", kind: k, regions: []string{B, ""}})
		add(true, multiBuild{name: "an empty Region first", kind: k, regions: []string{"", A}})
		add(true, multiBuild{name: "a Region without a client", kind: k, regions: []string{B, "ap-south-1"}})
		add(false, multiBuild{name: "a filter", kind: k, regions: []string{A}, filter: filter("aws", kmstest.DefaultAccountID)})
		add(true, multiBuild{name: "a filter without accounts (nil)", kind: k, regions: []string{A}, filter: &kmskeyring.DiscoveryFilter{Partition: "aws"}})
		// Known divergences: the reference's discovery multi-keyrings do
		// not check the filter (its single discovery keyrings do, as ours
		// do everywhere; TestKMSMRKConstruction).
		for _, d := range []struct {
			name   string
			filter *kmskeyring.DiscoveryFilter
		}{
			{"a filter without partition", filter("", kmstest.DefaultAccountID)},
			{"a filter with an empty list of accounts", &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{}}},
			{"a filter with a blank account", filter("aws", kmstest.DefaultAccountID, "")},
		} {
			cases = append(cases, multiCase{multiBuild: multiBuild{name: d.name, kind: k, regions: []string{A}, filter: d.filter}, oursOnly: kmskeyring.ErrInvalidDiscoveryFilter})
		}
	}
	// Known divergence: the reference's MRK discovery multi-keyring does
	// not check its clients' Regions (its single MRK discovery keyring
	// does, as ours does everywhere).
	cases = append(cases, multiCase{multiBuild: multiBuild{name: "a client of another Region", kind: multiMRKDiscovery, regions: []string{B}}, wrongRegion: true, oursOnly: kmskeyring.ErrRegionMismatch})

	for _, tc := range cases {
		var askedO, askedR []string
		ours, ref := f.oursClients(&askedO), mpltypes.IClientSupplier(f.refClients(&askedR))
		if tc.wrongRegion {
			ours = func(region string) (cmp.KMS, error) { return f.oursClients(&askedO)(A) }
			ref = wrongRegion{f.refClients(&askedR)}
		}
		_, errO := tc.ours(ours)
		_, errR := tc.ref(refMPL(t), ref)
		if tc.oursOnly != nil {
			if !errors.Is(errO, tc.oursOnly) || errR != nil {
				t.Errorf("%s, %s (a known divergence): ours %v, reference %v; want ours %v, the reference building it", tc.kind, tc.name, errO, errR, tc.oursOnly)
			}
			continue
		}
		if (errO != nil) != tc.refuse || (errR != nil) != tc.refuse {
			t.Errorf("%s, %s: ours %v, reference %v; want refused=%v", tc.kind, tc.name, errO, errR, tc.refuse)
		}
		if !slices.Equal(askedO, askedR) {
			t.Errorf("%s, %s: ours asks its supplier for Regions %q, the reference %q", tc.kind, tc.name, askedO, askedR)
		}
	}
}

// wrongRegion is a client supplier that hands out Region A's client for
// any Region.
type wrongRegion struct{ refClients }

func (s wrongRegion) GetClient(in mpltypes.GetClientInput) (kms.Client, error) {
	return s.refClients.GetClient(mpltypes.GetClientInput{Region: kmstest.DefaultRegion})
}
