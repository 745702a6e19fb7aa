package redact_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyfile"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/canon"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// sentinel returns a recognisable n-byte key: from 0xA5 0xDA 0xC3 0xBC ...
// (the pattern 0xA5 0x5A 0xC3 0x3C ... with the top bit set), each byte
// xored with its index and seed, so that two keys differ; the top bit
// keeps every byte a three-digit decimal, never 0, so that no common
// number or short fmt output passes for a piece of key.
func sentinel(n int, seed byte) []byte {
	pat := []byte{0xA5, 0x5A, 0xC3, 0x3C, 0x96, 0x69, 0xF0, 0x0F}
	b := make([]byte, n)
	for i := range b {
		b[i] = 0x80 | (pat[i%len(pat)] ^ byte(i) ^ seed<<4)
	}
	return b
}

// verbs are the fmt verbs, flags and widths every key holder is printed
// with; "" is fmt.Sprint and "ln" fmt.Sprintln.
var verbs = []string{
	"", "ln", "%v", "%+v", "%#v", "%s", "%q", "%+q", "%#q", "%x", "%X", "% x", "%#x", "% X",
	"%d", "%+d", "%c", "%e", "%E", "%f", "%F", "%g", "%G", "%t", "%b", "%o", "%O", "%U", "%#U",
	"%p", "%T", "%w", "%z", "%10v", "%-10s", "%.3s", "%08d", "%5x", "%#o", "%8.3e",
}

func sprint(verb string, v any) string {
	switch verb {
	case "":
		return fmt.Sprint(v)
	case "ln":
		return fmt.Sprintln(v)
	}
	return fmt.Sprintf(verb, v)
}

// leakForms are strings whose presence in an output shows the key: its
// raw bytes, hex, base64 (standard and URL, with and without padding), its
// bytes as fmt prints a []byte or a byte under verb (one after the other,
// as in a slice or array), the key as a big integer (an RSA or EC scalar)
// and as 32-bit words (an AES key schedule) under verb. Windows of the key's middle are used, so that an
// encoding of part of the key (or a scalar without its leading zeros) is
// found too.
func leakForms(secret []byte, verb string) []string {
	window := func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		i := (len(s) - n) / 2
		return s[i : i+n]
	}
	mid := secret
	if len(mid) > 12 {
		mid = secret[len(secret)/2-6 : len(secret)/2+6]
	}
	forms := []string{
		string(mid),
		hex.EncodeToString(mid), strings.ToUpper(hex.EncodeToString(mid)),
		window(base64.StdEncoding.EncodeToString(secret), 12),
		window(base64.URLEncoding.EncodeToString(secret), 12),
		window(base64.RawStdEncoding.EncodeToString(secret), 12),
		window(base64.RawURLEncoding.EncodeToString(secret), 12),
		window(new(big.Int).SetBytes(secret).String(), 16),
	}
	if verb != "%p" && verb != "%T" {
		forms = append(forms,
			inner(sprint(verb, mid[3:9])),
			inner(sprint(verb, string(mid[3:9]))),
			window(sprint(verb, new(big.Int).SetBytes(secret)), 16))
		for _, sep := range []string{" ", ", "} {
			forms = append(forms, sprint(verb, mid[0])+sep+sprint(verb, mid[1])+sep+sprint(verb, mid[2]))
		}
		var dec []string
		for _, c := range mid[:4] {
			dec = append(dec, fmt.Sprint(c))
		}
		forms = append(forms, strings.Join(dec, " "), strings.Join(dec, ","))
		// An AES cipher.Block holds the key as its first round keys:
		// 32-bit words (big- or little-endian), printed as numbers.
		for _, order := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			var words, plain []string
			for i := 0; i+4 <= len(secret) && i < 12; i += 4 {
				words = append(words, sprint(verb, order.Uint32(secret[i:])))
				plain = append(plain, fmt.Sprint(order.Uint32(secret[i:])))
			}
			forms = append(forms, strings.Join(words, " "), strings.Join(plain, " "))
		}
	}
	var out []string
	for _, f := range forms {
		if len(strings.TrimSpace(f)) >= 6 {
			out = append(out, f)
		}
	}
	return out
}

// inner strips what fmt writes around a byte slice or string ("[...]",
// "[]byte{...}", quotes), leaving what it writes for the bytes inside a
// longer one.
func inner(s string) string {
	if i := strings.IndexAny(s, "[{"); i >= 0 && i < 8 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, "\"`"); i == 0 {
		s = s[1:]
	}
	return strings.TrimRight(s, "]}\"`\n")
}

// encodings returns every way the test prints or encodes v: each verb,
// slog's text and JSON handlers (as an attribute, and as slog.Any), and
// encoding/json (of v and of a struct with v in an exported field).
func encodings(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, verb := range verbs {
		out["fmt "+verb] = sprint(verb, v)
	}
	var buf bytes.Buffer
	for name, h := range map[string]slog.Handler{
		"text": slog.NewTextHandler(&buf, nil),
		"json": slog.NewJSONHandler(&buf, nil),
	} {
		buf.Reset()
		l := slog.New(h)
		l.Info("msg", "k", v)
		l.Info("msg", slog.Any("k", v))
		l.With("k", v).Info("msg")
		l.Info("msg", slog.Group("g", "k", v))
		out["slog "+name] = buf.String()
	}
	for name, x := range map[string]any{"v": v, "field": struct{ K any }{v}, "slice": []any{v}} {
		b, err := json.Marshal(x)
		if err != nil {
			out["json "+name] = "error: " + err.Error()
			continue
		}
		out["json "+name] = string(b)
	}
	return out
}

// holderCase is a key holder built with recognisable keys: ptr is a *T,
// secrets the key material it holds.
type holderCase struct {
	ptr     any
	secrets [][]byte
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func rsaSecrets(k *rsa.PrivateKey) [][]byte {
	return [][]byte{k.D.Bytes(), k.Primes[0].Bytes(), k.Primes[1].Bytes(), k.Precomputed.Dp.Bytes(), k.Precomputed.Qinv.Bytes()}
}

// must panics on err: the cases build with fixed, valid arguments.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// holderCases builds every key holder the walk must find, by the key of
// the walk (import path and type name).
func holderCases(t *testing.T) map[string]func(t *testing.T) holderCase {
	const mod = "github.com/itemcrypto/go-itemcrypto/"
	aesKey, macKey, branch, beacon := sentinel(32, 0), sentinel(32, 1), sentinel(32, 2), sentinel(32, 3)
	const version = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
	newAES := func(t *testing.T) *cmp.AESKey { return must(cmp.NewAESKey(aesKey)) }
	newHMAC := func(t *testing.T) *cmp.HMACKey { return must(cmp.NewHMACKey("", macKey)) }
	newStatic := func(t *testing.T) *cmp.Static {
		return must(cmp.NewStatic(cmp.StaticConfig{EncryptionKey: newAES(t), SigningKey: newHMAC(t)}))
	}
	newBranch := func(t *testing.T) *hierarchy.BranchKey {
		return must(hierarchy.NewBranchKey("bk", version, branch, beacon))
	}
	ecKey := func(t *testing.T) *ecdsa.PrivateKey {
		return must(ecdsa.ParseRawPrivateKey(elliptic.P256(), sentinel(32, 4)))
	}
	newSearch := func(t *testing.T) (*search.Search, *search.ResultFilter) {
		sk := must(search.NewStaticKeys(newBranch(t)))
		v := search.BeaconVersion{Version: 1, KeyStore: sk,
			KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "bk", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 16}}}
		pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
		s := must(search.New(search.Config{Versions: []search.BeaconVersion{v}, WriteVersion: 1}, pol))
		in := &dynamodb.QueryInput{TableName: aws.String("t"), KeyConditionExpression: aws.String("email = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "a@example.com"}}}
		_, f, err := s.TransformQuery(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		return s, f
	}
	// newMapenc is a mapenc Codec with beacons and a DB-ESDK keyring over
	// the branch key, which has computed a beacon (its key is cached).
	newMapenc := func(t *testing.T) *mapenc.Codec {
		kr := must(hierarchy.New(hierarchy.NewStatic(newBranch(t)), func(o *hierarchy.Options) { o.BranchKeyID = "bk" }))
		c := must(mapenc.New(mapenc.Config{TableName: "t", Default: actions.EncryptAndSign, PartitionKey: "id",
			Format: itemcrypto.FormatDBESDK, DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr},
			Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{Version: 1, KeyStore: must(search.NewStaticKeys(newBranch(t))),
				KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "bk", CacheTTL: time.Hour}},
				StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 16}}}}},
		}))
		must(c.EncryptMap(context.Background(), map[string]any{"id": "1", "email": "a@example.com"}))
		return c
	}
	return map[string]func(t *testing.T) holderCase{
		mod + "adapters/mapenc.Codec": func(t *testing.T) holderCase {
			return holderCase{newMapenc(t), [][]byte{branch, beacon}}
		},
		mod + "adapters/mapenc.TypedCodec": func(t *testing.T) holderCase {
			type row struct {
				ID    string `dynamodbav:"id"`
				Email string `dynamodbav:"email"`
			}
			tc := must(mapenc.Typed[row](newMapenc(t)))
			must(tc.Term(context.Background(), "email", search.Equals, "a@example.com"))
			return holderCase{tc, [][]byte{branch, beacon}}
		},
		mod + "cmp.AESKey":  func(t *testing.T) holderCase { return holderCase{newAES(t), [][]byte{aesKey}} },
		mod + "cmp.HMACKey": func(t *testing.T) holderCase { return holderCase{newHMAC(t), [][]byte{macKey}} },
		mod + "cmp.RSASigningKey": func(t *testing.T) holderCase {
			return holderCase{must(cmp.NewRSASigningKey(rsaKey(), "")), rsaSecrets(rsaKey())}
		},
		mod + "cmp.RSAUnwrappingKey": func(t *testing.T) holderCase {
			return holderCase{must(cmp.NewRSAUnwrappingKey(rsaKey())), rsaSecrets(rsaKey())}
		},
		mod + "cmp.ECDSASigningKey": func(t *testing.T) holderCase {
			return holderCase{must(cmp.NewECDSASigningKey(ecKey(t), cmp.ECDSAWithSHA256)), [][]byte{sentinel(32, 4)}}
		},
		mod + "cmp.EncryptionMaterials": func(t *testing.T) holderCase {
			return holderCase{must(cmp.NewEncryptionMaterials(newAES(t), newHMAC(t), nil)), [][]byte{aesKey, macKey}}
		},
		mod + "cmp.DecryptionMaterials": func(t *testing.T) holderCase {
			return holderCase{must(cmp.NewDecryptionMaterials(newAES(t), newHMAC(t))), [][]byte{aesKey, macKey}}
		},
		mod + "cmp.Static": func(t *testing.T) holderCase { return holderCase{newStatic(t), [][]byte{aesKey, macKey}} },
		mod + "cmp.StaticConfig": func(t *testing.T) holderCase {
			return holderCase{&cmp.StaticConfig{EncryptionKey: newAES(t), SigningKey: newHMAC(t)}, [][]byte{aesKey, macKey}}
		},
		mod + "cmp.Caching": func(t *testing.T) holderCase {
			c := must(cmp.NewCaching(newStatic(t), cmp.CachingConfig{MaxAge: time.Minute, MaxItems: 10}))
			return holderCase{c, [][]byte{aesKey, macKey}}
		},
		mod + "cmp/keyfile.Keys": func(t *testing.T) holderCase {
			data := fmt.Sprintf(`{"format": %q, "type": "aes-hmac",
				"encryptionKey": {"algorithm": "AES", "material": %q},
				"signingKey": {"algorithm": "HmacSHA256", "material": %q}}`,
				keyfile.Format, base64.StdEncoding.EncodeToString(aesKey), base64.StdEncoding.EncodeToString(macKey))
			return holderCase{must(keyfile.Parse([]byte(data))), [][]byte{aesKey, macKey}}
		},
		mod + "cmp/keyring.EncryptionMaterials": func(t *testing.T) holderCase {
			m := must(keyring.NewEncryptionMaterials(keyring.SuiteHMAC, map[string]string{"a": "b"}, nil))
			if err := m.SetDataKey(aesKey); err != nil {
				t.Fatal(err)
			}
			if err := m.AddEncryptedDataKey(keyring.EncryptedDataKey{ProviderID: "p"}, macKey); err != nil {
				t.Fatal(err)
			}
			return holderCase{m, [][]byte{aesKey, macKey}}
		},
		mod + "cmp/keyring.DecryptionMaterials": func(t *testing.T) holderCase {
			m := must(keyring.NewDecryptionMaterials(keyring.SuiteHMAC, map[string]string{"a": "b"}))
			if err := m.SetDataKey(aesKey, macKey); err != nil {
				t.Fatal(err)
			}
			return holderCase{m, [][]byte{aesKey, macKey}}
		},
		mod + "cmp/keyring.RawAES": func(t *testing.T) holderCase {
			return holderCase{must(keyring.NewRawAES("ns", "name", aesKey)), [][]byte{aesKey}}
		},
		mod + "cmp/keyring.RawRSA": func(t *testing.T) holderCase {
			k := rsaKey()
			return holderCase{must(keyring.NewRawRSA("ns", "name", keyring.RSAOAEPSHA256, &k.PublicKey, k)), rsaSecrets(k)}
		},
		mod + "cmp/keyring.RawECDH": func(t *testing.T) holderCase {
			d := sentinel(32, 5)
			k := must(ecdh.P256().NewPrivateKey(d))
			return holderCase{must(keyring.NewRawECDHDiscovery(k)), [][]byte{d}}
		},
		mod + "cmp/keyring/hierarchy.BranchKey": func(t *testing.T) holderCase {
			return holderCase{newBranch(t), [][]byte{branch, beacon}}
		},
		mod + "cmp/keyring/hierarchy.Static": func(t *testing.T) holderCase {
			return holderCase{hierarchy.NewStatic(newBranch(t)), [][]byte{branch, beacon}}
		},
		mod + "cmp/keyring/hierarchy.Keyring": func(t *testing.T) holderCase {
			k := must(hierarchy.New(hierarchy.NewStatic(newBranch(t)), func(o *hierarchy.Options) { o.BranchKeyID = "bk" }))
			m := must(keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil))
			if err := k.OnEncrypt(context.Background(), m); err != nil { // fills the cache
				t.Fatal(err)
			}
			return holderCase{k, [][]byte{branch, beacon}}
		},
		mod + "cmp/keyring/hierarchy.SharedCache": func(t *testing.T) holderCase {
			c := must(hierarchy.NewSharedCache(4))
			k := must(hierarchy.New(hierarchy.NewStatic(newBranch(t)), func(o *hierarchy.Options) { o.BranchKeyID = "bk"; o.Cache = c }))
			m := must(keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil))
			if err := k.OnEncrypt(context.Background(), m); err != nil { // fills the cache
				t.Fatal(err)
			}
			return holderCase{c, [][]byte{branch, beacon}}
		},
		mod + "cmp/keyring/hierarchy.Options": func(t *testing.T) holderCase {
			c := must(hierarchy.NewSharedCache(4))
			o := hierarchy.Options{BranchKeyID: "bk", Cache: c}
			k := must(hierarchy.New(hierarchy.NewStatic(newBranch(t)), func(p *hierarchy.Options) { *p = o }))
			m := must(keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil))
			if err := k.OnEncrypt(context.Background(), m); err != nil { // fills the cache
				t.Fatal(err)
			}
			return holderCase{&o, [][]byte{branch, beacon}}
		},
		mod + "cmp/keyring/hierarchy/keystore.BeaconKeyMaterials": func(t *testing.T) holderCase {
			return holderCase{must(keystore.NewBeaconKeyMaterials("bk", beacon, map[string]string{"a": "b"})), [][]byte{beacon}}
		},
		mod + "cmp/keyring/hierarchy/keystore.BranchKeyMaterials": func(t *testing.T) holderCase {
			return holderCase{&keystore.BranchKeyMaterials{BranchKey: newBranch(t), EncryptionContext: map[string]string{"a": "b"}}, [][]byte{branch, beacon}}
		},
		mod + "cmp/kmstest.Server": func(t *testing.T) holderCase {
			s := kmstest.NewServer(t)
			t.Cleanup(s.Close)
			s.CreateKey(kmstest.WithKeyMaterial(aesKey))
			return holderCase{s, [][]byte{aesKey}}
		},
		mod + "internal/dbe/canon.Root": func(t *testing.T) holderCase {
			r := must(canon.NewRoot(aesKey))
			r.FieldKey(0)
			return holderCase{r, [][]byte{aesKey}}
		},
		mod + "search.StaticKeys": func(t *testing.T) holderCase {
			return holderCase{must(search.NewStaticKeys(newBranch(t))), [][]byte{beacon}}
		},
		mod + "search.BeaconKey": func(t *testing.T) holderCase {
			return holderCase{must(search.NewBeaconKey("bk", beacon)), [][]byte{beacon}}
		},
		mod + "search.Search": func(t *testing.T) holderCase {
			s, _ := newSearch(t)
			return holderCase{s, [][]byte{beacon}}
		},
		mod + "search.ResultFilter": func(t *testing.T) holderCase {
			_, f := newSearch(t)
			return holderCase{f, [][]byte{beacon}}
		},
		mod + "search.Term": func(t *testing.T) holderCase {
			s, _ := newSearch(t)
			term := must(s.Term(context.Background(), search.TermQuery{Beacon: "email", Value: &types.AttributeValueMemberS{Value: "a@example.com"}}))
			return holderCase{term, [][]byte{beacon}}
		},
		mod + "adapters/dynamodbenc.Client": func(t *testing.T) holderCase {
			var api *dynamodb.Client // never called
			c := must(dynamodbenc.New(api, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
				"t": {Provider: newStatic(t), Default: actions.EncryptAndSign, PartitionKey: "id"},
			}}))
			return holderCase{c, [][]byte{aesKey, macKey}}
		},
		mod + "adapters/dynamodbenc.Table": func(t *testing.T) holderCase {
			var api *dynamodb.Client // never called
			c := must(dynamodbenc.New(api, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
				"t": {Provider: newStatic(t), Default: actions.EncryptAndSign, PartitionKey: "id"},
			}}))
			type row struct {
				ID string `dynamodbav:"id"`
			}
			return holderCase{must(dynamodbenc.NewTable[row](c, "t")), [][]byte{aesKey, macKey}}
		},
	}
}

// formatBypassed are the verbs under which fmt does not call Format: %p and
// %T print the address and the type, and %w (outside Errorf, or of a value
// that is not an error) prints the value's fields one pointer deep,
// without its methods; so key holders keep their key material two
// pointers away (the material of cmp.AESKey, hierarchy.BranchKey, ...).
// "ln" adds a newline.
var formatBypassed = map[string]bool{"%p": true, "%T": true, "%w": true, "ln": true}

// TestKeyHoldersRedact is the behaviour half: every key holder the walk
// finds (but those of ownTests) is in holderCases, and neither T nor *T
// shows its keys under any verb of fmt (flags and widths too), in slog
// (text and JSON handlers) or in encoding/json. Under every verb but those
// of formatBypassed, fmt prints the same redacted text.
func TestKeyHoldersRedact(t *testing.T) {
	_, holders := keyHolders(t)
	cases := holderCases(t)
	found := map[string]bool{}
	for _, h := range holders {
		found[h.key] = true
		build, ok := cases[h.key]
		if !ok {
			if _, own := ownTests[h.dir]; !own {
				t.Errorf("%s holds key material (%s) but is not in holderCases", h.name, h.why)
			}
			continue
		}
		t.Run(h.name, func(t *testing.T) {
			c := build(t)
			if reflect.TypeOf(c.ptr).Kind() != reflect.Pointer {
				t.Fatalf("the case builds a %T, not a pointer", c.ptr)
			}
			val := reflect.ValueOf(c.ptr).Elem().Interface()
			for form, v := range map[string]any{"T": val, "*T": c.ptr} {
				want := fmt.Sprint(v)
				for enc, out := range encodings(t, v) {
					for i, s := range c.secrets {
						for _, leak := range leakForms(s, strings.TrimPrefix(enc, "fmt ")) {
							if strings.Contains(out, leak) {
								t.Errorf("%s under %s shows key %d (as %q): %s", form, enc, i, leak, out)
								break
							}
						}
					}
					if verb, ok := strings.CutPrefix(enc, "fmt "); ok && !formatBypassed[verb] && out != want {
						t.Errorf("%s under %s prints %q, not its redacted text %q", form, enc, out, want)
					}
				}
			}
		})
	}
	for k := range cases {
		if !found[k] {
			t.Errorf("holderCases has %s, which the walk does not find: update the case or the rule", k)
		}
	}
}
