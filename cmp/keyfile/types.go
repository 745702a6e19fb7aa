package keyfile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// keyType is one kind of key file: its fields, how to make, read and use
// one. A new kind is one more entry in keyTypes.
type keyType struct {
	name     string
	describe string   // what a new file holds, for keygen's message
	fields   []string // the key fields the file may have
	generate func(rand io.Reader) (*file, error)
	parse    func(f *file) (*Keys, error)
	provider func(k *Keys, kind ProviderKind) (cmp.Provider, error)
}

// keyTypes are the kinds of key file, the default first. It is a fixed
// table, not a registry: nothing adds to it at run time.
var keyTypes = []keyType{
	{
		name:     "aes-hmac",
		describe: "an AES-256 key-encryption key and a 256-bit HMAC-SHA256 key",
		fields:   []string{"encryptionKey", "signingKey"},
		generate: generateAESHMAC,
		parse:    parseAESHMAC,
		provider: providerAESHMAC,
	},
	{
		name:     "rsa",
		describe: "an RSA-2048 key pair",
		fields:   []string{"privateKey", "publicKey"},
		generate: generateRSA,
		parse:    parseRSA,
		provider: providerRSA,
	},
	ecdsaType("aes-ecdsa-p256", elliptic.P256(), cmp.ECDSAWithSHA256),
	ecdsaType("aes-ecdsa-p384", elliptic.P384(), cmp.ECDSAWithSHA384),
	ecdsaType("aes-ecdsa-p521", elliptic.P521(), cmp.ECDSAWithSHA512),
	{
		name:     "beacon",
		describe: "a 256-bit beacon key for searchable encryption (search.NewBeaconKey)",
		fields:   []string{"beaconKey"},
		generate: generateBeacon,
		parse:    parseBeacon,
		provider: func(k *Keys, _ ProviderKind) (cmp.Provider, error) {
			return nil, fmt.Errorf("keyfile: a beacon key file makes no provider: it holds a beacon key only")
		},
	},
}

// ecdsaType is an AES-256 key-encryption key and an EC signing key on curve,
// signing with alg (the Java client's name).
func ecdsaType(name string, curve elliptic.Curve, alg string) keyType {
	return keyType{
		name:     name,
		describe: "an AES-256 key-encryption key and a " + curve.Params().Name + " " + alg + " signing key",
		fields:   []string{"encryptionKey", "signingKey"},
		generate: func(rand io.Reader) (*file, error) {
			f, err := generateAESHMAC(rand)
			if err != nil {
				return nil, err
			}
			priv, err := ecdsa.GenerateKey(curve, rand)
			if err != nil {
				return nil, err
			}
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				return nil, err
			}
			defer clear(der)
			f.SigningKey = &entry{Algorithm: alg, Encoding: "PKCS8", Material: b64(der)}
			return f, nil
		},
		parse: func(f *file) (*Keys, error) {
			if f.EncryptionKey == nil || f.SigningKey == nil {
				return nil, fmt.Errorf("%w: an %s key file needs encryptionKey and signingKey", ErrInvalid, name)
			}
			k, err := parseAESKey(f)
			if err != nil {
				return nil, err
			}
			der, err := material("signingKey", f.SigningKey)
			if err != nil {
				return nil, err
			}
			defer clear(der)
			priv, err := cmp.ParseECDSAPrivateKey(der)
			if err != nil {
				return nil, fmt.Errorf("%w: signingKey: %v", ErrInvalid, err)
			}
			if priv.Curve != curve || f.SigningKey.Algorithm != alg {
				return nil, fmt.Errorf("%w: signingKey of an %s key file must be a %s key for %s", ErrInvalid, name, curve.Params().Name, alg)
			}
			if k.ec, err = cmp.NewECDSASigningKey(priv, alg); err != nil {
				return nil, fmt.Errorf("%w: signingKey: %v", ErrInvalid, err)
			}
			return k, nil
		},
		provider: func(k *Keys, kind ProviderKind) (cmp.Provider, error) {
			if kind == Static {
				return cmp.NewStatic(cmp.StaticConfig{EncryptionKey: k.aes, SigningKey: k.ec, VerificationKey: k.ec.Public()})
			}
			return cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: k.aes, UnwrappingKey: k.aes, SigningKey: k.ec, VerificationKey: k.ec.Public()})
		},
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func generateAESHMAC(rand io.Reader) (*file, error) {
	enc := make([]byte, 32)
	mac := make([]byte, 32)
	defer clear(enc)
	defer clear(mac)
	if _, err := io.ReadFull(rand, enc); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand, mac); err != nil {
		return nil, err
	}
	return &file{
		EncryptionKey: &entry{Algorithm: "AES", Material: b64(enc)},
		SigningKey:    &entry{Algorithm: "HmacSHA256", Material: b64(mac)},
	}, nil
}

func generateBeacon(rand io.Reader) (*file, error) {
	key := make([]byte, 32)
	defer clear(key)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, err
	}
	return &file{BeaconKey: &entry{Algorithm: "BeaconKey", Material: b64(key)}}, nil
}

func parseBeacon(f *file) (*Keys, error) {
	if f.BeaconKey == nil {
		return nil, fmt.Errorf("%w: a beacon key file needs beaconKey", ErrInvalid)
	}
	key, err := material("beaconKey", f.BeaconKey)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if f.BeaconKey.Algorithm != "BeaconKey" || len(key) != 32 {
		return nil, fmt.Errorf("%w: beaconKey must be a 32-byte key (algorithm \"BeaconKey\"), not %d bytes", ErrInvalid, len(key))
	}
	return &Keys{beacon: (*[32]byte)(bytes.Clone(key))}, nil
}

func parseAESHMAC(f *file) (*Keys, error) {
	if f.EncryptionKey == nil || f.SigningKey == nil {
		return nil, fmt.Errorf("%w: an aes-hmac key file needs encryptionKey and signingKey", ErrInvalid)
	}
	k, err := parseAESKey(f)
	if err != nil {
		return nil, err
	}
	mac, err := material("signingKey", f.SigningKey)
	if err != nil {
		return nil, err
	}
	defer clear(mac)
	if k.hmac, err = cmp.NewHMACKey(f.SigningKey.Algorithm, mac); err != nil {
		return nil, fmt.Errorf("%w: signingKey: %v", ErrInvalid, err)
	}
	return k, nil
}

// parseAESKey reads the 32-byte AES key-encryption key of f.
func parseAESKey(f *file) (*Keys, error) {
	enc, err := material("encryptionKey", f.EncryptionKey)
	if err != nil {
		return nil, err
	}
	defer clear(enc)
	if f.EncryptionKey.Algorithm != "AES" || len(enc) != 32 {
		return nil, fmt.Errorf("%w: encryptionKey must be a 32-byte AES key (algorithm \"AES\"), not %d bytes", ErrInvalid, len(enc))
	}
	k := &Keys{aesBytes: (*[32]byte)(bytes.Clone(enc))}
	if k.aes, err = cmp.NewAESKey(enc); err != nil {
		return nil, fmt.Errorf("%w: encryptionKey: %v", ErrInvalid, err)
	}
	return k, nil
}

func providerAESHMAC(k *Keys, kind ProviderKind) (cmp.Provider, error) {
	if kind == Static {
		return cmp.NewStatic(cmp.StaticConfig{EncryptionKey: k.aes, SigningKey: k.hmac})
	}
	return cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: k.aes, UnwrappingKey: k.aes, SigningKey: k.hmac})
}

func generateRSA(rand io.Reader) (*file, error) {
	priv, err := rsa.GenerateKey(rand, 2048)
	if err != nil {
		return nil, err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	defer clear(privDER)
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return &file{
		PrivateKey: &entry{Algorithm: "RSA", Encoding: "PKCS8", Material: b64(privDER)},
		PublicKey:  &entry{Algorithm: "RSA", Encoding: "X509", Material: b64(pubDER)},
	}, nil
}

func parseRSA(f *file) (*Keys, error) {
	if f.PrivateKey == nil {
		// The wrapped provider signs with the private key on the way in and
		// unwraps with it on the way out: a public key alone does neither.
		return nil, fmt.Errorf("%w: an rsa key file needs privateKey (publicKey is optional)", ErrInvalid)
	}
	k := &Keys{}
	if f.PrivateKey != nil {
		der, err := material("privateKey", f.PrivateKey)
		if err != nil {
			return nil, err
		}
		defer clear(der)
		if k.priv, err = cmp.ParseRSAPrivateKey(der); err != nil {
			return nil, fmt.Errorf("%w: privateKey: %v", ErrInvalid, err)
		}
		k.pub = &k.priv.PublicKey
	}
	if f.PublicKey != nil {
		der, err := material("publicKey", f.PublicKey)
		if err != nil {
			return nil, err
		}
		pub, err := cmp.ParseRSAPublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: publicKey: %v", ErrInvalid, err)
		}
		if k.priv != nil && !k.priv.PublicKey.Equal(pub) {
			return nil, fmt.Errorf("%w: publicKey does not match privateKey", ErrInvalid)
		}
		k.pub = pub
	}
	if bits := k.pub.N.BitLen(); bits < 2048 {
		return nil, fmt.Errorf("%w: RSA keys must have at least 2048 bits, not %d", ErrInvalid, bits)
	}
	return k, nil
}

func providerRSA(k *Keys, kind ProviderKind) (cmp.Provider, error) {
	if kind != Wrapped {
		return nil, fmt.Errorf("keyfile: the %s provider needs an aes-hmac key file", kind)
	}
	cfg := cmp.WrappedConfig{}
	var err error
	if cfg.WrappingKey, err = cmp.NewRSAWrappingKey(k.pub); err != nil {
		return nil, err
	}
	if cfg.VerificationKey, err = cmp.NewRSAVerificationKey(k.pub, ""); err != nil {
		return nil, err
	}
	if k.priv != nil {
		if cfg.UnwrappingKey, err = cmp.NewRSAUnwrappingKey(k.priv); err != nil {
			return nil, err
		}
		if cfg.SigningKey, err = cmp.NewRSASigningKey(k.priv, ""); err != nil {
			return nil, err
		}
	}
	return cmp.NewWrapped(cfg)
}
