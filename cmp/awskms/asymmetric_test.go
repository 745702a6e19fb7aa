package awskms_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSAES_OAEP_SHA_1
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"hash"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

func TestAsymmetricRSA(t *testing.T) {
	ctx := context.Background()
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecRSA2048))
	k := awskms.New(srv.Client())
	der, gotARN, err := k.GetPublicKey(ctx, arn)
	if err != nil || gotARN != arn {
		t.Fatalf("GetPublicKey: %v, %q", err, gotARN)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	for alg, h := range map[string]func() hash.Hash{kmstest.RSAESOAEPSHA1: sha1.New, kmstest.RSAESOAEPSHA256: sha256.New} {
		ct, err := rsa.EncryptOAEP(h(), rand.Reader, pub.(*rsa.PublicKey), []byte("secret"), nil)
		if err != nil {
			t.Fatal(err)
		}
		pt, gotARN, err := k.DecryptAsymmetric(ctx, arn, alg, ct)
		if err != nil || gotARN != arn || string(pt) != "secret" {
			t.Fatalf("%s: %q %q %v", alg, pt, gotARN, err)
		}
		other := kmstest.RSAESOAEPSHA1
		if alg == other {
			other = kmstest.RSAESOAEPSHA256
		}
		if _, _, err := k.DecryptAsymmetric(ctx, arn, other, ct); !errors.Is(err, cmp.ErrAuthentication) {
			t.Fatalf("%s ciphertext under %s: %v, want ErrAuthentication", alg, other, err)
		}
	}
	// Symmetric operations and key agreement are refused.
	if _, _, err := k.GenerateDataKey(ctx, arn, 32, nil); !isErr[*types.InvalidKeyUsageException](err) {
		t.Fatalf("GenerateDataKey with an RSA key: %v", err)
	}
	if _, _, err := k.DeriveSharedSecret(ctx, arn, der); !isErr[*types.InvalidKeyUsageException](err) {
		t.Fatalf("DeriveSharedSecret with an RSA key: %v", err)
	}
	var ke *cmp.KMSError
	_, symARN := srv.CreateKey()
	if _, _, err := k.GetPublicKey(ctx, symARN); !errors.As(err, &ke) || !isErr[*types.UnsupportedOperationException](err) {
		t.Fatalf("GetPublicKey of a symmetric key: %v", err)
	}
}

func TestAsymmetricECDH(t *testing.T) {
	ctx := context.Background()
	srv := kmstest.NewServer(t)
	for _, c := range []struct {
		spec  string
		curve ecdh.Curve
	}{{kmstest.KeySpecP256, ecdh.P256()}, {kmstest.KeySpecP384, ecdh.P384()}, {kmstest.KeySpecP521, ecdh.P521()}} {
		_, arn := srv.CreateKey(kmstest.WithKeySpec(c.spec))
		k := awskms.New(srv.Client())
		der, _, err := k.GetPublicKey(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		kmsPub, err := pub.(*ecdsa.PublicKey).ECDH()
		if err != nil {
			t.Fatal(err)
		}
		mine, _ := c.curve.GenerateKey(rand.Reader)
		mineDER, _ := x509.MarshalPKIXPublicKey(mine.PublicKey())
		z, gotARN, err := k.DeriveSharedSecret(ctx, arn, mineDER)
		if err != nil || gotARN != arn {
			t.Fatalf("%s: DeriveSharedSecret: %v %q", c.spec, err, gotARN)
		}
		want, _ := mine.ECDH(kmsPub)
		if !bytes.Equal(z, want) {
			t.Fatalf("%s: shared secrets differ", c.spec)
		}
		if _, err := k.Encrypt(ctx, arn, []byte("x"), nil); !isErr[*types.InvalidKeyUsageException](err) {
			t.Fatalf("%s: Encrypt with a key-agreement key: %v", c.spec, err)
		}
	}
}
