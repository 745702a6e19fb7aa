package mapenc_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/branchkeys"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// jsonlStore is a store that is not DynamoDB: one protected item per line
// of a file, in its JSON form. It answers a beacon term the way an SQL
// table with a column per beacon would (WHERE col IN (...), LIKE 'v%', a
// set column holding one of ...), knowing nothing of encryption.
type jsonlStore struct{ path string }

func newJSONLStore(t *testing.T) *jsonlStore {
	return &jsonlStore{path: filepath.Join(t.TempDir(), "contacts.jsonl")}
}

func (s *jsonlStore) put(t *testing.T, line []byte) {
	t.Helper()
	f, err := os.OpenFile(s.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(bytes.TrimSpace(line), '\n')); err != nil {
		t.Fatal(err)
	}
}

func (s *jsonlStore) putItem(t *testing.T, item map[string]types.AttributeValue) {
	t.Helper()
	js, err := mapenc.MarshalJSON(item)
	if err != nil {
		t.Fatal(err)
	}
	s.put(t, js)
}

func (s *jsonlStore) all(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	f, err := os.Open(s.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]types.AttributeValue
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		item, err := mapenc.UnmarshalJSON(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, item)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// find returns the stored items whose attribute term.Attribute matches
// one of term.Values as term.Match says.
func (s *jsonlStore) find(t *testing.T, term *search.Term) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	for _, item := range s.all(t) {
		hit := false
		switch v := item[term.Attribute].(type) {
		case *types.AttributeValueMemberS:
			for _, want := range term.Values {
				hit = hit || (term.Match == search.Equals && v.Value == want) || (term.Match == search.BeginsWith && strings.HasPrefix(v.Value, want))
			}
		case *types.AttributeValueMemberSS:
			for _, want := range term.Values {
				hit = hit || (term.Match == search.Contains && slices.Contains(v.Value, want))
			}
		}
		if hit {
			out = append(out, item)
		}
	}
	return out
}

type contact struct {
	ID    string   `dynamodbav:"id" itemcrypto:"partition"`
	Email string   `dynamodbav:"email"`
	Last  string   `dynamodbav:"last"`
	Dept  string   `dynamodbav:"dept" itemcrypto:"sign"`
	Tags  []string `dynamodbav:"tags,stringset,omitempty"`
}

var (
	beaconBranchKey = bytes.Repeat([]byte{0x42}, 32)
	beaconKeyBytes  = bytes.Repeat([]byte{0x5a}, 32)
)

// beaconSearch is the beacons of the tests, all 1 bit long so that
// collisions are certain: equality on email, membership in tags, the
// department and last name as a compound beacon (prefix queries), and the
// department alone as a signed beacon.
func beaconSearch(keys search.BeaconKeys, src search.KeySource) *search.Config {
	return &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
		Version: 1, KeyStore: keys, KeySource: src,
		StandardBeacons: []search.StandardBeacon{
			{Name: "email", Length: 1},
			{Name: "last", Length: 1},
			{Name: "tags", Length: 1, Style: search.AsSet()},
		},
		CompoundBeacons: []search.CompoundBeacon{
			{Name: "DeptLast", Split: ".", Signed: []search.SignedPart{{Name: "dept", Prefix: "D-"}}, Encrypted: []search.EncryptedPart{{Name: "last", Prefix: "L-"}}},
			{Name: "DeptCode", Split: ".", Signed: []search.SignedPart{{Name: "dept", Prefix: "D-"}}},
		},
	}}}
}

func beaconConfig(t testing.TB) mapenc.Config {
	t.Helper()
	bk, err := hierarchy.NewBranchKey("contacts", "4f2e1a0c-8d3b-4c6e-9f7a-1b2c3d4e5f60", beaconBranchKey, beaconKeyBytes)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "contacts" })
	if err != nil {
		t.Fatal(err)
	}
	keys, err := search.NewStaticKeys(bk)
	if err != nil {
		t.Fatal(err)
	}
	return mapenc.Config{
		TableName: "contacts.jsonl", Default: actions.EncryptAndSign, PartitionKey: "id",
		// The Config's own actions must satisfy the beacons (the signed
		// parts SignOnly); contact's tags repeat them.
		Overrides: map[string]actions.Action{"dept": actions.SignOnly},
		Format:    itemcrypto.FormatDBESDK, DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr},
		Search: beaconSearch(keys, search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "contacts", CacheTTL: time.Hour}}),
	}
}

var (
	beaconEmails = []string{"ann@x.org", "bob@x.org", "cy@x.org", "dee@x.org", "eve@x.org", "fay@x.org", "gus@x.org"}
	beaconLasts  = []string{"Smith", "Jones", "Smithson", "Lee"}
	beaconDepts  = []string{"sales", "eng", "ops"}
	beaconTags   = []string{"vip", "new", "eu", "us"}
)

func beaconContact(i int) contact {
	c := contact{
		ID:    fmt.Sprintf("c-%02d", i),
		Email: beaconEmails[(i*3)%len(beaconEmails)],
		Last:  beaconLasts[(i*5)%len(beaconLasts)],
		Dept:  beaconDepts[i%len(beaconDepts)],
	}
	if i%4 != 3 { // some contacts have no tags: no tags beacon
		c.Tags = []string{beaconTags[i%len(beaconTags)], beaconTags[(i+1)%len(beaconTags)]}
	}
	return c
}

// TestBeaconsJSONLStore writes contacts with beacons into a JSON-lines file
// through EncryptJSON, Encrypt, EncryptMap and TypedCodec.Encrypt, then
// answers equality, set-membership, compound-prefix and compound-equality
// queries through Term and the file alone: the file returns every match and
// (1-bit beacons) many collisions; DecryptMatch keeps exactly the matches.
func TestBeaconsJSONLStore(t *testing.T) {
	ctx := context.Background()
	codec, err := mapenc.New(beaconConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	typed, err := mapenc.Typed[contact](codec)
	if err != nil {
		t.Fatal(err)
	}
	store := newJSONLStore(t)
	var all []contact
	for i := range 24 {
		c := beaconContact(i)
		all = append(all, c)
		switch i % 4 {
		case 0:
			js, err := codec.EncryptJSON(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			store.put(t, js)
		case 1:
			item, err := codec.Encrypt(ctx, &c)
			if err != nil {
				t.Fatal(err)
			}
			store.putItem(t, item)
		case 2:
			item, err := typed.Encrypt(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			store.putItem(t, item)
		case 3: // no tags: a map without them
			item, err := codec.EncryptMap(ctx, map[string]any{"id": c.ID, "email": c.Email, "last": c.Last, "dept": c.Dept})
			if err != nil {
				t.Fatal(err)
			}
			store.putItem(t, item)
		}
	}

	// What is stored: ciphertext, the beacons beside it, no plaintext of
	// an encrypted attribute.
	stored := store.all(t)
	for i, item := range stored {
		c := all[i]
		for _, name := range []string{"email", "last"} {
			if _, ok := item[name].(*types.AttributeValueMemberB); !ok {
				t.Fatalf("%s: %s is not ciphertext", c.ID, name)
			}
		}
		for _, name := range []string{"aws_dbe_b_email", "aws_dbe_b_last", "aws_dbe_b_DeptLast"} {
			if _, ok := item[name].(*types.AttributeValueMemberS); !ok {
				t.Fatalf("%s: no beacon %s", c.ID, name)
			}
		}
		if v, ok := item["aws_dbe_v_1"].(*types.AttributeValueMemberS); !ok || v.Value != " " {
			t.Fatalf("%s: version tag %v", c.ID, item["aws_dbe_v_1"])
		}
		if v, ok := item["DeptCode"].(*types.AttributeValueMemberS); !ok || v.Value != "D-"+c.Dept {
			t.Fatalf("%s: signed beacon DeptCode %v, want D-%s", c.ID, item["DeptCode"], c.Dept)
		}
		tags, hasTags := item["aws_dbe_b_tags"].(*types.AttributeValueMemberSS)
		if hasTags != (c.Tags != nil) {
			t.Fatalf("%s: tags beacon present %v, tags %v", c.ID, hasTags, c.Tags)
		}
		// Beacons: the fields a store indexes, as they are stored.
		want := map[string][]string{"DeptCode": {"D-" + c.Dept}}
		for _, name := range []string{"aws_dbe_b_email", "aws_dbe_b_last", "aws_dbe_b_DeptLast"} {
			want[name] = []string{item[name].(*types.AttributeValueMemberS).Value}
		}
		if hasTags {
			want["aws_dbe_b_tags"] = tags.Value
		}
		if got := codec.Beacons(item); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: Beacons = %v, want %v", c.ID, got, want)
		}
		if js, _ := mapenc.MarshalJSON(item); bytes.Contains(js, []byte(c.Email)) || bytes.Contains(js, []byte(c.Last)) {
			t.Fatalf("%s: the stored item holds a plaintext", c.ID)
		}
	}

	collisions := 0
	check := func(name string, term *search.Term, want func(contact) bool) {
		t.Helper()
		var got, wantIDs []string
		candidates := store.find(t, term)
		for _, item := range candidates {
			var c contact
			ok, err := codec.DecryptMatch(ctx, item, term, &c)
			if err != nil {
				t.Fatalf("%s: DecryptMatch: %v", name, err)
			}
			// Keep on the decrypted Go value agrees.
			var plain contact
			if err := codec.Decrypt(ctx, item, &plain); err != nil {
				t.Fatal(err)
			}
			if keep, err := codec.Keep(term, plain); err != nil || keep != ok {
				t.Fatalf("%s: Keep(%s) = %v, %v; DecryptMatch said %v", name, plain.ID, keep, err, ok)
			}
			// And so does the typed codec.
			tv, tok, err := typed.DecryptMatch(ctx, item, term)
			if err != nil || tok != ok || (ok && tv.ID != c.ID) {
				t.Fatalf("%s: TypedCodec.DecryptMatch = %v, %v, %v", name, tv.ID, tok, err)
			}
			if ok {
				got = append(got, c.ID)
			} else if c.ID != "" {
				t.Fatalf("%s: DecryptMatch dropped %s but filled out", name, c.ID)
			}
		}
		for _, c := range all {
			if want(c) {
				wantIDs = append(wantIDs, c.ID)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, wantIDs) {
			t.Errorf("%s: got %v, want %v", name, got, wantIDs)
		}
		collisions += len(candidates) - len(got)
	}

	for _, e := range beaconEmails {
		term, err := codec.Term(ctx, "email", search.Equals, e)
		if err != nil {
			t.Fatal(err)
		}
		if term.Attribute != "aws_dbe_b_email" || len(term.Values) != 1 {
			t.Fatalf("email term: %s %v", term.Attribute, term.Values)
		}
		check("email="+e, term, func(c contact) bool { return c.Email == e })
	}
	emailCollisions := collisions
	if emailCollisions == 0 {
		t.Errorf("1-bit email beacons over %d addresses brought no collision: the test proves nothing", len(beaconEmails))
	}
	for _, tag := range beaconTags {
		term, err := codec.Term(ctx, "tags", search.Contains, tag)
		if err != nil {
			t.Fatal(err)
		}
		check("tags∋"+tag, term, func(c contact) bool { return slices.Contains(c.Tags, tag) })
	}
	for _, d := range beaconDepts {
		term, err := typed.Term(ctx, "DeptLast", search.BeginsWith, "D-"+d)
		if err != nil {
			t.Fatal(err)
		}
		check("DeptLast^D-"+d, term, func(c contact) bool { return c.Dept == d })
		for _, l := range beaconLasts {
			term, err := codec.Term(ctx, "DeptLast", search.Equals, "D-"+d+".L-"+l)
			if err != nil {
				t.Fatal(err)
			}
			check("DeptLast=D-"+d+".L-"+l, term, func(c contact) bool { return c.Dept == d && c.Last == l })
		}
	}
	// A prefix ending in a whole encrypted piece: "Smith" is not a prefix
	// of "Smithson" here, pieces are whole.
	term, err := codec.Term(ctx, "DeptLast", search.BeginsWith, "D-sales.L-Smith")
	if err != nil {
		t.Fatal(err)
	}
	check("DeptLast^D-sales.L-Smith", term, func(c contact) bool { return c.Dept == "sales" && c.Last == "Smith" })
	if collisions <= emailCollisions {
		t.Errorf("no collision outside the email queries")
	}
	t.Logf("%d candidates dropped as collisions", collisions)
}

// TestBeaconsDecryptOutput: decryption leaves out the aws_dbe_ attributes;
// the signed beacon, the customer's attribute, stays (as in the DB-ESDK).
func TestBeaconsDecryptOutput(t *testing.T) {
	ctx := context.Background()
	codec, err := mapenc.New(beaconConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := codec.EncryptMap(ctx, map[string]any{"id": "1", "email": "ann@x.org", "last": "Lee", "dept": "ops"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := codec.DecryptMap(ctx, stored)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "1", "email": "ann@x.org", "last": "Lee", "dept": "ops", "DeptCode": "D-ops"}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("DecryptMap = %v, want %v", m, want)
	}
	var item map[string]types.AttributeValue
	if err := codec.Decrypt(ctx, stored, &item); err != nil {
		t.Fatal(err)
	}
	for name := range item {
		if strings.HasPrefix(name, "aws_dbe_") {
			t.Errorf("Decrypt into an item kept %s", name)
		}
	}
	// The caller's item is not modified by Encrypt.
	in := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "2"}, "email": &types.AttributeValueMemberS{Value: "bob@x.org"}, "dept": &types.AttributeValueMemberS{Value: "eng"}}
	if _, err := codec.Encrypt(ctx, in); err != nil {
		t.Fatal(err)
	}
	if len(in) != 3 {
		t.Errorf("Encrypt changed its input: %v", in)
	}
}

// TestBeaconsTampering: the signed beacon is signed with the item; the
// stored beacons are not (as in the DB-ESDK), so a beacon moved to another
// item's value brings that item to the query, and DecryptMatch drops it.
func TestBeaconsTampering(t *testing.T) {
	ctx := context.Background()
	codec, err := mapenc.New(beaconConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ann, err := codec.Encrypt(ctx, contact{ID: "1", Email: "ann@x.org", Last: "Lee", Dept: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := codec.Encrypt(ctx, contact{ID: "2", Email: "bob@x.org", Last: "Lee", Dept: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	forged := map[string]types.AttributeValue{}
	for k, v := range ann {
		forged[k] = v
	}
	forged["DeptCode"] = &types.AttributeValueMemberS{Value: "D-eng"}
	var c contact
	if err := codec.Decrypt(ctx, forged, &c); !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("altered signed beacon: %v, want ErrAuthentication", err)
	}
	term, err := codec.Term(ctx, "email", search.Equals, "ann@x.org")
	if err != nil {
		t.Fatal(err)
	}
	bob["aws_dbe_b_email"] = &types.AttributeValueMemberS{Value: term.Values[0]}
	store := newJSONLStore(t)
	store.putItem(t, ann)
	store.putItem(t, bob)
	var got []string
	for _, item := range store.find(t, term) {
		var c contact
		if ok, err := codec.DecryptMatch(ctx, item, term, &c); err != nil {
			t.Fatal(err)
		} else if ok {
			got = append(got, c.ID)
		}
	}
	if !slices.Equal(got, []string{"1"}) {
		t.Errorf("query with a forged beacon: %v, want [1]", got)
	}
}

// TestBeaconsErrors: configurations and queries the beacons refuse, each
// with a typed error that names the beacon or attribute, never a value.
func TestBeaconsErrors(t *testing.T) {
	ctx := context.Background()
	base := beaconConfig(t)

	cfg := base
	cfg.Format = itemcrypto.FormatDDBEC
	cfg.Provider = cmptest.NewFakeProvider("ddbec")
	if _, err := mapenc.New(cfg); err == nil || !strings.Contains(err.Error(), "DB-ESDK") {
		t.Errorf("Search with the DDBEC format: %v", err)
	}
	for _, policy := range []func(*itemcrypto.DBESDKConfig){
		func(d *itemcrypto.DBESDKConfig) { d.LegacyPolicy = itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt },
		func(d *itemcrypto.DBESDKConfig) {
			d.PlaintextPolicy = itemcrypto.ForbidPlaintextWriteAllowPlaintextRead
		},
	} {
		d := *base.DBESDK
		policy(&d)
		cfg := base
		cfg.DBESDK = &d
		if _, err := mapenc.New(cfg); !errors.Is(err, itemcrypto.ErrOverrideWithBeacons) {
			t.Errorf("an override with beacons: %v, want ErrOverrideWithBeacons", err)
		}
	}
	cfg = base
	cfg.Overrides = map[string]actions.Action{"dept": actions.SignOnly, "DeptCode": actions.EncryptAndSign}
	var ce *search.ConfigError
	if _, err := mapenc.New(cfg); !errors.As(err, &ce) || ce.Name != "DeptCode" {
		t.Errorf("a signed beacon named like an override: %v, want a *search.ConfigError naming DeptCode", err)
	}
	cfg = base
	cfg.Overrides = map[string]actions.Action{"dept": actions.SignOnly, "email": actions.SignOnly}
	if _, err := mapenc.New(cfg); !errors.As(err, &ce) || ce.Name != "email" {
		t.Errorf("a standard beacon on a signed attribute: %v, want a *search.ConfigError naming email", err)
	}
	// A struct whose tag makes a beaconed attribute readable is refused
	// on use, naming the beacon.
	type signedEmail struct {
		ID    string `dynamodbav:"id"`
		Email string `dynamodbav:"email" itemcrypto:"sign"`
	}
	codec, err := mapenc.New(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := codec.Encrypt(ctx, signedEmail{ID: "1", Email: "ann@x.org"}); !errors.As(err, &ce) || ce.Name != "email" {
		t.Errorf("a tag signing a beaconed attribute: %v, want a *search.ConfigError naming email", err)
	}

	const secret = "secret-value@x.org"
	var qe *search.QueryError
	for _, tc := range []struct {
		name   string
		beacon string
		match  search.Match
		value  any
		is     error
	}{
		{"unknown beacon", "phone", search.Equals, secret, search.ErrNoBeacon},
		{"Contains on a plain beacon", "email", search.Contains, secret, search.ErrOperator},
		{"Equals on an AsSet beacon", "tags", search.Equals, secret, search.ErrOperator},
		{"BeginsWith on a standard beacon", "email", search.BeginsWith, secret, search.ErrOperator},
		{"a value that does not convert", "email", search.Equals, make(chan int), search.ErrInvalidQuery},
		{"a compound value matching no part", "DeptLast", search.Equals, "X-" + secret, search.ErrInvalidQuery},
	} {
		_, err := codec.Term(ctx, tc.beacon, tc.match, tc.value)
		if !errors.Is(err, tc.is) || !errors.As(err, &qe) || qe.Attribute != tc.beacon {
			t.Errorf("%s: %v, want a *search.QueryError naming %s matching %v", tc.name, err, tc.beacon, tc.is)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the value: %v", tc.name, err)
		}
	}
	var conv *mapenc.ConvertError
	for _, v := range []any{make(chan int), failingValue(secret)} {
		if _, err := codec.Term(ctx, "email", search.Equals, v); !errors.As(err, &conv) || strings.Contains(err.Error(), "secret") {
			t.Errorf("a %T that does not convert: %v, want a *mapenc.ConvertError inside, without the value", v, err)
		}
	}
	_, err = codec.Term(ctx, "email", search.Equals, "a", func(o *mapenc.TermOptions) { o.BranchKeyID = "contacts" })
	if !errors.Is(err, search.ErrBeaconKey) {
		t.Errorf("a branch key with a single key source: %v, want ErrBeaconKey", err)
	}

	plain := base
	plain.Search = nil
	noSearch, err := mapenc.New(plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noSearch.Term(ctx, "email", search.Equals, secret); !errors.Is(err, mapenc.ErrNoSearch) || !errors.As(err, &qe) || qe.Attribute != "email" {
		t.Errorf("Term without Search: %v, want ErrNoSearch naming email", err)
	}
	// A Codec without Search reads items written with beacons, without
	// them.
	stored, err := codec.EncryptMap(ctx, map[string]any{"id": "1", "email": "ann@x.org", "dept": "ops"})
	if err != nil {
		t.Fatal(err)
	}
	if b := noSearch.Beacons(stored); len(b) != 0 {
		t.Errorf("Beacons of a Codec without Search: %v", b)
	}
	m, err := noSearch.DecryptMap(ctx, stored)
	if err != nil {
		t.Fatal(err)
	}
	for name := range m {
		if strings.HasPrefix(name, "aws_dbe_") {
			t.Errorf("a Codec without Search kept %s", name)
		}
	}
}

// failingValue is a value whose attributevalue.Marshaler fails, quoting it.
type failingValue string

func (v failingValue) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return nil, fmt.Errorf("cannot marshal %q", string(v))
}

// TestBeaconsMultiTenant: each tenant's items are encrypted and beaconed
// under its own branch key; a query names its tenant (TermOptions), the
// other tenant's colliding items come back from the store and DecryptMatch
// drops them without decrypting.
func TestBeaconsMultiTenant(t *testing.T) {
	ctx := context.Background()
	keys, bks := branchkeys.Tenants(t, "acme", "globex")
	kr, err := hierarchy.New(keys, func(o *hierarchy.Options) {
		o.IDSupplier = func(_ context.Context, ec map[string]string) (string, error) {
			return ec["aws-crypto-attr.tenant"], nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	beaconKeys, err := search.NewStaticKeys(bks...)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := mapenc.New(mapenc.Config{
		TableName: "contacts.jsonl", Default: actions.EncryptAndSign, PartitionKey: "id",
		Overrides: map[string]actions.Action{"tenant": actions.SignAndIncludeInEncryptionContext},
		Format:    itemcrypto.FormatDBESDK, DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr},
		Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: beaconKeys,
			KeySource:       search.KeySource{Multi: &search.MultiKeySource{KeyFieldName: "tenant", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 1}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	store := newJSONLStore(t)
	type row struct{ id, tenant, email string }
	var all []row
	for i := range 16 {
		r := row{fmt.Sprint(i), []string{"acme", "globex"}[i%2], beaconEmails[(i/2)%3]}
		all = append(all, r)
		item, err := codec.EncryptMap(ctx, map[string]any{"id": r.id, "tenant": r.tenant, "email": r.email})
		if err != nil {
			t.Fatal(err)
		}
		store.putItem(t, item)
	}
	if _, err := codec.Term(ctx, "email", search.Equals, "ann@x.org"); !errors.Is(err, search.ErrBeaconKey) {
		t.Errorf("a multi-tenant query without its tenant: %v, want ErrBeaconKey", err)
	}
	otherTenant := 0
	for _, tenant := range []string{"acme", "globex"} {
		for _, e := range beaconEmails[:3] {
			term, err := codec.Term(ctx, "email", search.Equals, e, func(o *mapenc.TermOptions) { o.BranchKeyID = tenant })
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, item := range store.find(t, term) {
				if !term.KeyMatches(item) {
					otherTenant++
				}
				var m map[string]any
				ok, err := codec.DecryptMatch(ctx, item, term, &m)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, m["id"].(string))
				}
			}
			for _, r := range all {
				if r.tenant == tenant && r.email == e {
					want = append(want, r.id)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s/%s: got %v, want %v", tenant, e, got, want)
			}
		}
	}
	if otherTenant == 0 {
		t.Error("no item of the other tenant came back: 1-bit beacons over two tenants must collide")
	}
}

// TestBeaconsPartitions: with beacon partitions each item's beacon is
// computed in one of several partitions, so a term has a value per
// partition, and the store (WHERE beacon IN values) returns the items of
// every partition.
func TestBeaconsPartitions(t *testing.T) {
	ctx := context.Background()
	cfg := beaconConfig(t)
	sc := *cfg.Search
	sc.Versions = slices.Clone(sc.Versions)
	v := &sc.Versions[0]
	v.MaximumNumberOfPartitions, v.DefaultNumberOfPartitions = 4, 3 // the default must be below the maximum
	v.StandardBeacons = []search.StandardBeacon{{Name: "email", Length: 8}}
	v.CompoundBeacons = nil
	v.PartitionSelector = search.PartitionSelectorFunc(func(item search.Item, n int, _ string) (int, error) {
		id := item["id"].(*types.AttributeValueMemberS).Value
		return int(id[len(id)-1]-'0') % n, nil
	})
	cfg.Search = &sc
	codec, err := mapenc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := newJSONLStore(t)
	for i := range 9 {
		item, err := codec.EncryptMap(ctx, map[string]any{"id": fmt.Sprint(i), "email": "same@x.org", "dept": "ops"})
		if err != nil {
			t.Fatal(err)
		}
		store.putItem(t, item)
	}
	term, err := codec.Term(ctx, "email", search.Equals, "same@x.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(term.Values) != 3 {
		t.Fatalf("a term over 3 partitions has %d values", len(term.Values))
	}
	var got []string
	for _, item := range store.find(t, term) {
		var m map[string]any
		if ok, err := codec.DecryptMatch(ctx, item, term, &m); err != nil || !ok {
			t.Fatalf("DecryptMatch: %v, %v", ok, err)
		}
		got = append(got, m["id"].(string))
	}
	slices.Sort(got)
	if want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Every partition's value is stored by some of the items: one value
	// alone would miss them.
	sum := 0
	for _, val := range term.Values {
		n := len(store.find(t, &search.Term{Attribute: term.Attribute, Match: search.Equals, Values: []string{val}}))
		if n == 0 || n == 9 {
			t.Errorf("partition value %s: %d items of 9", val, n)
		}
		sum += n
	}
	if sum != 9 {
		t.Errorf("the partition values are held by %d items, want 9", sum)
	}
}

// TestBeaconsTaggedKey: a Config that names no partition key has no
// policy of its own, so Codec.Term refuses; a struct type whose tag names
// it answers through TypedCodec.Term.
func TestBeaconsTaggedKey(t *testing.T) {
	ctx := context.Background()
	cfg := beaconConfig(t)
	cfg.PartitionKey = ""
	codec, err := mapenc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := codec.Term(ctx, "email", search.Equals, "ann@x.org"); !errors.Is(err, actions.ErrPartitionKeyNotSet) {
		t.Errorf("Codec.Term without a partition key: %v", err)
	}
	typed, err := mapenc.Typed[contact](codec)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := typed.Encrypt(ctx, contact{ID: "1", Email: "ann@x.org", Last: "Lee", Dept: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	term, err := typed.Term(ctx, "email", search.Equals, "ann@x.org")
	if err != nil {
		t.Fatal(err)
	}
	if got := codec.Beacons(stored)["aws_dbe_b_email"]; !slices.Equal(got, term.Values) {
		t.Errorf("stored beacon %v, term values %v", got, term.Values)
	}
	c, ok, err := typed.DecryptMatch(ctx, stored, term)
	if err != nil || !ok || c.Email != "ann@x.org" {
		t.Errorf("DecryptMatch = %+v, %v, %v", c, ok, err)
	}
	other, err := typed.Term(ctx, "email", search.Equals, "bob@x.org")
	if err != nil {
		t.Fatal(err)
	}
	if c, ok, err := typed.DecryptMatch(ctx, stored, other); err != nil || ok || c.ID != "" || c.Email != "" {
		t.Errorf("DecryptMatch of another email = %+v, %v, %v; want the zero contact, false", c, ok, err)
	}
	if keep, err := codec.Keep(nil, c); err != nil || !keep {
		t.Errorf("Keep with a nil term = %v, %v", keep, err)
	}
}
