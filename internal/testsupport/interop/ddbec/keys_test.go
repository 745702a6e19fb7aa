package ddbec

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// deterministicRSA derives a 2048-bit RSA key from r, so that a seed
// reproduces a run's keys (crypto/rsa.GenerateKey ignores its reader).
func deterministicRSA(r io.Reader) (*rsa.PrivateKey, error) {
	e := big.NewInt(65537)
	prime := func() *big.Int {
		b := make([]byte, 128)
		for {
			if _, err := io.ReadFull(r, b); err != nil {
				panic(err)
			}
			b[0] |= 0xC0 // the product has exactly 2048 bits
			b[127] |= 1
			p := new(big.Int).SetBytes(b)
			if !p.ProbablyPrime(20) {
				continue
			}
			if new(big.Int).GCD(nil, nil, e, new(big.Int).Sub(p, big.NewInt(1))).Cmp(big.NewInt(1)) == 0 {
				return p
			}
		}
	}
	for {
		p, q := prime(), prime()
		if p.Cmp(q) == 0 {
			continue
		}
		one := big.NewInt(1)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537}, D: d, Primes: []*big.Int{p, q}}
		k.Precompute()
		if err := k.Validate(); err != nil {
			return nil, err
		}
		return k, nil
	}
}

// providerSpec is one provider configuration, built on both sides from
// the same key material.
type providerSpec struct {
	name string
	req  map[string]any // the driver's "provider" request
	p    cmp.Provider
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

type keyset struct {
	rsaSign, rsaWrap *rsa.PrivateKey
}

// providers derives every provider configuration of a run from seed:
// static and wrapped (AES wrap, RSA-OAEP), each with an HMAC and an RSA
// signature; key sizes and hash algorithms vary with the seed.
func providers(t *testing.T, seed uint64) []*providerSpec {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x6b657973))
	src := rand.NewChaCha8([32]byte(fmt.Appendf(nil, "%032x", seed)[:32]))
	rnd := func(n int) []byte {
		b := make([]byte, n)
		src.Read(b)
		return b
	}
	rsaSign, err := deterministicRSA(src)
	if err != nil {
		t.Fatal(err)
	}
	rsaWrap, err := deterministicRSA(src)
	if err != nil {
		t.Fatal(err)
	}
	privDER := func(k *rsa.PrivateKey) string {
		b, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b64(b)
	}
	pubDER := func(k *rsa.PrivateKey) string {
		b, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return b64(b)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	aesSizes := []int{16, 24, 32}
	type signer struct {
		req map[string]any
		sk  cmp.SigningKey
		vk  cmp.VerificationKey
	}
	hmacSigner := func() signer {
		alg := []string{"HmacSHA256", "HmacSHA224", "HmacSHA384", "HmacSHA512"}[r.IntN(4)]
		key := rnd(16 + r.IntN(49))
		k, err := cmp.NewHMACKey(alg, key)
		must(err)
		return signer{map[string]any{"alg": alg, "key": b64(key)}, k, k}
	}
	rsaSigner := func() signer {
		alg := []string{"SHA256withRSA", "SHA384withRSA", "SHA512withRSA"}[r.IntN(3)]
		k, err := cmp.NewRSASigningKey(rsaSign, alg)
		must(err)
		return signer{map[string]any{"alg": alg, "private": privDER(rsaSign), "public": pubDER(rsaSign)}, k, k.Public()}
	}
	var out []*providerSpec
	for _, kind := range []string{"static", "wrapped-aes", "wrapped-rsa"} {
		for _, sig := range []func() signer{hmacSigner, rsaSigner} {
			s := sig()
			spec := &providerSpec{req: map[string]any{"op": "provider", "sign": s.req}}
			alg, _ := s.req["alg"].(string)
			switch kind {
			case "static":
				key := rnd(aesSizes[r.IntN(3)])
				aes, err := cmp.NewAESKey(key)
				must(err)
				spec.req["kind"], spec.req["aes"] = "static", b64(key)
				spec.p, err = cmp.NewStatic(cmp.StaticConfig{EncryptionKey: aes, SigningKey: s.sk, VerificationKey: s.vk})
				must(err)
				spec.name = fmt.Sprintf("static/AES-%d/%s", len(key)*8, alg)
			case "wrapped-aes":
				key := rnd(aesSizes[r.IntN(3)])
				aes, err := cmp.NewAESKey(key)
				must(err)
				spec.req["kind"], spec.req["wrap"] = "wrapped", map[string]any{"alg": "AES", "key": b64(key)}
				cka := []string{"AES/256", "AES/128", "AES/192", "AES"}[r.IntN(4)]
				spec.p, err = cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: aes, UnwrappingKey: aes, SigningKey: s.sk, VerificationKey: s.vk, ContentKeyAlgorithm: cka})
				must(err)
				spec.name = fmt.Sprintf("wrapped/AESWrap-%d/%s/%s", len(key)*8, cka, alg)
			case "wrapped-rsa":
				wk, err := cmp.NewRSAWrappingKey(&rsaWrap.PublicKey)
				must(err)
				uk, err := cmp.NewRSAUnwrappingKey(rsaWrap)
				must(err)
				spec.req["kind"], spec.req["wrap"] = "wrapped", map[string]any{"alg": "RSA", "private": privDER(rsaWrap), "public": pubDER(rsaWrap)}
				cka := []string{"AES/256", "AES/128", "AES"}[r.IntN(3)]
				spec.p, err = cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: wk, UnwrappingKey: uk, SigningKey: s.sk, VerificationKey: s.vk, ContentKeyAlgorithm: cka})
				must(err)
				spec.name = fmt.Sprintf("wrapped/RSA-OAEP/%s/%s", cka, alg)
			}
			spec.req["name"] = spec.name
			out = append(out, spec)
		}
	}
	return out
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
