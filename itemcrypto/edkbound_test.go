package itemcrypto_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// The DB-ESDK bound the package documents (doc.go, "Bounds"): a Decrypt of
// a DB-ESDK item allocates at most dbesdkPerByte bytes per byte of the item
// (names and values as DynamoDB counts them) plus dbesdkConst, whatever its
// header holds and whichever keyring reads it.
// A keyring that calls a key service (AWS KMS Decrypt, a branch key store
// read) adds dbesdkPerCall per call, the AWS SDK's round trip (here with
// the in-process fake server's share counted in); it makes at most one per
// key the reader holds.
const (
	dbesdkPerByte = 48
	dbesdkConst   = 64 << 10
	dbesdkPerCall = 128 << 10
)

// rawItemBytes is the size of an item as DynamoDB counts it: names plus
// the bytes of its values (other members count 8).
func rawItemBytes(it item) int {
	n := 0
	for k, v := range it {
		n += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)
		default:
			n += 8
		}
	}
	return n
}

// forgeEDKs returns genuine with its header re-encoded: n encrypted data
// keys, copies of genuine's own taken in turn, each with the last byte of
// its ciphertext flipped, and pad bytes of extra stored encryption context
// (in entries of at most 60,000 bytes). The commitment and footer are
// genuine's, so the item can only fail.
func forgeEDKs(t testing.TB, genuine item, n, pad int) item {
	t.Helper()
	raw := genuine["aws_dbe_head"].(*types.AttributeValueMemberB).Value
	h, err := header.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := make(map[string]string, len(h.Context)+pad/60000+1)
	for k, v := range h.Context {
		ctx[k] = v
	}
	for i := 0; pad > 0; i++ {
		m := min(pad, 60000)
		ctx[fmt.Sprintf("pad-%03d", i)] = strings.Repeat("x", m)
		pad -= m
	}
	h.Context = ctx
	own := h.EDKs
	h.EDKs = make([]keyring.EncryptedDataKey, n)
	for i := range h.EDKs {
		e := own[i%len(own)]
		ct := append([]byte(nil), e.Ciphertext...)
		ct[len(ct)-1] ^= 1
		h.EDKs[i] = keyring.EncryptedDataKey{ProviderID: e.ProviderID, ProviderInfo: e.ProviderInfo, Ciphertext: ct}
	}
	b, err := h.AppendPartial(nil)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, raw[len(raw)-header.CommitmentLength:]...)
	out := make(item, len(genuine))
	for k, v := range genuine {
		out[k] = v
	}
	out["aws_dbe_head"] = &types.AttributeValueMemberB{Value: b}
	return out
}

// countingReader counts the reads of a random source.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n.Add(1)
	return rand.Read(p)
}

// countingSource counts the branch key reads of a hierarchy.Source.
type countingSource struct {
	hierarchy.Source
	n atomic.Int64
}

func (c *countingSource) BranchKeyVersion(ctx context.Context, id, version string) (*hierarchy.BranchKey, error) {
	c.n.Add(1)
	return c.Source.BranchKeyVersion(ctx, id, version)
}

// memDynamoDB is the part of DynamoDB a key store reads and CreateKey
// writes, in memory; it counts GetItem calls.
type memDynamoDB struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue
	gets  atomic.Int64
}

func memKey(item map[string]types.AttributeValue) string {
	return item[keystore.AttrBranchKeyID].(*types.AttributeValueMemberS).Value + "\x00" + item[keystore.AttrType].(*types.AttributeValueMemberS).Value
}

func (d *memDynamoDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	d.gets.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	return &dynamodb.GetItemOutput{Item: d.items[memKey(in.Key)]}, nil
}

func (d *memDynamoDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ti := range in.TransactItems {
		if ti.Put == nil {
			return nil, errors.New("memDynamoDB: only Put")
		}
		d.items[memKey(ti.Put.Item)] = ti.Put.Item
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (d *memDynamoDB) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return nil, errors.New("memDynamoDB: DescribeTable")
}

func (d *memDynamoDB) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return nil, errors.New("memDynamoDB: CreateTable")
}

// edkCase is one keyring with the counter of its expensive operations
// (unwrap attempts, KMS calls, branch key reads) for one Decrypt.
type edkCase struct {
	name  string
	kr    keyring.Keyring
	count func() int64 // nil: the keyring's attempts are not observable
	// calls counts the calls to key services (nil: none).
	calls func() int64
}

func edkCases(t *testing.T) []edkCase {
	var cases []edkCase
	cases = append(cases, edkCase{name: "raw-aes", kr: must(keyring.NewRawAES("ns", "aes-key", keyBytes(7, 32)))})

	priv := testRSAKey()
	// Under PKCS #1 v1.5 every decryption draws a random session key from
	// the keyring's Rand: its reads count the RSA decryptions.
	rsaRand := &countingReader{}
	rsaKR := must(keyring.NewRawRSA("ns", "rsa-key", keyring.RSAPKCS1, &priv.PublicKey, priv, func(o *keyring.RawRSAOptions) { o.Rand = rsaRand }))
	rsaCount := func() int64 { return rsaRand.n.Load() }
	cases = append(cases, edkCase{name: "raw-rsa-pkcs1", kr: rsaKR, count: rsaCount})
	cases = append(cases, edkCase{name: "raw-rsa-oaep", kr: must(keyring.NewRawRSA("ns", "rsa-oaep", keyring.RSAOAEPSHA256, &priv.PublicKey, priv))})

	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	kmsKR := must(kmskeyring.New(awskms.New(srv.Client()), arn))
	kmsCount := func() int64 { return int64(len(srv.CallsFor("Decrypt"))) }
	cases = append(cases, edkCase{"kms", kmsKR, kmsCount, kmsCount})

	bk := must(hierarchy.NewBranchKey("branch-1", "e9ce18a3-edb5-4272-9f86-1cacb7997ff6", keyBytes(9, 32), nil))
	src := &countingSource{Source: hierarchy.NewStatic(bk)}
	// No cache: every unwrap attempt reads the branch key.
	h := must(hierarchy.New(src, func(o *hierarchy.Options) { o.BranchKeyID = "branch-1"; o.TTL = -1 }))
	cases = append(cases, edkCase{name: "hierarchy-static", kr: h, count: func() int64 { return src.n.Load() }})

	ddb := &memDynamoDB{items: map[string]map[string]types.AttributeValue{}}
	storeKMS := kmstest.NewServer(t)
	_, storeARN := storeKMS.CreateKey()
	store := must(keystore.New(ddb, storeKMS.Client(), func(o *keystore.Options) {
		o.TableName, o.LogicalName, o.KMS = "keystore", "keystore", keystore.KeyARN(storeARN)
	}))
	id := must(store.CreateKey(context.Background(), keystore.CreateKeyInput{}))
	hs := must(hierarchy.New(store, func(o *hierarchy.Options) { o.BranchKeyID = id; o.TTL = -1 }))
	gets := func() int64 { return ddb.gets.Load() }
	cases = append(cases, edkCase{"hierarchy-keystore", hs, gets, gets})

	multi := must(keyring.NewMulti(kmsKR, rsaKR))
	cases = append(cases, edkCase{"multi-kms-rsa", multi, func() int64 { return kmsCount() + rsaCount() }, kmsCount})
	return cases
}

func edkEncryptor(t testing.TB, kr keyring.Keyring, maxEDKs int) *itemcrypto.Encryptor {
	t.Helper()
	p := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk", Overrides: map[string]actions.Action{"n": actions.SignOnly}})
	e, err := itemcrypto.New(itemcrypto.Config{TableName: "edks", Policy: p, Format: itemcrypto.FormatDBESDK, DBESDK: &itemcrypto.DBESDKConfig{
		Keyring: kr, MaxEncryptedDataKeys: maxEDKs,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDBESDKForgedEDKsBound: for every keyring, an item whose header
// repeats the reader's own encrypted data key (last byte flipped) up to the
// header's maximum of 255 times, beside 300 KB of stored encryption
// context, is refused with ErrAuthentication; Decrypt allocates at most the
// documented 48 bytes per input byte plus 64 KiB; and the keyring asks its
// key (an RSA decryption, a KMS Decrypt, a branch key read) once, however
// many copies the item holds.
func TestDBESDKForgedEDKsBound(t *testing.T) {
	ctx := context.Background()
	for _, c := range edkCases(t) {
		t.Run(c.name, func(t *testing.T) {
			e := edkEncryptor(t, c.kr, itemcrypto.MaxEncryptedDataKeysLimit)
			genuine := encryptOK(t, e, item{"pk": s("k"), "n": n("1"), "secret": s("hello")})
			if _, err := e.Decrypt(ctx, genuine); err != nil {
				t.Fatalf("genuine: %v", err)
			}
			for _, tc := range []struct{ n, pad int }{{1, 0}, {2, 300000}, {16, 300000}, {255, 0}, {255, 300000}} {
				forged := forgeEDKs(t, genuine, tc.n, tc.pad)
				var before, callsBefore, calls int64
				if c.count != nil {
					before = c.count()
				}
				if c.calls != nil {
					callsBefore = c.calls()
				}
				if _, err := e.Decrypt(ctx, forged); !errors.Is(err, itemcrypto.ErrAuthentication) {
					t.Fatalf("%d EDKs: Decrypt = %v, want ErrAuthentication", tc.n, err)
				}
				if c.calls != nil {
					calls = c.calls() - callsBefore
				}
				if c.count != nil {
					// One per key the reader holds: the multi-keyring holds two.
					want := int64(1)
					if c.name == "multi-kms-rsa" && tc.n > 1 {
						want = 2
					}
					if got := c.count() - before; got != want {
						t.Errorf("%d EDKs: the key was asked %d times, want %d", tc.n, got, want)
					}
				}
				if raceEnabled {
					continue
				}
				in := rawItemBytes(forged)
				got := alloctest.Bytes(2, func() { e.Decrypt(ctx, forged) })
				t.Logf("%3d EDKs, %6d bytes of context: %6d input bytes, %d service calls, Decrypt allocated %9d (%.1f/byte)", tc.n, tc.pad, in, calls, got, float64(got)/float64(in))
				if limit := uint64(dbesdkPerByte*in + dbesdkConst + dbesdkPerCall*int(calls)); got > limit {
					t.Errorf("%d EDKs: %d input bytes, %d service calls, %d bytes allocated, bound %d", tc.n, in, calls, got, limit)
				}
			}
		})
	}
}

// TestDBESDKMaxEncryptedDataKeys: an item with more encrypted data keys
// than MaxEncryptedDataKeys (default DefaultMaxEncryptedDataKeys) is
// refused before any key is asked, with an error matching both
// ErrTooManyEncryptedDataKeys and ErrAuthentication; at the maximum it is
// read. Encrypt refuses a keyring that makes more.
func TestDBESDKMaxEncryptedDataKeys(t *testing.T) {
	ctx := context.Background()
	for _, c := range edkCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for _, mx := range []int{0, 1, 3, itemcrypto.MaxEncryptedDataKeysLimit} {
				e := edkEncryptor(t, c.kr, mx)
				limit := mx
				if limit == 0 {
					limit = itemcrypto.DefaultMaxEncryptedDataKeys
				}
				genuine, err := e.Encrypt(ctx, item{"pk": s("k"), "n": n("1"), "secret": s("hello")})
				if c.name == "multi-kms-rsa" && limit < 2 {
					if !errors.Is(err, itemcrypto.ErrTooManyEncryptedDataKeys) || errors.Is(err, itemcrypto.ErrAuthentication) {
						t.Fatalf("max %d: Encrypt with two keys = %v, want ErrTooManyEncryptedDataKeys", mx, err)
					}
					genuine = encryptOK(t, edkEncryptor(t, c.kr, 2), item{"pk": s("k"), "n": n("1"), "secret": s("hello")})
				} else if err != nil {
					t.Fatalf("max %d: Encrypt: %v", mx, err)
				}
				if limit == itemcrypto.MaxEncryptedDataKeysLimit {
					continue
				}
				var before int64
				if c.count != nil {
					before = c.count()
				}
				_, err = e.Decrypt(ctx, forgeEDKs(t, genuine, limit+1, 0))
				if !errors.Is(err, itemcrypto.ErrTooManyEncryptedDataKeys) || !errors.Is(err, itemcrypto.ErrAuthentication) {
					t.Fatalf("max %d: %d EDKs: Decrypt = %v, want ErrTooManyEncryptedDataKeys and ErrAuthentication", mx, limit+1, err)
				}
				if c.count != nil {
					if got := c.count() - before; got != 0 {
						t.Errorf("max %d: %d EDKs: the key was asked %d times before the refusal", mx, limit+1, got)
					}
				}
				// At the limit the item is read as usual (and fails only
				// because its keys are flipped).
				if _, err := e.Decrypt(ctx, forgeEDKs(t, genuine, limit, 0)); errors.Is(err, itemcrypto.ErrTooManyEncryptedDataKeys) || !errors.Is(err, itemcrypto.ErrAuthentication) {
					t.Fatalf("max %d: %d EDKs: Decrypt = %v", mx, limit, err)
				}
			}
		})
	}
	for _, bad := range []int{-1, itemcrypto.MaxEncryptedDataKeysLimit + 1} {
		_, err := itemcrypto.New(itemcrypto.Config{TableName: "edks", Policy: actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"}), Format: itemcrypto.FormatDBESDK,
			DBESDK: &itemcrypto.DBESDKConfig{Keyring: must(keyring.NewRawAES("ns", "k", keyBytes(1, 32))), MaxEncryptedDataKeys: bad}})
		if err == nil {
			t.Errorf("MaxEncryptedDataKeys %d accepted", bad)
		}
	}
}

var _ io.Reader = (*countingReader)(nil)
