package bench

// The workload is the AWS Database Encryption SDK Go edition's own benchmark
// item:
//
//	partition_key  S                      sign-only (partition key)
//	sort_key       N                      sign-only (sort key)
//	attribute1     M{"data": B(N bytes)}  encrypt-and-sign
//	attribute2     S                      sign-only
//	:attribute3    S                      do-nothing
//
// with N = 1, 10, 100 KB of random bytes, under five configurations:
//
//	static       32-byte AES content key + 32-byte HmacSHA256 key
//	wrapped-aes  fresh content key per item, AESWrap under a 32-byte KEK,
//	             32-byte HmacSHA256 key
//	wrapped-rsa  fresh content key per item, RSA-OAEP under a 2048-bit key,
//	             SHA256withRSA signature (one key pair per process)
//	dbesdk-aes   the DB-ESDK format, suite 0x6700, raw AES keyring (32-byte
//	             wrapping key): fresh data key and intermediate key per item
//	dbesdk-aes-ecdsa  the same under suite 0x6701 (the DB-ESDK default):
//	             plus a fresh ECDSA P-384 key pair and signature per item
//
// BenchmarkFloorDBESDK is the DB-ESDK cryptography by hand (see
// dbesdk_test.go).
//
// BenchmarkFloor does the same cryptography by hand with the standard library
// (fresh key, AES-256-CBC + PKCS#7, HMAC-SHA256; and back), the cost the
// library should stay close to. Every benchmark reports bytes = N, so the
// MB/s column is payload throughput, and the Parallel variants, run with
// -cpu=1,2, measure how that throughput scales with goroutines.
//
// Each benchmark also reports cpu-ns/op, the process CPU time (all threads,
// GC included) per operation. On a quiet machine it is close to sec/op (or
// GOMAXPROCS times it in the Parallel variants); on a shared, overloaded
// host, where sec/op is inflated by waiting for a CPU, it is the steadier
// measure of the work done.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

const tableName = "itemcrypto-bench"

var sizes = []int{1, 10, 100} // KB

var providers = []string{"static", "wrapped-aes", "wrapped-rsa", "dbesdk-aes", "dbesdk-aes-ecdsa"}

func sizeName(kb int) string { return fmt.Sprintf("size=%dKB", kb) }

// randBytes returns n random bytes.
func randBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// rsaKey is the one 2048-bit RSA key pair of the process: generating it
// takes long enough to distort every benchmark that did it.
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// newProvider builds the named provider with fresh random keys.
func newProvider(tb testing.TB, name string) cmp.Provider {
	tb.Helper()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	switch name {
	case "static":
		enc, err := cmp.NewAESKey(randBytes(tb, 32))
		must(err)
		mac, err := cmp.NewHMACKey("HmacSHA256", randBytes(tb, 32))
		must(err)
		p, err := cmp.NewStatic(cmp.StaticConfig{EncryptionKey: enc, SigningKey: mac, VerificationKey: mac})
		must(err)
		return p
	case "wrapped-aes":
		kek, err := cmp.NewAESKey(randBytes(tb, 32))
		must(err)
		mac, err := cmp.NewHMACKey("HmacSHA256", randBytes(tb, 32))
		must(err)
		p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, VerificationKey: mac})
		must(err)
		return p
	case "wrapped-rsa":
		priv, err := rsaKey()
		must(err)
		wrap, err := cmp.NewRSAWrappingKey(&priv.PublicKey)
		must(err)
		unwrap, err := cmp.NewRSAUnwrappingKey(priv)
		must(err)
		sign, err := cmp.NewRSASigningKey(priv, "")
		must(err)
		verify, err := cmp.NewRSAVerificationKey(&priv.PublicKey, "")
		must(err)
		p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: wrap, UnwrappingKey: unwrap, SigningKey: sign, VerificationKey: verify})
		must(err)
		return p
	}
	tb.Fatalf("unknown provider %q", name)
	return nil
}

// newEncryptor returns an Encryptor for the workload's policy.
func newEncryptor(tb testing.TB, provider string) *itemcrypto.Encryptor {
	tb.Helper()
	policy, err := actions.New(actions.Options{
		Default: actions.SignOnly,
		Overrides: map[string]actions.Action{
			"attribute1":  actions.EncryptAndSign,
			":attribute3": actions.DoNothing,
		},
		PartitionKey: "partition_key",
		SortKey:      "sort_key",
	})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := itemcrypto.Config{TableName: tableName, Policy: policy}
	if kr, suite, ok := dbesdkKeyring(tb, provider); ok {
		cfg.Format = itemcrypto.FormatDBESDK
		cfg.DBESDK = &itemcrypto.DBESDKConfig{Keyring: kr, Suite: suite, AllowedUnsignedPrefix: ":"}
	} else {
		cfg.Provider = newProvider(tb, provider)
	}
	enc, err := itemcrypto.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// Plaintext values of the workload's small attributes.
const (
	partitionKey = "BenchmarkPartitionKey"
	sortKey      = "1"
	attribute2   = "sign me!"
	attribute3   = "ignore me!"
)

// newItem returns the workload item with payload as attribute1's data.
func newItem(payload []byte) itemcrypto.Item {
	return itemcrypto.Item{
		"partition_key": &types.AttributeValueMemberS{Value: partitionKey},
		"sort_key":      &types.AttributeValueMemberN{Value: sortKey},
		"attribute1": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"data": &types.AttributeValueMemberB{Value: payload},
		}},
		"attribute2":  &types.AttributeValueMemberS{Value: attribute2},
		":attribute3": &types.AttributeValueMemberS{Value: attribute3},
	}
}

// checkEncrypted fails unless ct is a protected form of an item: attribute1
// replaced by a binary ciphertext, the other attributes unchanged, the
// reserved attributes added.
func checkEncrypted(tb testing.TB, pt, ct itemcrypto.Item) {
	tb.Helper()
	b, ok := ct["attribute1"].(*types.AttributeValueMemberB)
	if !ok {
		tb.Fatalf("encrypted attribute1 is %T, want *types.AttributeValueMemberB", ct["attribute1"])
	}
	data := pt["attribute1"].(*types.AttributeValueMemberM).Value["data"].(*types.AttributeValueMemberB).Value
	if len(b.Value) < len(data) || bytes.Contains(b.Value, data[:min(len(data), 64)]) {
		tb.Fatalf("attribute1 ciphertext (%d bytes) does not look encrypted", len(b.Value))
	}
	for _, name := range []string{"partition_key", "sort_key", "attribute2", ":attribute3"} {
		if !reflect.DeepEqual(ct[name], pt[name]) {
			tb.Fatalf("encrypted %s = %#v, want %#v", name, ct[name], pt[name])
		}
	}
	reserved := []string{itemcrypto.MaterialDescriptionAttribute, itemcrypto.SignatureAttribute}
	if _, ok := ct["aws_dbe_head"]; ok {
		reserved = []string{"aws_dbe_head", "aws_dbe_foot"}
	}
	for _, name := range reserved {
		if _, ok := ct[name].(*types.AttributeValueMemberB); !ok {
			tb.Fatalf("encrypted item has no binary %s", name)
		}
	}
	if len(ct) != len(pt)+2 {
		tb.Fatalf("encrypted item has %d attributes, want %d", len(ct), len(pt)+2)
	}
}

// encryptedItem returns a real ciphertext of item made by enc, checked to
// decrypt back to item, so decrypt benchmarks measure a success.
func encryptedItem(tb testing.TB, enc *itemcrypto.Encryptor, item itemcrypto.Item) itemcrypto.Item {
	tb.Helper()
	ctx := context.Background()
	ct, err := enc.Encrypt(ctx, item)
	if err != nil {
		tb.Fatalf("Encrypt: %v", err)
	}
	checkEncrypted(tb, item, ct)
	pt, err := enc.Decrypt(ctx, ct)
	if err != nil {
		tb.Fatalf("Decrypt: %v", err)
	}
	if !reflect.DeepEqual(pt, item) {
		tb.Fatalf("round trip changed the item:\n got %#v\nwant %#v", pt, item)
	}
	return ct
}

// TestBenchWorkloadRoundTrip checks the workload round-trips under every
// provider and size, attribute1 coming back identical.
func TestBenchWorkloadRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, p := range providers {
		enc := newEncryptor(t, p)
		for _, kb := range sizes {
			t.Run(p+"/"+sizeName(kb), func(t *testing.T) {
				payload := randBytes(t, kb<<10)
				item := newItem(payload)
				ct := encryptedItem(t, enc, item)
				pt, err := enc.Decrypt(ctx, ct)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := pt["attribute1"].(*types.AttributeValueMemberM)
				if !ok {
					t.Fatalf("decrypted attribute1 is %T, want *types.AttributeValueMemberM", pt["attribute1"])
				}
				data, ok := got.Value["data"].(*types.AttributeValueMemberB)
				if !ok || len(got.Value) != 1 || !bytes.Equal(data.Value, payload) {
					t.Fatalf("decrypted attribute1 differs from the plaintext")
				}
				// A tampered signed attribute must not verify.
				bad := make(itemcrypto.Item, len(ct))
				for k, v := range ct {
					bad[k] = v
				}
				bad["attribute2"] = &types.AttributeValueMemberS{Value: "tampered"}
				if _, err := enc.Decrypt(ctx, bad); !errors.Is(err, itemcrypto.ErrAuthentication) {
					t.Fatalf("Decrypt of a tampered item: err = %v, want ErrAuthentication", err)
				}
			})
		}
	}
}

// TestFloorRoundTrip checks the floor's two halves are inverse, so the floor
// benchmarks measure real work.
func TestFloorRoundTrip(t *testing.T) {
	for _, kb := range sizes {
		f := newFloor(t, kb<<10)
		ct, tag, key := f.encrypt()
		pt, err := f.decrypt(ct, tag, key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pt, f.payload) {
			t.Fatalf("%s: floor round trip changed the payload", sizeName(kb))
		}
		tag[0] ^= 1
		if _, err := f.decrypt(ct, tag, key); err == nil {
			t.Fatalf("%s: floor accepted a bad tag", sizeName(kb))
		}
	}
}

// measureCPU starts counting CPU time; the returned func, called after the
// timed loop, reports it per operation as cpu-ns/op.
func measureCPU(b *testing.B) (stop func()) {
	start := cpuTime()
	return func() {
		if d := cpuTime() - start; d > 0 && b.N > 0 {
			b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// forEach runs fn as sub-benchmarks <provider>/size=<N>KB.
func forEach(b *testing.B, fn func(b *testing.B, enc *itemcrypto.Encryptor, item itemcrypto.Item)) {
	for _, p := range providers {
		b.Run(p, func(b *testing.B) {
			enc := newEncryptor(b, p)
			for _, kb := range sizes {
				b.Run(sizeName(kb), func(b *testing.B) {
					item := newItem(randBytes(b, kb<<10))
					b.SetBytes(int64(kb << 10))
					b.ReportAllocs()
					fn(b, enc, item)
				})
			}
		})
	}
}

func BenchmarkEncrypt(b *testing.B) {
	forEach(b, func(b *testing.B, enc *itemcrypto.Encryptor, item itemcrypto.Item) {
		ctx := context.Background()
		encryptedItem(b, enc, item) // check once; untimed (b.Loop resets the timer)
		defer measureCPU(b)()
		for b.Loop() {
			if _, err := enc.Encrypt(ctx, item); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecrypt(b *testing.B) {
	forEach(b, func(b *testing.B, enc *itemcrypto.Encryptor, item itemcrypto.Item) {
		ctx := context.Background()
		ct := encryptedItem(b, enc, item)
		defer measureCPU(b)()
		for b.Loop() {
			if _, err := enc.Decrypt(ctx, ct); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncryptParallel(b *testing.B) {
	forEach(b, func(b *testing.B, enc *itemcrypto.Encryptor, item itemcrypto.Item) {
		ctx := context.Background()
		encryptedItem(b, enc, item)
		b.ResetTimer()
		defer measureCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := enc.Encrypt(ctx, item); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkDecryptParallel(b *testing.B) {
	forEach(b, func(b *testing.B, enc *itemcrypto.Encryptor, item itemcrypto.Item) {
		ctx := context.Background()
		ct := encryptedItem(b, enc, item)
		b.ResetTimer()
		defer measureCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := enc.Decrypt(ctx, ct); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// floor is the workload's cryptography done by hand with the standard
// library: AES-256-CBC with PKCS#7 under a fresh key, HMAC-SHA256 over the
// ciphertext and the other signed attributes' bytes.
type floor struct {
	payload []byte
	signed  []byte // the other signed attributes' bytes
	macKey  []byte
}

func newFloor(tb testing.TB, n int) *floor {
	return &floor{
		payload: randBytes(tb, n),
		signed:  []byte("partition_key" + partitionKey + "sort_key" + sortKey + "attribute2" + attribute2),
		macKey:  randBytes(tb, 32),
	}
}

func (f *floor) mac(ct []byte) hashSum {
	m := hmac.New(sha256.New, f.macKey)
	m.Write(ct)
	m.Write(f.signed)
	var s hashSum
	m.Sum(s[:0])
	return s
}

type hashSum = [sha256.Size]byte

// encrypt returns IV || CBC(PKCS#7(payload)), its tag and the fresh key.
func (f *floor) encrypt() (ct []byte, tag hashSum, key []byte) {
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	pad := aes.BlockSize - len(f.payload)%aes.BlockSize
	ct = make([]byte, aes.BlockSize+len(f.payload)+pad)
	iv, body := ct[:aes.BlockSize], ct[aes.BlockSize:]
	if _, err := rand.Read(iv); err != nil {
		panic(err)
	}
	copy(body, f.payload)
	for i := len(f.payload); i < len(body); i++ {
		body[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
	return ct, f.mac(ct), key
}

var errFloor = errors.New("floor: authentication failed")

// decrypt verifies tag, then decrypts and unpads ct.
func (f *floor) decrypt(ct []byte, tag hashSum, key []byte) ([]byte, error) {
	want := f.mac(ct)
	if !hmac.Equal(want[:], tag[:]) {
		return nil, errFloor
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(ct) < 2*aes.BlockSize || len(ct)%aes.BlockSize != 0 {
		return nil, errFloor
	}
	out := make([]byte, len(ct)-aes.BlockSize)
	cipher.NewCBCDecrypter(block, ct[:aes.BlockSize]).CryptBlocks(out, ct[aes.BlockSize:])
	pad := int(out[len(out)-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, pad)
		good &= subtle.ConstantTimeSelect(inPad, subtle.ConstantTimeByteEq(out[len(out)-i], byte(pad)), 1)
	}
	if good != 1 {
		return nil, errFloor
	}
	return out[:len(out)-pad], nil
}

func BenchmarkFloor(b *testing.B) {
	b.Run("encrypt", func(b *testing.B) {
		for _, kb := range sizes {
			b.Run(sizeName(kb), func(b *testing.B) {
				f := newFloor(b, kb<<10)
				b.SetBytes(int64(kb << 10))
				b.ReportAllocs()
				defer measureCPU(b)()
				for b.Loop() {
					f.encrypt()
				}
			})
		}
	})
	b.Run("decrypt", func(b *testing.B) {
		for _, kb := range sizes {
			b.Run(sizeName(kb), func(b *testing.B) {
				f := newFloor(b, kb<<10)
				ct, tag, key := f.encrypt()
				b.SetBytes(int64(kb << 10))
				b.ReportAllocs()
				defer measureCPU(b)()
				for b.Loop() {
					if _, err := f.decrypt(ct, tag, key); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}
