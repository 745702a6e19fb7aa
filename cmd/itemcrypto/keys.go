package main

import (
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// keyFileFormat identifies key files written by keygen.
const keyFileFormat = "itemcrypto-keys-v1"

// maxKeyFileSize bounds what loadKeyFile reads.
const maxKeyFileSize = 64 << 10

const keyFileHelp = `The key file is JSON. For --type aes-hmac (the default):

  {
    "format": "itemcrypto-keys-v1",
    "type": "aes-hmac",
    "encryptionKey": {"algorithm": "AES", "material": "<base64, 32 bytes>"},
    "signingKey": {"algorithm": "HmacSHA256", "material": "<base64, 32 bytes>"}
  }

encryptionKey is an AES-256 key: the key-encryption key that wraps each
item's fresh content key (RFC 3394 AESWrap) with --provider wrapped, or the
content key itself with --provider static. signingKey is the HMAC-SHA256
key that signs and verifies items.

For --type rsa:

  {
    "format": "itemcrypto-keys-v1",
    "type": "rsa",
    "privateKey": {"algorithm": "RSA", "encoding": "PKCS8", "material": "<base64 DER>"},
    "publicKey": {"algorithm": "RSA", "encoding": "X509", "material": "<base64 DER>"}
  }

one RSA-2048 key pair, as the DynamoDB Encryption Client's RSA test
vectors use it: the public key wraps content keys (RSA-OAEP, SHA-256 and
MGF1-SHA-1) and verifies signatures (SHA256withRSA), the private key unwraps
and signs. Only --provider wrapped works with RSA keys.

Material is standard base64 with padding. The file holds secret keys:
keygen creates it with mode 0600 and never prints key material; keep it
that way, and back it up, since items cannot be read without it.`

// keyFile is the JSON form of a key file.
type keyFile struct {
	Format        string    `json:"format"`
	Type          string    `json:"type"`
	EncryptionKey *keyEntry `json:"encryptionKey,omitempty"`
	SigningKey    *keyEntry `json:"signingKey,omitempty"`
	PrivateKey    *keyEntry `json:"privateKey,omitempty"`
	PublicKey     *keyEntry `json:"publicKey,omitempty"`
}

type keyEntry struct {
	Algorithm string `json:"algorithm"`
	Encoding  string `json:"encoding,omitempty"`
	Material  []byte `json:"material"` // standard base64 in JSON
}

const (
	keyTypeAESHMAC = "aes-hmac"
	keyTypeRSA     = "rsa"
)

// newKeyFile generates fresh keys of the given type from rand.
func newKeyFile(typ string, rand io.Reader) (*keyFile, error) {
	kf := &keyFile{Format: keyFileFormat, Type: typ}
	switch typ {
	case keyTypeAESHMAC:
		enc := make([]byte, 32)
		mac := make([]byte, 32)
		if _, err := io.ReadFull(rand, enc); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(rand, mac); err != nil {
			return nil, err
		}
		kf.EncryptionKey = &keyEntry{Algorithm: "AES", Material: enc}
		kf.SigningKey = &keyEntry{Algorithm: "HmacSHA256", Material: mac}
	case keyTypeRSA:
		priv, err := rsa.GenerateKey(rand, 2048)
		if err != nil {
			return nil, err
		}
		privDER, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, err
		}
		pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			return nil, err
		}
		kf.PrivateKey = &keyEntry{Algorithm: "RSA", Encoding: "PKCS8", Material: privDER}
		kf.PublicKey = &keyEntry{Algorithm: "RSA", Encoding: "X509", Material: pubDER}
	default:
		return nil, fmt.Errorf("unknown key type %q (want %s or %s)", typ, keyTypeAESHMAC, keyTypeRSA)
	}
	return kf, nil
}

func newKeygenCmd() *cobra.Command {
	var out, typ string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen --out FILE [--type aes-hmac|rsa] [--force]",
		Short: "Write a new key file for encrypt and decrypt",
		Long: `Generate fresh keys and write them to a new key file, readable only by
you (mode 0600). The file must not exist yet, unless --force is given.
Key material is never printed.

` + keyFileHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" || out == "-" {
				return errors.New("--out must name a file (key material is never written to stdout)")
			}
			kf, err := newKeyFile(typ, crand.Reader)
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(kf, "", "  ")
			if err != nil {
				return err
			}
			b = append(b, '\n')
			defer clear(b)
			if err := writeSecretFile(out, b, force); err != nil {
				return err
			}
			var what string
			switch typ {
			case keyTypeAESHMAC:
				what = "an AES-256 key-encryption key and a 256-bit HMAC-SHA256 key"
			case keyTypeRSA:
				what = "an RSA-2048 key pair"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s key file %s (mode 0600): %s.\nKeep it secret and back it up: items cannot be decrypted without it.\n", typ, out, what)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "key file to create")
	cmd.Flags().StringVar(&typ, "type", keyTypeAESHMAC, "key type: aes-hmac or rsa")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	cmd.MarkFlagRequired("out")
	return cmd
}

// writeSecretFile writes b to a file readable only by its owner. Without
// force the file must not exist; with force an existing file is replaced
// (by renaming a new 0600 file over it, so its old mode does not survive).
func writeSecretFile(path string, b []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s already exists (use --force to replace it)", path)
			}
			return err
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".itemcrypto-keygen-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fail(err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// loadedKeys are the parsed keys of a key file.
type loadedKeys struct {
	typ  string
	aes  *cmp.AESKey
	hmac *cmp.HMACKey
	priv *rsa.PrivateKey
	pub  *rsa.PublicKey
}

// loadKeyFile reads and validates a key file. It warns on warn when the file
// is readable or writable by others. Errors never quote the file's content.
func loadKeyFile(path string, warn io.Writer) (*loadedKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(warn, "Warning: key file %s has mode %04o: other users may read or change it; run chmod 600 %s\n", path, fi.Mode().Perm(), path)
		}
		if fi.Size() > maxKeyFileSize {
			return nil, fmt.Errorf("key file %s: larger than %d bytes, not a key file", path, maxKeyFileSize)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	defer clear(b)
	if len(b) > maxKeyFileSize {
		return nil, fmt.Errorf("key file %s: larger than %d bytes, not a key file", path, maxKeyFileSize)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		// The JSON error could quote a character of the key material.
		return nil, fmt.Errorf("key file %s: not valid key file JSON", path)
	}
	defer kf.clear()
	bad := func(what string) error { return fmt.Errorf("key file %s: %s", path, what) }
	if kf.Format != keyFileFormat {
		return nil, bad(fmt.Sprintf("format is not %q (make one with itemcrypto keygen)", keyFileFormat))
	}
	k := &loadedKeys{typ: kf.Type}
	switch kf.Type {
	case keyTypeAESHMAC:
		if kf.EncryptionKey == nil || kf.SigningKey == nil {
			return nil, bad("an aes-hmac key file needs encryptionKey and signingKey")
		}
		if kf.EncryptionKey.Algorithm != "AES" || len(kf.EncryptionKey.Material) != 32 {
			return nil, bad("encryptionKey must be a 32-byte AES key")
		}
		if k.aes, err = cmp.NewAESKey(kf.EncryptionKey.Material); err != nil {
			return nil, bad("encryptionKey: " + err.Error())
		}
		if len(kf.SigningKey.Material) < 16 {
			return nil, bad("signingKey must be an HMAC key of at least 16 bytes")
		}
		if k.hmac, err = cmp.NewHMACKey(kf.SigningKey.Algorithm, kf.SigningKey.Material); err != nil {
			return nil, bad("signingKey: " + err.Error())
		}
	case keyTypeRSA:
		if kf.PrivateKey == nil && kf.PublicKey == nil {
			return nil, bad("an rsa key file needs privateKey or publicKey")
		}
		if kf.PrivateKey != nil {
			if k.priv, err = cmp.ParseRSAPrivateKey(kf.PrivateKey.Material); err != nil {
				return nil, bad("privateKey: " + err.Error())
			}
			k.pub = &k.priv.PublicKey
		}
		if kf.PublicKey != nil {
			pub, err := cmp.ParseRSAPublicKey(kf.PublicKey.Material)
			if err != nil {
				return nil, bad("publicKey: " + err.Error())
			}
			if k.priv != nil && !k.priv.PublicKey.Equal(pub) {
				return nil, bad("publicKey does not match privateKey")
			}
			k.pub = pub
		}
		if k.pub.N.BitLen() < 2048 {
			return nil, bad("RSA keys must have at least 2048 bits")
		}
	default:
		return nil, bad(fmt.Sprintf("unknown type %q (want %s or %s)", kf.Type, keyTypeAESHMAC, keyTypeRSA))
	}
	return k, nil
}

// clear wipes the decoded key bytes (hygiene, not a guarantee).
func (kf *keyFile) clear() {
	for _, e := range []*keyEntry{kf.EncryptionKey, kf.SigningKey, kf.PrivateKey, kf.PublicKey} {
		if e != nil {
			clear(e.Material)
		}
	}
}

// provider builds the named provider from the keys.
func (k *loadedKeys) provider(kind string) (cmp.Provider, error) {
	switch kind {
	case "wrapped":
		if k.typ == keyTypeAESHMAC {
			return cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: k.aes, UnwrappingKey: k.aes, SigningKey: k.hmac})
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
	case "static":
		if k.typ != keyTypeAESHMAC {
			return nil, errors.New("--provider static needs an aes-hmac key file")
		}
		return cmp.NewStatic(cmp.StaticConfig{EncryptionKey: k.aes, SigningKey: k.hmac})
	}
	return nil, fmt.Errorf("unknown provider %q (want wrapped or static)", kind)
}
