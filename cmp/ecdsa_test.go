package cmp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

func mustECDSA(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestECDSASignatures(t *testing.T) {
	sts := []byte("string to sign")
	for _, c := range []struct {
		curve     elliptic.Curve
		alg, want string
		stronger  string // an item algorithm Verify may upgrade to
		weaker    string // one it must ignore
	}{
		{elliptic.P256(), "", cmp.ECDSAWithSHA256, cmp.ECDSAWithSHA384, ""},
		{elliptic.P384(), "", cmp.ECDSAWithSHA384, cmp.ECDSAWithSHA512, cmp.ECDSAWithSHA256},
		{elliptic.P521(), "", cmp.ECDSAWithSHA512, "", cmp.ECDSAWithSHA384},
		{elliptic.P256(), cmp.ECDSAWithSHA512, cmp.ECDSAWithSHA512, "", cmp.ECDSAWithSHA256},
	} {
		t.Run(c.curve.Params().Name+" "+c.want, func(t *testing.T) {
			priv := mustECDSA(t, c.curve)
			signer, err := cmp.NewECDSASigningKey(priv, c.alg)
			if err != nil {
				t.Fatal(err)
			}
			if signer.Algorithm() != c.want {
				t.Fatalf("Algorithm() = %q, want %q", signer.Algorithm(), c.want)
			}
			sig, err := signer.Sign(crand.Reader, sts)
			if err != nil {
				t.Fatal(err)
			}
			// DER, as JCA writes it: SEQUENCE { INTEGER r, INTEGER s }.
			var rs struct{ R, S *big.Int }
			if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
				t.Fatalf("signature is not DER (r, s): %v", err)
			}
			verify := signer.Public()
			for _, alg := range []string{"", c.want, c.weaker, "SHA256withRSA", "HmacSHA256", "garbage"} {
				if err := verify.Verify(sts, sig, alg); err != nil {
					t.Errorf("Verify(signingAlg %q) = %v", alg, err)
				}
			}
			if c.stronger != "" {
				// The item names a stronger hash: it is used, so this
				// signature (made with the configured one) fails.
				if err := verify.Verify(sts, sig, c.stronger); !errors.Is(err, cmp.ErrAuthentication) {
					t.Errorf("Verify(signingAlg %q) = %v; want the stronger hash used", c.stronger, err)
				}
			}
			bad := append([]byte{}, sts...)
			bad[0] ^= 1
			if err := verify.Verify(bad, sig, ""); !errors.Is(err, cmp.ErrAuthentication) {
				t.Errorf("Verify(altered) = %v", err)
			}
			raw := append(rs.R.FillBytes(make([]byte, (c.curve.Params().BitSize+7)/8)), rs.S.FillBytes(make([]byte, (c.curve.Params().BitSize+7)/8))...)
			if err := verify.Verify(sts, raw, ""); !errors.Is(err, cmp.ErrAuthentication) {
				t.Errorf("Verify(raw r||s) = %v; only DER is the DDBEC encoding", err)
			}
			other, _ := cmp.NewECDSASigningKey(mustECDSA(t, c.curve), c.alg)
			if err := other.Public().Verify(sts, sig, ""); !errors.Is(err, cmp.ErrAuthentication) {
				t.Errorf("Verify(other key) = %v", err)
			}
			// Round trip through the DER parsers.
			pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
			sec1, _ := x509.MarshalECPrivateKey(priv)
			pkix, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
			for _, der := range [][]byte{pkcs8, sec1} {
				p, err := cmp.ParseECDSAPrivateKey(der)
				if err != nil || !p.Equal(priv) {
					t.Errorf("ParseECDSAPrivateKey: %v", err)
				}
			}
			pub, err := cmp.ParseECDSAPublicKey(pkix)
			if err != nil || !pub.Equal(&priv.PublicKey) {
				t.Fatalf("ParseECDSAPublicKey: %v", err)
			}
			vk, err := cmp.NewECDSAVerificationKey(pub, c.alg)
			if err != nil {
				t.Fatal(err)
			}
			if err := vk.Verify(sts, sig, ""); err != nil {
				t.Errorf("parsed key: Verify = %v", err)
			}
		})
	}
}

func TestECDSAKeyErrors(t *testing.T) {
	p224 := mustECDSA(t, elliptic.P224())
	p256 := mustECDSA(t, elliptic.P256())
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"nil signer", second(cmp.NewECDSASigningKey(nil, "")), cmp.ErrInvalidKey},
		{"nil verifier", second(cmp.NewECDSAVerificationKey(nil, "")), cmp.ErrInvalidKey},
		{"P-224", second(cmp.NewECDSASigningKey(p224, "")), cmp.ErrInvalidKey},
		{"P-224 public", second(cmp.NewECDSAVerificationKey(&p224.PublicKey, cmp.ECDSAWithSHA256)), cmp.ErrInvalidKey},
		{"SHA1withECDSA", second(cmp.NewECDSASigningKey(p256, "SHA1withECDSA")), cmp.ErrUnsupportedAlgorithm},
		{"RSA name", second(cmp.NewECDSAVerificationKey(&p256.PublicKey, "SHA256withRSA")), cmp.ErrUnsupportedAlgorithm},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKeys()[0])
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKeys()[0].PublicKey)
	for _, der := range [][]byte{rsaDER, []byte("not DER at all")} {
		if _, err := cmp.ParseECDSAPrivateKey(der); !errors.Is(err, cmp.ErrInvalidKey) || strings.Contains(err.Error(), "not DER") {
			t.Errorf("ParseECDSAPrivateKey: %v", err)
		}
	}
	if _, err := cmp.ParseECDSAPublicKey(rsaPub); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("ParseECDSAPublicKey(RSA) = %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestECDSARedaction(t *testing.T) {
	priv := mustECDSA(t, elliptic.P384())
	signer, err := cmp.NewECDSASigningKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := priv.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	dInt := new(big.Int).SetBytes(raw)
	d := dInt.Bytes()
	h := hex.EncodeToString(d)
	markers := []string{h[8:24], strings.ToUpper(h[8:24]), base64.StdEncoding.EncodeToString(d)[8:24], dInt.String()[4:20]}
	for _, v := range []any{signer, *signer, cmp.StaticConfig{SigningKey: signer}} {
		for how, s := range renderings(v) {
			for _, m := range markers {
				if strings.Contains(s, m) {
					t.Errorf("printed with %s contains private key material", how)
				}
			}
		}
	}
	if s := signer.String(); !strings.Contains(s, "SHA384withECDSA") || !strings.Contains(s, "P-384") || !strings.Contains(s, "REDACTED") {
		t.Errorf("String() = %q", s)
	}
}
