package cmp_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// rsaKeys are generated once for the whole package: 2048-bit generation is slow.
var rsaKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(crand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

func detRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func repeat(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

func mustAES(t testing.TB, key []byte) *cmp.AESKey {
	t.Helper()
	k, err := cmp.NewAESKey(key)
	if err != nil {
		t.Fatalf("NewAESKey(%d bytes) = %v", len(key), err)
	}
	return k
}

func mustHMAC(t testing.TB, alg string, key []byte) *cmp.HMACKey {
	t.Helper()
	k, err := cmp.NewInsecureHMACKey(alg, key) // the tests use short keys, as the DDBEC vectors do
	if err != nil {
		t.Fatalf("NewInsecureHMACKey(%q) = %v", alg, err)
	}
	return k
}

// TestHMACKeySize: keys for new items have at least 16 bytes; shorter keys
// (of existing items) only through NewInsecureHMACKey. The messages say
// what was wrong, never the key.
func TestHMACKeySize(t *testing.T) {
	for _, tc := range []struct {
		alg     string
		size    int
		wantErr string
	}{
		{"HmacSHA256", 15, "cmp: invalid key: HMAC key of 15 bytes is too short (want at least 16; NewInsecureHMACKey reads items of shorter keys)"},
		{"HmacSHA256", 16, ""},
		{"HmacSHA512", 64, ""},
		{"HmacSHA256", 0, "cmp: invalid key: empty HMAC key"},
		{"HmacMD5", 32, `cmp: unsupported algorithm: HMAC algorithm "HmacMD5" (want HmacSHA256, HmacSHA224, HmacSHA384 or HmacSHA512)`},
	} {
		_, err := cmp.NewHMACKey(tc.alg, repeat(7, tc.size))
		if got := fmt.Sprint(err); (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && got != tc.wantErr) {
			t.Errorf("NewHMACKey(%s, %d bytes) = %v; want %q", tc.alg, tc.size, err, tc.wantErr)
		}
	}
	if _, err := cmp.NewInsecureHMACKey("HmacSHA256", repeat(7, 8)); err != nil {
		t.Errorf("NewInsecureHMACKey(8 bytes) = %v", err)
	}
	if _, err := cmp.NewInsecureHMACKey("HmacSHA256", nil); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewInsecureHMACKey(empty) = %v; want ErrInvalidKey", err)
	}
}

func mustRSASigner(t testing.TB, priv *rsa.PrivateKey, alg string) *cmp.RSASigningKey {
	t.Helper()
	k, err := cmp.NewRSASigningKey(priv, alg)
	if err != nil {
		t.Fatalf("NewRSASigningKey(%q) = %v", alg, err)
	}
	return k
}

func mustRSAVerifier(t testing.TB, pub *rsa.PublicKey, alg string) *cmp.RSAVerificationKey {
	t.Helper()
	k, err := cmp.NewRSAVerificationKey(pub, alg)
	if err != nil {
		t.Fatalf("NewRSAVerificationKey(%q) = %v", alg, err)
	}
	return k
}

// ---------------------------------------------------------------------------
// Redaction

// leakMarkers are renderings of 0x42 bytes (hex, base64, raw, decimal).
var leakMarkers = []string{"4242", "QkJC", "BBBB", "66 66", "0x42"}

func rsaLeakMarkers(priv *rsa.PrivateKey) []string {
	var out []string
	for _, n := range []interface{ Bytes() []byte }{priv.D, priv.Primes[0], priv.Primes[1]} {
		b := n.Bytes()
		h := hex.EncodeToString(b)
		out = append(out,
			h[8:24], strings.ToUpper(h[8:24]),
			base64.StdEncoding.EncodeToString(b)[8:24],
			base64.RawURLEncoding.EncodeToString(b)[8:24],
			string(b[4:12]),
		)
	}
	for _, n := range []fmt.Stringer{priv.D, priv.Primes[0], priv.Primes[1]} {
		out = append(out, n.String()[4:20])
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err == nil {
		out = append(out, base64.StdEncoding.EncodeToString(der)[200:220])
	}
	return out
}

func renderings(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%T %[1]v"} {
		out["fmt "+verb] = fmt.Sprintf(verb, v)
	}
	out["fmt Sprint"] = fmt.Sprint(v)
	out["fmt Sprintln"] = fmt.Sprintln(v)
	var jb, tb bytes.Buffer
	slog.New(slog.NewJSONHandler(&jb, nil)).Info("msg", "key", v, slog.Any("any", v), slog.Group("g", "k", v))
	out["slog JSON"] = jb.String()
	slog.New(slog.NewTextHandler(&tb, nil)).Info("msg", "key", v, slog.Any("any", v))
	out["slog text"] = tb.String()
	out["error wrap"] = fmt.Errorf("context: %v", v).Error()
	return out
}

func TestRedaction(t *testing.T) {
	secret := repeat(0x42, 32)
	aesKey := mustAES(t, secret)
	hmacKey := mustHMAC(t, "", secret)
	priv := rsaKeys()[0]
	rsaSigner := mustRSASigner(t, priv, "")
	rsaUnwrap, err := cmp.NewRSAUnwrappingKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	encMat, err := cmp.NewEncryptionMaterials(aesKey, hmacKey, materialdesc.Description{"x": "y"})
	if err != nil {
		t.Fatal(err)
	}
	decMat, err := cmp.NewDecryptionMaterials(aesKey, hmacKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaEncMat, err := cmp.NewEncryptionMaterials(aesKey, rsaSigner, nil)
	if err != nil {
		t.Fatal(err)
	}
	static, err := cmp.NewStatic(cmp.StaticConfig{EncryptionKey: aesKey, SigningKey: hmacKey})
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: aesKey, UnwrappingKey: aesKey, SigningKey: hmacKey})
	if err != nil {
		t.Fatal(err)
	}
	rsaWrapped, err := cmp.NewWrapped(cmp.WrappedConfig{UnwrappingKey: rsaUnwrap, SigningKey: rsaSigner, VerificationKey: rsaSigner.Public()})
	if err != nil {
		t.Fatal(err)
	}
	// Fresh materials from the wrapped provider carry a content key; its
	// bytes are unknown, so only the KEK/HMAC markers are checked for them.
	wrappedMat, err := wrapped.EncryptionMaterials(context.Background(), cmp.EncryptionContext{TableName: "t"})
	if err != nil {
		t.Fatal(err)
	}

	symmetric := []struct {
		name string
		v    any
	}{
		{"*AESKey", aesKey},
		{"AESKey value", *aesKey},
		{"*HMACKey", hmacKey},
		{"HMACKey value", *hmacKey},
		{"*EncryptionMaterials", encMat},
		{"EncryptionMaterials value", *encMat},
		{"*DecryptionMaterials", decMat},
		{"DecryptionMaterials value", *decMat},
		{"wrapped *EncryptionMaterials", wrappedMat},
		{"*Static", static},
		{"Static value", *static},
		{"*Wrapped", wrapped},
		{"Wrapped value", *wrapped},
		{"StaticConfig", cmp.StaticConfig{EncryptionKey: aesKey, SigningKey: hmacKey}},
		{"*WrappedConfig", &cmp.WrappedConfig{WrappingKey: aesKey, UnwrappingKey: aesKey, SigningKey: hmacKey}},
		{"slice of keys", []any{aesKey, hmacKey}},
	}
	for _, tt := range symmetric {
		for how, s := range renderings(tt.v) {
			for _, m := range leakMarkers {
				if strings.Contains(s, m) {
					t.Errorf("%s printed with %s contains %q (key material): %.160s", tt.name, how, m, s)
				}
			}
		}
	}

	rsaMarkers := rsaLeakMarkers(priv)
	asymmetric := []struct {
		name string
		v    any
	}{
		{"*RSASigningKey", rsaSigner},
		{"RSASigningKey value", *rsaSigner},
		{"*RSAUnwrappingKey", rsaUnwrap},
		{"RSAUnwrappingKey value", *rsaUnwrap},
		{"RSA *EncryptionMaterials", rsaEncMat},
		{"RSA *Wrapped", rsaWrapped},
		{"RSA Wrapped value", *rsaWrapped},
		{"RSA WrappedConfig", cmp.WrappedConfig{UnwrappingKey: rsaUnwrap, SigningKey: rsaSigner}},
	}
	for _, tt := range asymmetric {
		for how, s := range renderings(tt.v) {
			for _, m := range rsaMarkers {
				if strings.Contains(s, m) {
					t.Errorf("%s printed with %s contains private key material %q", tt.name, how, m)
				}
			}
		}
	}

	// The placeholder still says what the key is.
	if s := fmt.Sprint(aesKey); !strings.Contains(s, "AES") || !strings.Contains(s, "REDACTED") {
		t.Errorf("fmt.Sprint(*AESKey) = %q; want a placeholder naming AES and REDACTED", s)
	}
	if s := fmt.Sprint(hmacKey); !strings.Contains(s, "HmacSHA256") {
		t.Errorf("fmt.Sprint(*HMACKey) = %q; want it to name the algorithm", s)
	}
}

// ---------------------------------------------------------------------------
// AES keys and AES-CBC

func TestNewAESKeySizes(t *testing.T) {
	for n := range 40 {
		k, err := cmp.NewAESKey(make([]byte, n))
		valid := n == 16 || n == 24 || n == 32
		switch {
		case valid && err != nil:
			t.Errorf("NewAESKey(%d bytes) = %v; want success", n, err)
		case valid && k.Size() != n:
			t.Errorf("NewAESKey(%d bytes).Size() = %d", n, k.Size())
		case !valid && !errors.Is(err, cmp.ErrInvalidKey):
			t.Errorf("NewAESKey(%d bytes) error = %v; want ErrInvalidKey", n, err)
		}
	}
}

// stdCBC decrypts IV||ct with the standard library and strips PKCS#7 padding.
func stdCBC(t *testing.T, key, ct []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(ct)-16)
	cipher.NewCBCDecrypter(block, ct[:16]).CryptBlocks(out, ct[16:])
	pad := int(out[len(out)-1])
	if pad < 1 || pad > 16 {
		t.Fatalf("bad padding byte %d", pad)
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			t.Fatalf("inconsistent PKCS#7 padding")
		}
	}
	return out[:len(out)-pad]
}

// stdCBCEncryptRaw encrypts already padded blocks under iv.
func stdCBCEncryptRaw(t *testing.T, key, iv, padded []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := append(bytes.Clone(iv), make([]byte, len(padded))...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out[16:], padded)
	return out
}

func TestAESCBCRoundTrip(t *testing.T) {
	for _, size := range []int{16, 24, 32} {
		raw := make([]byte, size)
		for i := range raw {
			raw[i] = byte(i * 7)
		}
		k := mustAES(t, raw)
		for n := 0; n <= 49; n++ {
			pt := make([]byte, n)
			for i := range pt {
				pt[i] = byte(n + i)
			}
			prefix := []byte("prefix")
			dst := bytes.Clone(prefix)
			out, err := k.AppendEncryptCBC(dst, crand.Reader, pt)
			if err != nil {
				t.Fatalf("AppendEncryptCBC: %v", err)
			}
			if !bytes.HasPrefix(out, prefix) {
				t.Fatalf("AppendEncryptCBC did not keep dst prefix")
			}
			ct := out[len(prefix):]
			if want := 16 + 16*(n/16+1); len(ct) != want {
				t.Errorf("AES-%d: ciphertext of %d bytes has length %d; want %d", size*8, n, len(ct), want)
			}
			if got := stdCBC(t, raw, ct); !bytes.Equal(got, pt) {
				t.Errorf("AES-%d: standard CBC decrypt of %d bytes = %x; want %x", size*8, n, got, pt)
			}
			got, err := k.DecryptCBC(ct)
			if err != nil || !bytes.Equal(got, pt) {
				t.Errorf("AES-%d: DecryptCBC(%d bytes) = %x, %v; want %x", size*8, n, got, err, pt)
			}
		}
	}
}

func TestAESCBCFreshIV(t *testing.T) {
	k := mustAES(t, repeat(1, 32))
	pt := []byte("same plaintext")
	a, err := k.AppendEncryptCBC(nil, crand.Reader, pt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.AppendEncryptCBC(nil, crand.Reader, pt)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[:16], b[:16]) || bytes.Equal(a, b) {
		t.Errorf("two encryptions share IV or ciphertext")
	}
	// The IV is what rand returned.
	c, err := k.AppendEncryptCBC(nil, detRand(9), pt)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, 16)
	io.ReadFull(detRand(9), iv)
	if !bytes.Equal(c[:16], iv) {
		t.Errorf("IV = %x; want the first 16 bytes of rand %x", c[:16], iv)
	}
	// A failing rand is an error.
	if _, err := k.AppendEncryptCBC(nil, bytes.NewReader(make([]byte, 5)), pt); err == nil {
		t.Errorf("AppendEncryptCBC with a short rand: want an error")
	}
}

func TestAESCBCDecryptBad(t *testing.T) {
	raw := repeat(3, 16)
	k := mustAES(t, raw)
	iv := repeat(0xAA, 16)
	block := func(last ...byte) []byte {
		b := make([]byte, 16)
		copy(b[16-len(last):], last)
		return b
	}
	good16 := bytes.Repeat([]byte{16}, 16)
	tests := []struct {
		name string
		ct   []byte
	}{
		{"empty", nil},
		{"IV only", iv},
		{"short", make([]byte, 15)},
		{"17 bytes", make([]byte, 17)},
		{"31 bytes", make([]byte, 31)},
		{"33 bytes", make([]byte, 33)},
		{"47 bytes", make([]byte, 47)},
		{"pad byte 0", stdCBCEncryptRaw(t, raw, iv, block(0))},
		{"pad byte 17", stdCBCEncryptRaw(t, raw, iv, block(17))},
		{"pad byte 255", stdCBCEncryptRaw(t, raw, iv, block(255))},
		{"inconsistent pad 2", stdCBCEncryptRaw(t, raw, iv, block(3, 2))},
		{"inconsistent pad 3", stdCBCEncryptRaw(t, raw, iv, block(2, 3, 3))},
		{"pad 16 one wrong byte", stdCBCEncryptRaw(t, raw, iv, append([]byte{15}, good16[1:]...))},
		{"pad 16 in second block wrong", stdCBCEncryptRaw(t, raw, iv, append(repeat(0, 16), append([]byte{0}, good16[1:]...)...))},
	}
	for _, tt := range tests {
		got, err := k.DecryptCBC(tt.ct)
		if !errors.Is(err, cmp.ErrAuthentication) {
			t.Errorf("%s: DecryptCBC error = %v; want ErrAuthentication", tt.name, err)
		}
		if got != nil {
			t.Errorf("%s: DecryptCBC returned %d bytes with an error", tt.name, len(got))
		}
	}
	// The boundary cases that are valid.
	valid := []struct {
		name   string
		padded []byte
		want   []byte
	}{
		{"full padding block", good16, []byte{}},
		{"pad 1", block(9, 1), append(make([]byte, 14), 9)},
		{"pad 16 after data", append(repeat(7, 16), good16...), repeat(7, 16)},
	}
	for _, tt := range valid {
		got, err := k.DecryptCBC(stdCBCEncryptRaw(t, raw, iv, tt.padded))
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: DecryptCBC = %x, %v; want %x", tt.name, got, err, tt.want)
		}
	}
}

func TestAESKeyCopied(t *testing.T) {
	raw := repeat(5, 32)
	k := mustAES(t, raw)
	ct, err := k.AppendEncryptCBC(nil, crand.Reader, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	clear(raw)
	if pt, err := k.DecryptCBC(ct); err != nil || string(pt) != "hello" {
		t.Errorf("after clearing the caller's key bytes, DecryptCBC = %q, %v; want hello", pt, err)
	}
}

// ---------------------------------------------------------------------------
// AES key wrap

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestAESKeyWrapRFC3394(t *testing.T) {
	tests := []struct{ kek, key, want string }{
		// RFC 3394 §4.1 and §4.6.
		{"000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF", "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5"},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
			"28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21"},
	}
	for _, tt := range tests {
		kek := mustAES(t, mustHex(tt.kek))
		w, alg, err := kek.WrapKey(nil, mustHex(tt.key))
		if err != nil || alg != "AESWrap" || !bytes.Equal(w, mustHex(tt.want)) {
			t.Errorf("WrapKey = %X, %q, %v; want %s, AESWrap", w, alg, err, tt.want)
		}
		got, err := kek.UnwrapKey(mustHex(tt.want), "AESWrap", len(mustHex(tt.key)))
		if err != nil || !bytes.Equal(got, mustHex(tt.key)) {
			t.Errorf("UnwrapKey = %X, %v; want %s", got, err, tt.key)
		}
	}
}

func TestAESKeyUnwrapFailures(t *testing.T) {
	kek := mustAES(t, repeat(1, 16))
	other := mustAES(t, repeat(2, 16))
	content := repeat(9, 32)
	w, _, err := kek.WrapKey(nil, content)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 40 {
		t.Errorf("wrapped 32-byte key is %d bytes; want 40", len(w))
	}
	flipped := func(i int) []byte { b := bytes.Clone(w); b[i] ^= 1; return b }
	tests := []struct {
		name    string
		kek     *cmp.AESKey
		wrapped []byte
		alg     string
		keyLen  int
		want    error
	}{
		{"wrong KEK", other, w, "AESWrap", 32, cmp.ErrAuthentication},
		{"flipped first byte", kek, flipped(0), "AESWrap", 32, cmp.ErrAuthentication},
		{"flipped last byte", kek, flipped(len(w) - 1), "AESWrap", 32, cmp.ErrAuthentication},
		{"truncated", kek, w[:32], "AESWrap", 32, cmp.ErrAuthentication},
		{"not a multiple of 8", kek, w[:39], "AESWrap", 32, cmp.ErrAuthentication},
		{"empty", kek, nil, "AESWrap", 32, cmp.ErrAuthentication},
		{"length mismatch with env-alg", kek, w, "AESWrap", 16, cmp.ErrAuthentication},
		{"no wrap-alg", kek, w, "", 32, cmp.ErrUnsupportedAlgorithm},
		{"RSA wrap-alg", kek, w, materialdesc.WrapRSAOAEP, 32, cmp.ErrUnsupportedAlgorithm},
	}
	for _, tt := range tests {
		got, err := tt.kek.UnwrapKey(tt.wrapped, tt.alg, tt.keyLen)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: UnwrapKey error = %v; want %v", tt.name, err, tt.want)
		}
		if got != nil {
			t.Errorf("%s: UnwrapKey returned key bytes with an error", tt.name)
		}
	}
	// keyLen 0 means "any size".
	if got, err := kek.UnwrapKey(w, "AESWrap", 0); err != nil || !bytes.Equal(got, content) {
		t.Errorf("UnwrapKey(keyLen 0) = %x, %v; want the content key", got, err)
	}
}

// ---------------------------------------------------------------------------
// RSA wrapping

func TestRSAOAEPWrap(t *testing.T) {
	priv, other := rsaKeys()[0], rsaKeys()[1]
	wk, err := cmp.NewRSAWrappingKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	uk, err := cmp.NewRSAUnwrappingKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	uOther, err := cmp.NewRSAUnwrappingKey(other)
	if err != nil {
		t.Fatal(err)
	}
	content := repeat(0x5A, 32)
	w, alg, err := wk.WrapKey(crand.Reader, content)
	if err != nil {
		t.Fatal(err)
	}
	if alg != "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" {
		t.Errorf("wrap alg = %q", alg)
	}
	if len(w) != 256 {
		t.Errorf("wrapped key length = %d; want 256", len(w))
	}
	got, err := uk.UnwrapKey(w, alg, 32)
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("UnwrapKey = %x, %v; want the content key", got, err)
	}
	// Interop: SunJCE's OAEPWithSHA-256AndMGF1Padding is OAEP-SHA-256 with MGF1-SHA-1.
	if pt, err := priv.Decrypt(nil, w, &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1}); err != nil || !bytes.Equal(pt, content) {
		t.Errorf("standard OAEP(SHA-256, MGF1-SHA-1) decrypt = %x, %v; want the content key", pt, err)
	}
	if _, err := rsa.DecryptOAEP(sha256.New(), nil, priv, w, nil); err == nil {
		t.Errorf("wrapped key also decrypts as OAEP with MGF1-SHA-256; want MGF1-SHA-1 only")
	}
	// A key wrapped with MGF1-SHA-256 (not the JCE parameters) does not unwrap.
	w256, err := rsa.EncryptOAEP(sha256.New(), crand.Reader, &priv.PublicKey, content, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uk.UnwrapKey(w256, alg, 32); !errors.Is(err, cmp.ErrAuthentication) {
		t.Errorf("UnwrapKey(MGF1-SHA-256 ciphertext) error = %v; want ErrAuthentication", err)
	}
	if _, err := uOther.UnwrapKey(w, alg, 32); !errors.Is(err, cmp.ErrAuthentication) {
		t.Errorf("UnwrapKey with another key error = %v; want ErrAuthentication", err)
	}
	bad := bytes.Clone(w)
	bad[100] ^= 0x10
	if _, err := uk.UnwrapKey(bad, alg, 32); !errors.Is(err, cmp.ErrAuthentication) {
		t.Errorf("UnwrapKey(flipped byte) error = %v; want ErrAuthentication", err)
	}
	if _, err := uk.UnwrapKey(w, "RSA/ECB/OAEPWithSHA-1AndMGF1Padding", 32); !errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
		t.Errorf("UnwrapKey(unknown wrap alg) error = %v; want ErrUnsupportedAlgorithm", err)
	}
	if _, err := uk.UnwrapKey(w, "AESWrap", 32); !errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
		t.Errorf("UnwrapKey(AESWrap) error = %v; want ErrUnsupportedAlgorithm", err)
	}
}

func TestRSALegacyPKCS1v15Unwrap(t *testing.T) {
	priv := rsaKeys()[0]
	uk, err := cmp.NewRSAUnwrappingKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	for _, keyLen := range []int{16, 32} {
		content := make([]byte, keyLen)
		crand.Read(content)
		//lint:ignore SA1019 legacy items are wrapped with PKCS #1 v1.5
		w, err := rsa.EncryptPKCS1v15(crand.Reader, &priv.PublicKey, content)
		if err != nil {
			t.Fatal(err)
		}
		for _, alg := range []string{"", "RSA", "RSA/ECB/PKCS1Padding"} {
			got, err := uk.UnwrapKey(w, alg, keyLen)
			if err != nil || !bytes.Equal(got, content) {
				t.Errorf("UnwrapKey(PKCS#1 v1.5, wrap alg %q, %d bytes) = %x, %v; want %x", alg, keyLen, got, err, content)
			}
		}
	}
	// A ciphertext longer than the modulus fails.
	if _, err := uk.UnwrapKey(bytes.Repeat([]byte{0xFF}, 257), "", 32); !errors.Is(err, cmp.ErrAuthentication) {
		t.Errorf("UnwrapKey(257-byte ciphertext) error = %v; want ErrAuthentication", err)
	}
	// A bad padding returns no error but never the content key (the
	// Bleichenbacher countermeasure): a random key instead.
	content := repeat(7, 32)
	//lint:ignore SA1019 legacy items are wrapped with PKCS #1 v1.5
	w, _ := rsa.EncryptPKCS1v15(crand.Reader, &priv.PublicKey, content)
	w[200] ^= 1
	got, err := uk.UnwrapKey(w, "", 32)
	if err == nil && bytes.Equal(got, content) {
		t.Errorf("UnwrapKey of a corrupted PKCS#1 v1.5 ciphertext returned the content key")
	}
}

// ---------------------------------------------------------------------------
// HMAC

func TestHMAC(t *testing.T) {
	msg := []byte("string to sign")
	for _, tt := range []struct {
		alg string
		h   func() hash.Hash
	}{
		{"", sha256.New},
		{"HmacSHA256", sha256.New},
		{"HmacSHA224", sha256.New224},
		{"HmacSHA384", sha512.New384},
		{"HmacSHA512", sha512.New},
	} {
		key := []byte("8bytekey")
		k := mustHMAC(t, tt.alg, key)
		wantAlg := tt.alg
		if wantAlg == "" {
			wantAlg = "HmacSHA256"
		}
		if k.Algorithm() != wantAlg {
			t.Errorf("Algorithm() = %q; want %q", k.Algorithm(), wantAlg)
		}
		sig, err := k.Sign(nil, msg)
		m := hmac.New(tt.h, key)
		m.Write(msg)
		if want := m.Sum(nil); err != nil || !bytes.Equal(sig, want) {
			t.Errorf("%s: Sign = %x, %v; want %x", wantAlg, sig, err, want)
		}
		if err := k.Verify(msg, sig, ""); err != nil {
			t.Errorf("%s: Verify(good) = %v", wantAlg, err)
		}
		// signingAlg in the item is ignored for HMAC.
		if err := k.Verify(msg, sig, "SHA256withRSA"); err != nil {
			t.Errorf("%s: Verify(good, signingAlg SHA256withRSA) = %v", wantAlg, err)
		}
		flip := bytes.Clone(sig)
		flip[len(flip)-1] ^= 0x80
		other := mustHMAC(t, tt.alg, []byte("9bytekey!"))
		otherSig, _ := other.Sign(nil, msg)
		for name, bad := range map[string][]byte{
			"flipped":        flip,
			"truncated":      sig[:len(sig)-1],
			"empty":          nil,
			"extended":       append(bytes.Clone(sig), 0),
			"other key":      otherSig,
			"other message":  must(k.Sign(nil, []byte("string to sigN"))),
			"32-byte prefix": sig[:min(32, len(sig)-1)],
		} {
			if err := k.Verify(msg, bad, ""); !errors.Is(err, cmp.ErrAuthentication) {
				t.Errorf("%s: Verify(%s MAC) = %v; want ErrAuthentication", wantAlg, name, err)
			}
		}
	}
	if _, err := cmp.NewHMACKey("HmacMD5", []byte("k")); !errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
		t.Errorf("NewHMACKey(HmacMD5) error = %v; want ErrUnsupportedAlgorithm", err)
	}
	if _, err := cmp.NewHMACKey("HmacSHA256", nil); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewHMACKey(empty key) error = %v; want ErrInvalidKey", err)
	}
	// The key is copied.
	raw := []byte("0123456789abcdef")
	k := mustHMAC(t, "", raw)
	before, _ := k.Sign(nil, msg)
	clear(raw)
	after, _ := k.Sign(nil, msg)
	if !bytes.Equal(before, after) {
		t.Errorf("changing the caller's key bytes changed the HMAC key")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// ---------------------------------------------------------------------------
// RSA signatures

func TestRSASignatures(t *testing.T) {
	priv := rsaKeys()[0]
	sts := []byte("the string to sign")
	signer := map[string]*cmp.RSASigningKey{}
	sigs := map[string][]byte{}
	for _, alg := range []string{"SHA256withRSA", "SHA384withRSA", "SHA512withRSA"} {
		signer[alg] = mustRSASigner(t, priv, alg)
		if signer[alg].Algorithm() != alg {
			t.Errorf("Algorithm() = %q; want %q", signer[alg].Algorithm(), alg)
		}
		sigs[alg] = must(signer[alg].Sign(crand.Reader, sts))
	}
	if got := mustRSASigner(t, priv, "").Algorithm(); got != "SHA256withRSA" {
		t.Errorf("default RSA signing algorithm = %q; want SHA256withRSA", got)
	}
	// Interop: SHA256withRSA is PKCS#1 v1.5 over SHA-256(stringToSign).
	d := sha256.Sum256(sts)
	if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, d[:], sigs["SHA256withRSA"]); err != nil {
		t.Errorf("standard PKCS#1 v1.5 verify of SHA256withRSA signature: %v", err)
	}

	tests := []struct {
		name       string
		configured string // verifier's algorithm
		signedWith string
		signingAlg string // the item's (untrusted) amzn-ddb-map-signingAlg
		ok         bool
	}{
		{"same algorithm", "SHA256withRSA", "SHA256withRSA", "SHA256withRSA", true},
		{"no signingAlg, default", "SHA256withRSA", "SHA256withRSA", "", true},
		{"unknown signingAlg falls back to configured", "SHA256withRSA", "SHA256withRSA", "MD5withRSA", true},
		{"upgrade allowed: item says SHA512", "SHA256withRSA", "SHA512withRSA", "SHA512withRSA", true},
		{"upgrade allowed: item says SHA384", "SHA256withRSA", "SHA384withRSA", "SHA384withRSA", true},
		{"configured SHA512 verifies SHA512 without signingAlg", "SHA512withRSA", "SHA512withRSA", "", true},
		{"downgrade refused: item says SHA256, configured SHA512", "SHA512withRSA", "SHA256withRSA", "SHA256withRSA", false},
		{"downgrade refused: item says SHA384, configured SHA512", "SHA512withRSA", "SHA384withRSA", "SHA384withRSA", false},
		{"downgrade refused: item says SHA256, configured SHA384", "SHA384withRSA", "SHA256withRSA", "SHA256withRSA", false},
		{"downgrade refused: no signingAlg, configured SHA512", "SHA512withRSA", "SHA256withRSA", "", false},
		{"SHA512 signature without signingAlg, configured SHA256", "SHA256withRSA", "SHA512withRSA", "", false},
		{"item names SHA512 but signed SHA256", "SHA256withRSA", "SHA256withRSA", "SHA512withRSA", false},
		{"HMAC name in signingAlg", "SHA512withRSA", "SHA256withRSA", "HmacSHA256", false},
	}
	for _, tt := range tests {
		v := mustRSAVerifier(t, &priv.PublicKey, tt.configured)
		err := v.Verify(sts, sigs[tt.signedWith], tt.signingAlg)
		if tt.ok && err != nil {
			t.Errorf("%s: Verify = %v; want success", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, cmp.ErrAuthentication) {
			t.Errorf("%s: Verify = %v; want ErrAuthentication", tt.name, err)
		}
	}

	// Public() verifies with the signer's algorithm.
	for alg, s := range signer {
		if err := s.Public().Verify(sts, sigs[alg], ""); err != nil {
			t.Errorf("%s: Public().Verify = %v", alg, err)
		}
		if err := s.Public().Verify([]byte("other"), sigs[alg], ""); !errors.Is(err, cmp.ErrAuthentication) {
			t.Errorf("%s: Public().Verify(other message) = %v; want ErrAuthentication", alg, err)
		}
	}
	if err := signer["SHA512withRSA"].Public().Verify(sts, sigs["SHA256withRSA"], "SHA256withRSA"); !errors.Is(err, cmp.ErrAuthentication) {
		t.Errorf("SHA512withRSA Public() accepted a SHA256withRSA signature (downgrade): %v", err)
	}
	// Signature of another key.
	otherSig := must(mustRSASigner(t, rsaKeys()[1], "").Sign(crand.Reader, sts))
	if err := mustRSAVerifier(t, &priv.PublicKey, "").Verify(sts, otherSig, ""); !errors.Is(err, cmp.ErrAuthentication) {
		t.Errorf("Verify(other key's signature) = %v; want ErrAuthentication", err)
	}

	// Configuration errors.
	if _, err := cmp.NewRSASigningKey(priv, "SHA1withRSA"); !errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
		t.Errorf("NewRSASigningKey(SHA1withRSA) = %v; want ErrUnsupportedAlgorithm", err)
	}
	if _, err := cmp.NewRSAVerificationKey(&priv.PublicKey, "SHA1withRSA"); !errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
		t.Errorf("NewRSAVerificationKey(SHA1withRSA) = %v; want ErrUnsupportedAlgorithm", err)
	}
	if _, err := cmp.NewRSASigningKey(nil, ""); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewRSASigningKey(nil) = %v; want ErrInvalidKey", err)
	}
	if _, err := cmp.NewRSAVerificationKey(nil, ""); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewRSAVerificationKey(nil) = %v; want ErrInvalidKey", err)
	}
	if _, err := cmp.NewRSAWrappingKey(nil); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewRSAWrappingKey(nil) = %v; want ErrInvalidKey", err)
	}
	if _, err := cmp.NewRSAUnwrappingKey(nil); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewRSAUnwrappingKey(nil) = %v; want ErrInvalidKey", err)
	}
}

func TestParseRSAKeys(t *testing.T) {
	priv := rsaKeys()[0]
	pkcs8 := must(x509.MarshalPKCS8PrivateKey(priv))
	pkix := must(x509.MarshalPKIXPublicKey(&priv.PublicKey))
	for name, der := range map[string][]byte{"PKCS#8": pkcs8, "PKCS#1": x509.MarshalPKCS1PrivateKey(priv)} {
		k, err := cmp.ParseRSAPrivateKey(der)
		if err != nil || !k.Equal(priv) {
			t.Errorf("ParseRSAPrivateKey(%s) = %v; want the key", name, err)
		}
	}
	for name, der := range map[string][]byte{"PKIX": pkix, "PKCS#1": x509.MarshalPKCS1PublicKey(&priv.PublicKey)} {
		k, err := cmp.ParseRSAPublicKey(der)
		if err != nil || !k.Equal(&priv.PublicKey) {
			t.Errorf("ParseRSAPublicKey(%s) = %v; want the key", name, err)
		}
	}
	ec := must(ecdsa.GenerateKey(elliptic.P256(), crand.Reader))
	garbage := []byte("SECRET-GARBAGE-0123456789")
	for name, der := range map[string][]byte{"garbage": garbage, "EC PKCS#8": must(x509.MarshalPKCS8PrivateKey(ec)), "public as private": pkix, "truncated": pkcs8[:100]} {
		_, err := cmp.ParseRSAPrivateKey(der)
		if !errors.Is(err, cmp.ErrInvalidKey) {
			t.Errorf("ParseRSAPrivateKey(%s) = %v; want ErrInvalidKey", name, err)
		} else if strings.Contains(err.Error(), "SECRET-GARBAGE") || strings.Contains(err.Error(), hex.EncodeToString(der[:8])) {
			t.Errorf("ParseRSAPrivateKey(%s) error quotes its input: %v", name, err)
		}
	}
	for name, der := range map[string][]byte{"garbage": garbage, "EC PKIX": must(x509.MarshalPKIXPublicKey(&ec.PublicKey)), "private as public": pkcs8} {
		if _, err := cmp.ParseRSAPublicKey(der); !errors.Is(err, cmp.ErrInvalidKey) {
			t.Errorf("ParseRSAPublicKey(%s) = %v; want ErrInvalidKey", name, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Materials and providers

func TestMaterialsConstructors(t *testing.T) {
	aesKey := mustAES(t, repeat(1, 32))
	mac := mustHMAC(t, "", repeat(2, 32))
	if _, err := cmp.NewEncryptionMaterials(aesKey, nil, nil); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewEncryptionMaterials(no signing key) = %v; want ErrInvalidKey", err)
	}
	if _, err := cmp.NewDecryptionMaterials(aesKey, nil); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewDecryptionMaterials(no verification key) = %v; want ErrInvalidKey", err)
	}
	desc := materialdesc.Description{"a": "b"}
	em, err := cmp.NewEncryptionMaterials(nil, mac, desc)
	if err != nil {
		t.Fatal(err)
	}
	if em.EncryptionKey() != nil || em.SigningKey() != cmp.SigningKey(mac) || em.Description()["a"] != "b" {
		t.Errorf("EncryptionMaterials accessors = %v, %v, %v", em.EncryptionKey(), em.SigningKey(), em.Description())
	}
	dm, err := cmp.NewDecryptionMaterials(aesKey, mac)
	if err != nil {
		t.Fatal(err)
	}
	if dm.DecryptionKey() != aesKey || dm.VerificationKey() != cmp.VerificationKey(mac) {
		t.Errorf("DecryptionMaterials accessors = %v, %v", dm.DecryptionKey(), dm.VerificationKey())
	}
}

func TestStaticProvider(t *testing.T) {
	ctx := context.Background()
	aesKey := mustAES(t, repeat(1, 16))
	mac := mustHMAC(t, "", repeat(2, 8))
	cfgDesc := materialdesc.Description{"app": "one"}
	p, err := cmp.NewStatic(cmp.StaticConfig{EncryptionKey: aesKey, SigningKey: mac, Description: cfgDesc})
	if err != nil {
		t.Fatal(err)
	}
	cfgDesc["app"] = "changed" // copied by NewStatic
	em, err := p.EncryptionMaterials(ctx, cmp.EncryptionContext{TableName: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if em.EncryptionKey() != aesKey || em.SigningKey() != cmp.SigningKey(mac) || em.Description()["app"] != "one" {
		t.Errorf("static encryption materials = %v (desc %v)", em, em.Description())
	}
	tests := []struct {
		name string
		desc materialdesc.Description
		want error
	}{
		{"matching description", materialdesc.Description{"app": "one", materialdesc.KeySymMode: materialdesc.SymModeCBC}, nil},
		{"other value", materialdesc.Description{"app": "two"}, cmp.ErrNoMaterials},
		{"entry missing", materialdesc.Description{materialdesc.KeySymMode: materialdesc.SymModeCBC}, cmp.ErrNoMaterials},
		{"nil description", nil, cmp.ErrNoMaterials},
		{"wrapped key present", materialdesc.Description{"app": "one", materialdesc.KeyEnvelopeKey: "AAAA"}, cmp.ErrNoMaterials},
	}
	for _, tt := range tests {
		dm, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{TableName: "t", MaterialDescription: tt.desc})
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: DecryptionMaterials error = %v; want %v", tt.name, err, tt.want)
			continue
		}
		if tt.want == nil && (dm.DecryptionKey() != aesKey || dm.VerificationKey() != cmp.VerificationKey(mac)) {
			t.Errorf("%s: decryption materials carry other keys", tt.name)
		}
		if tt.want != nil && dm != nil {
			t.Errorf("%s: materials returned with an error", tt.name)
		}
	}

	// Sign-only static provider.
	signOnly, err := cmp.NewStatic(cmp.StaticConfig{SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	em, err = signOnly.EncryptionMaterials(ctx, cmp.EncryptionContext{})
	if err != nil || em.EncryptionKey() != nil {
		t.Errorf("sign-only static: EncryptionMaterials = %v, %v; want no encryption key", em, err)
	}
	// Verify-only.
	verifyOnly, err := cmp.NewStatic(cmp.StaticConfig{VerificationKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifyOnly.EncryptionMaterials(ctx, cmp.EncryptionContext{}); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("verify-only static: EncryptionMaterials error = %v; want ErrInvalidKey", err)
	}
	if _, err := verifyOnly.DecryptionMaterials(ctx, cmp.EncryptionContext{}); err != nil {
		t.Errorf("verify-only static: DecryptionMaterials error = %v", err)
	}
	if _, err := cmp.NewStatic(cmp.StaticConfig{EncryptionKey: aesKey}); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewStatic(no signing/verification key) = %v; want ErrInvalidKey", err)
	}
}

// sameKey reports whether two AES keys are equal, without looking at their bytes.
func sameKey(t *testing.T, a, b *cmp.AESKey) bool {
	t.Helper()
	ct, err := a.AppendEncryptCBC(nil, crand.Reader, []byte("probe"))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := b.DecryptCBC(ct)
	return err == nil && string(pt) == "probe" && a.Size() == b.Size()
}

func TestWrappedProvider(t *testing.T) {
	ctx := context.Background()
	kek := mustAES(t, repeat(1, 16))
	otherKEK := mustAES(t, repeat(3, 16))
	mac := mustHMAC(t, "", repeat(2, 32))
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	em, err := p.EncryptionMaterials(ctx, cmp.EncryptionContext{TableName: "t"})
	if err != nil {
		t.Fatal(err)
	}
	d := em.Description()
	if d[materialdesc.KeyEnvelopeAlg] != "AES/256" || d[materialdesc.KeyWrapAlg] != "AESWrap" || d[materialdesc.KeyEnvelopeKey] == "" {
		t.Errorf("wrapped description = %v %q %q", d, d[materialdesc.KeyEnvelopeAlg], d[materialdesc.KeyWrapAlg])
	}
	if em.EncryptionKey() == nil || em.EncryptionKey().Size() != 32 {
		t.Fatalf("wrapped content key missing or not 32 bytes")
	}
	wrapped, err := base64.StdEncoding.DecodeString(d[materialdesc.KeyEnvelopeKey])
	if err != nil || len(wrapped) != 40 {
		t.Errorf("env-key = %d bytes, %v; want 40 bytes of standard base64", len(wrapped), err)
	}
	dm, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{TableName: "t", MaterialDescription: d})
	if err != nil {
		t.Fatal(err)
	}
	if !sameKey(t, em.EncryptionKey(), dm.DecryptionKey()) {
		t.Errorf("unwrapped key differs from the content key")
	}
	// Fresh content key per call.
	em2, err := p.EncryptionMaterials(ctx, cmp.EncryptionContext{TableName: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if em2.Description()[materialdesc.KeyEnvelopeKey] == d[materialdesc.KeyEnvelopeKey] || sameKey(t, em.EncryptionKey(), em2.EncryptionKey()) {
		t.Errorf("two calls returned the same content key")
	}

	with := func(changes map[string]string, drop ...string) materialdesc.Description {
		c := d.Clone()
		for k, v := range changes {
			c[k] = v
		}
		for _, k := range drop {
			delete(c, k)
		}
		return c
	}
	flipped := bytes.Clone(wrapped)
	flipped[10] ^= 1
	tests := []struct {
		name string
		desc materialdesc.Description
		want error
	}{
		{"no env-key", with(nil, materialdesc.KeyEnvelopeKey), cmp.ErrNoMaterials},
		{"empty description", materialdesc.Description{}, cmp.ErrNoMaterials},
		{"bad base64", with(map[string]string{materialdesc.KeyEnvelopeKey: "!!!"}), cmp.ErrAuthentication},
		{"flipped wrapped key", with(map[string]string{materialdesc.KeyEnvelopeKey: base64.StdEncoding.EncodeToString(flipped)}), cmp.ErrAuthentication},
		{"truncated wrapped key", with(map[string]string{materialdesc.KeyEnvelopeKey: base64.StdEncoding.EncodeToString(wrapped[:32])}), cmp.ErrAuthentication},
		{"env-alg claims 128 bits", with(map[string]string{materialdesc.KeyEnvelopeAlg: "AES/128"}), cmp.ErrAuthentication},
		{"env-alg unknown", with(map[string]string{materialdesc.KeyEnvelopeAlg: "DESede"}), cmp.ErrUnsupportedAlgorithm},
		{"wrap-alg absent", with(nil, materialdesc.KeyWrapAlg), cmp.ErrUnsupportedAlgorithm},
		{"wrap-alg RSA", with(map[string]string{materialdesc.KeyWrapAlg: materialdesc.WrapRSAOAEP}), cmp.ErrUnsupportedAlgorithm},
	}
	for _, tt := range tests {
		dm, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{TableName: "t", MaterialDescription: tt.desc})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: DecryptionMaterials error = %v; want %v", tt.name, err, tt.want)
		}
		if dm != nil {
			t.Errorf("%s: materials returned with an error", tt.name)
		}
	}
	// env-alg "AES" (Java) accepts the key at its size; env-alg absent too.
	for _, desc := range []materialdesc.Description{with(map[string]string{materialdesc.KeyEnvelopeAlg: "AES"}), with(nil, materialdesc.KeyEnvelopeAlg)} {
		dm, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{MaterialDescription: desc})
		if err != nil || !sameKey(t, em.EncryptionKey(), dm.DecryptionKey()) {
			t.Errorf("env-alg %q: DecryptionMaterials = %v", desc[materialdesc.KeyEnvelopeAlg], err)
		}
	}
	// Another KEK cannot unwrap.
	pOther, err := cmp.NewWrapped(cmp.WrappedConfig{UnwrappingKey: otherKEK, VerificationKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pOther.DecryptionMaterials(ctx, cmp.EncryptionContext{MaterialDescription: d}); !errors.Is(err, cmp.ErrAuthentication) {
		t.Errorf("other KEK: DecryptionMaterials error = %v; want ErrAuthentication", err)
	}
	if _, err := pOther.EncryptionMaterials(ctx, cmp.EncryptionContext{}); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("unwrap-only provider: EncryptionMaterials error = %v; want ErrInvalidKey", err)
	}
}

func TestWrappedContentKeyAlgorithm(t *testing.T) {
	ctx := context.Background()
	kek := mustAES(t, repeat(1, 32))
	mac := mustHMAC(t, "", repeat(2, 32))
	for _, tt := range []struct {
		alg     string
		wantLen int
		wantErr error
	}{
		{"", 32, nil},
		{"AES/256", 32, nil},
		{"AES/192", 24, nil},
		{"AES/128", 16, nil},
		{"AES", 32, nil},
		{"AES/64", 0, cmp.ErrUnsupportedAlgorithm},
		{"DES", 0, cmp.ErrUnsupportedAlgorithm},
		{"aes/256", 0, cmp.ErrUnsupportedAlgorithm},
	} {
		p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, ContentKeyAlgorithm: tt.alg})
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("NewWrapped(ContentKeyAlgorithm %q) = %v; want %v", tt.alg, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewWrapped(ContentKeyAlgorithm %q) = %v", tt.alg, err)
			continue
		}
		em, err := p.EncryptionMaterials(ctx, cmp.EncryptionContext{})
		if err != nil {
			t.Fatal(err)
		}
		wantAlg := tt.alg
		if wantAlg == "" {
			wantAlg = "AES/256"
		}
		if got := em.Description()[materialdesc.KeyEnvelopeAlg]; got != wantAlg {
			t.Errorf("ContentKeyAlgorithm %q: env-alg = %q; want %q", tt.alg, got, wantAlg)
		}
		if got := em.EncryptionKey().Size(); got != tt.wantLen {
			t.Errorf("ContentKeyAlgorithm %q: content key %d bytes; want %d", tt.alg, got, tt.wantLen)
		}
		dm, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{MaterialDescription: em.Description()})
		if err != nil || !sameKey(t, em.EncryptionKey(), dm.DecryptionKey()) {
			t.Errorf("ContentKeyAlgorithm %q: round trip = %v", tt.alg, err)
		}
	}
	if _, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek}); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("NewWrapped(no signing key) = %v; want ErrInvalidKey", err)
	}
}

func TestWrappedDescriptionFilter(t *testing.T) {
	ctx := context.Background()
	kek := mustAES(t, repeat(1, 32))
	mac := mustHMAC(t, "", repeat(2, 32))
	meta := materialdesc.Description{materialdesc.KeyMetaID: "material#3"}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, Description: meta})
	if err != nil {
		t.Fatal(err)
	}
	meta[materialdesc.KeyMetaID] = "changed" // copied
	em, err := p.EncryptionMaterials(ctx, cmp.EncryptionContext{})
	if err != nil {
		t.Fatal(err)
	}
	if got := em.Description()[materialdesc.KeyMetaID]; got != "material#3" {
		t.Errorf("meta-id = %q; want material#3", got)
	}
	if _, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{MaterialDescription: em.Description()}); err != nil {
		t.Errorf("DecryptionMaterials(own description) = %v", err)
	}
	other := em.Description().Clone()
	other[materialdesc.KeyMetaID] = "material#4"
	if _, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{MaterialDescription: other}); !errors.Is(err, cmp.ErrNoMaterials) {
		t.Errorf("DecryptionMaterials(other meta-id) = %v; want ErrNoMaterials", err)
	}
}

func TestWrappedRSA(t *testing.T) {
	ctx := context.Background()
	priv := rsaKeys()[0]
	wk := must(cmp.NewRSAWrappingKey(&priv.PublicKey))
	uk := must(cmp.NewRSAUnwrappingKey(priv))
	signer := mustRSASigner(t, priv, "")
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: wk, UnwrappingKey: uk, SigningKey: signer, VerificationKey: signer.Public()})
	if err != nil {
		t.Fatal(err)
	}
	em, err := p.EncryptionMaterials(ctx, cmp.EncryptionContext{})
	if err != nil {
		t.Fatal(err)
	}
	d := em.Description()
	if d[materialdesc.KeyWrapAlg] != materialdesc.WrapRSAOAEP {
		t.Errorf("wrap-alg = %q; want %q", d[materialdesc.KeyWrapAlg], materialdesc.WrapRSAOAEP)
	}
	dm, err := p.DecryptionMaterials(ctx, cmp.EncryptionContext{MaterialDescription: d})
	if err != nil || !sameKey(t, em.EncryptionKey(), dm.DecryptionKey()) {
		t.Fatalf("RSA round trip: %v", err)
	}
	// Legacy Java item: PKCS#1 v1.5 wrapped key, no wrap-alg, env-alg "AES".
	content := repeat(0x11, 32)
	//lint:ignore SA1019 legacy items are wrapped with PKCS #1 v1.5
	legacyWrapped, _ := rsa.EncryptPKCS1v15(crand.Reader, &priv.PublicKey, content)
	legacy := materialdesc.Description{
		materialdesc.KeyEnvelopeKey: base64.StdEncoding.EncodeToString(legacyWrapped),
		materialdesc.KeyEnvelopeAlg: "AES",
		materialdesc.KeySymMode:     materialdesc.SymModeCBC,
	}
	dm, err = p.DecryptionMaterials(ctx, cmp.EncryptionContext{MaterialDescription: legacy})
	if err != nil || !sameKey(t, mustAES(t, content), dm.DecryptionKey()) {
		t.Errorf("legacy PKCS#1 v1.5 item: DecryptionMaterials = %v; want the content key", err)
	}
}
