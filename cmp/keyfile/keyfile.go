// Package keyfile reads and writes the key files of "itemcrypto keygen":
// JSON files that hold the keys of a wrapped or static provider.
//
// Load a file and make its provider:
//
//	keys, err := keyfile.Load("keys.json")
//	provider, err := keys.Provider(keyfile.Wrapped)
//
// [Generate] makes a new file's content, as keygen does. The format is
// documented in [Help].
//
// # Security considerations
//
// A key file holds secret keys in the clear: keep it readable by its owner
// only (mode 0600; [Load] can warn otherwise) and out of version control.
// No error of this package quotes the file's content: a JSON syntax error
// gives the byte offset, a bad field gives the field's name.
package keyfile

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// Format identifies the key files this package reads and writes.
const Format = "itemcrypto-keys-v1"

// MaxSize bounds what [Load] and [Parse] read.
const MaxSize = 64 << 10

// ErrInvalid is the class of every problem with a key file's content; the
// message names the field, never its value.
var ErrInvalid = errors.New("invalid key file")

// ProviderKind names a provider that a key file's keys can make.
type ProviderKind string

// The providers.
const (
	// Wrapped is cmp.NewWrapped: a fresh content key per item, wrapped by
	// the file's AES key (AESWrap) or RSA public key (RSA-OAEP).
	Wrapped ProviderKind = "wrapped"
	// Static is cmp.NewStatic: the file's AES key encrypts every item. Only
	// for the DDBEC static format.
	Static ProviderKind = "static"
)

// Help documents the file format (for a CLI's --help).
const Help = `The key file is JSON. For --type aes-hmac (the default):

  {
    "format": "itemcrypto-keys-v1",
    "type": "aes-hmac",
    "encryptionKey": {"algorithm": "AES", "material": "<base64, 32 bytes>"},
    "signingKey": {"algorithm": "HmacSHA256", "material": "<base64, 32 bytes>"}
  }

encryptionKey is an AES-256 key: the key-encryption key that wraps each
item's fresh content key (RFC 3394 AESWrap) with --provider wrapped, or the
content key itself with --provider static. signingKey is the HMAC key
(HmacSHA256, or HmacSHA224/384/512; at least 16 bytes) that signs and
verifies items.

For --type rsa:

  {
    "format": "itemcrypto-keys-v1",
    "type": "rsa",
    "privateKey": {"algorithm": "RSA", "encoding": "PKCS8", "material": "<base64 DER>"},
    "publicKey": {"algorithm": "RSA", "encoding": "X509", "material": "<base64 DER>"}
  }

one RSA key pair (2048 bits or more), as the DynamoDB Encryption Client's
RSA test vectors use it: the public key wraps content keys (RSA-OAEP,
SHA-256 and MGF1-SHA-1) and verifies signatures (SHA256withRSA), the private
key unwraps and signs. privateKey is required; publicKey is optional, and
checked against it. Only --provider wrapped works with RSA keys.

For --type aes-ecdsa-p256, aes-ecdsa-p384 or aes-ecdsa-p521 (keygen --sign
ecdsa-p256 and so on), signingKey is an EC private key in place of the HMAC
key, signing items as the Java client does with an EC key pair
(SHA256withECDSA on P-256, SHA384withECDSA on P-384, SHA512withECDSA on
P-521; DER signatures); the Python client cannot verify them:

    "signingKey": {"algorithm": "SHA384withECDSA", "encoding": "PKCS8", "material": "<base64 DER>"}

For --type beacon, one 256-bit beacon key for searchable encryption (the
DB-ESDK's beacons) on a table whose items need no branch key store; a
program loads it with Keys.BeaconKey and search.NewBeaconKey:

  {
    "format": "itemcrypto-keys-v1",
    "type": "beacon",
    "beaconKey": {"algorithm": "BeaconKey", "material": "<base64, 32 bytes>"}
  }

Material is standard base64 with padding. The file holds secret keys:
keygen creates it with mode 0600 and never prints key material; keep it
that way, and back it up, since items cannot be read without it.`

// file is the JSON form of a key file.
type file struct {
	Format        string `json:"format"`
	Type          string `json:"type"`
	EncryptionKey *entry `json:"encryptionKey,omitempty"`
	SigningKey    *entry `json:"signingKey,omitempty"`
	PrivateKey    *entry `json:"privateKey,omitempty"`
	PublicKey     *entry `json:"publicKey,omitempty"`
	BeaconKey     *entry `json:"beaconKey,omitempty"`
}

// entry is one key. Material stays a string until it is decoded by
// field name, so that a bad base64 character is reported by field.
type entry struct {
	Algorithm string `json:"algorithm"`
	Encoding  string `json:"encoding,omitempty"`
	Material  string `json:"material"`
}

// entries names the key fields, for clearing and for messages.
func (f *file) entries() map[string]**entry {
	return map[string]**entry{
		"encryptionKey": &f.EncryptionKey, "signingKey": &f.SigningKey,
		"privateKey": &f.PrivateKey, "publicKey": &f.PublicKey, "beaconKey": &f.BeaconKey,
	}
}

// Keys are the parsed keys of a key file. They never print: Keys formats as
// its type only.
type Keys struct {
	typ      *keyType
	aesBytes *[32]byte // the AES key, for the DB-ESDK raw AES keyring; behind a pointer, as in cmp.AESKey
	aes      *cmp.AESKey
	hmac     *cmp.HMACKey
	priv     *rsa.PrivateKey
	pub      *rsa.PublicKey
	ec       *cmp.ECDSASigningKey // the aes-ecdsa-* types
	beacon   *[32]byte            // the beacon type's key; behind a pointer, as aesBytes
}

// BeaconKey returns a copy of the 32-byte beacon key of a "beacon" key file
// (itemcrypto keygen --type beacon), for search.NewBeaconKey: the DB-ESDK's
// beacons of a table whose items need no branch key store. Other key
// files hold none: one key, one job.
func (k *Keys) BeaconKey() ([]byte, error) {
	if k.beacon == nil {
		return nil, fmt.Errorf("keyfile: a %s key file has no beacon key (make one with itemcrypto keygen --type beacon)", k.typ.name)
	}
	return bytes.Clone(k.beacon[:]), nil
}

// Type returns the file's key type, e.g. "aes-hmac".
func (k *Keys) Type() string { return k.typ.name }

// String, GoString, Format, LogValue and MarshalJSON give the key type
// only, for every verb, log/slog handler and encoding/json: Keys and *Keys
// never print a key.
func (k Keys) String() string                { return k.redacted().String() }
func (k Keys) GoString() string              { return k.redacted().GoString() }
func (k Keys) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
func (k Keys) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
func (k Keys) redacted() redact.Text {
	return redact.Text("keyfile.Keys(" + k.typeName() + ", redacted)")
}

// LogValue makes log/slog record the key type only, whatever the handler.
func (k Keys) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", k.typeName()), slog.Bool("redacted", true))
}

func (k Keys) typeName() string {
	if k.typ == nil {
		return ""
	}
	return k.typ.name
}

// Keyring returns the DB-ESDK keyring of the keys, under the key namespace
// and name that readers must use too: a raw AES keyring over an aes-hmac
// file's encryptionKey (its signingKey is not used: the DB-ESDK derives
// its HMAC keys per item), or a raw RSA keyring (OAEP with SHA-256) over an
// rsa file's key pair.
func (k *Keys) Keyring(namespace, name string) (keyring.Keyring, error) {
	switch {
	case k.aesBytes != nil:
		return keyring.NewRawAES(namespace, name, k.aesBytes[:])
	case k.priv != nil:
		return keyring.NewRawRSA(namespace, name, keyring.RSAOAEPSHA256, &k.priv.PublicKey, k.priv)
	}
	return nil, fmt.Errorf("keyfile: a %s key file has no key for a DB-ESDK keyring", k.typ.name)
}

// Provider returns the provider of kind made from the keys.
func (k *Keys) Provider(kind ProviderKind) (cmp.Provider, error) {
	switch kind {
	case Wrapped, Static:
	default:
		return nil, fmt.Errorf("keyfile: unknown provider %q (want %s or %s)", truncate(string(kind), 40), Wrapped, Static)
	}
	return k.typ.provider(k, kind)
}

// Options tune [Load].
type Options struct {
	// Warn, when set, receives a one-line warning when the file is
	// readable or writable by users other than its owner.
	Warn io.Writer
}

// Load reads and parses the key file at path.
func Load(path string, optFns ...func(*Options)) (*Keys, error) {
	var opts Options
	for _, fn := range optFns {
		fn(&opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		if opts.Warn != nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(opts.Warn, "Warning: key file %s has mode %04o: other users may read or change it; run chmod 600 %s\n", path, fi.Mode().Perm(), path)
		}
		if fi.Size() > MaxSize {
			return nil, fmt.Errorf("key file %s: %w: larger than %d bytes", path, ErrInvalid, MaxSize)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	defer clear(b)
	k, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// Parse parses the content of a key file.
func Parse(data []byte) (*Keys, error) {
	k, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	return k, nil
}

func parse(data []byte) (*Keys, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError(err)
	}
	defer f.clear()
	if f.Format != Format {
		return nil, fmt.Errorf("%w: format is not %q (make one with itemcrypto keygen)", ErrInvalid, Format)
	}
	t := lookupType(f.Type)
	if t == nil {
		return nil, fmt.Errorf("%w: unknown type %q (want %s)", ErrInvalid, truncate(f.Type, 40), typeNames())
	}
	for name, e := range f.entries() {
		if *e != nil && !slices.Contains(t.fields, name) {
			return nil, fmt.Errorf("%w: key type %s has no %s", ErrInvalid, t.name, name)
		}
	}
	k, err := t.parse(&f)
	if err != nil {
		return nil, err
	}
	k.typ = t
	return k, nil
}

// jsonError describes a JSON error without the text around it (which could
// be key material): the offset of a syntax error, the field of a type error.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && strings.Contains(syn.Error(), "unexpected end"):
		return fmt.Errorf("%w: not JSON (it ends too early)", ErrInvalid)
	case errors.As(err, &syn):
		return fmt.Errorf("%w: not JSON (syntax error at byte %d)", ErrInvalid, syn.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("%w: %s: want a JSON %s, not a %s (at byte %d)", ErrInvalid, typ.Field, typ.Type.Kind(), typ.Value, typ.Offset)
	}
	return fmt.Errorf("%w: not JSON", ErrInvalid)
}

// material decodes the base64 material of the named field.
func material(name string, e *entry) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(e.Material)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%w: %s.material: not standard base64 (bad input at character %d)", ErrInvalid, name, int64(ce))
		}
		return nil, fmt.Errorf("%w: %s.material: not standard base64", ErrInvalid, name)
	}
	return b, nil
}

// clear drops the key strings (hygiene, not a guarantee: Go strings cannot
// be wiped).
func (f *file) clear() {
	for _, e := range f.entries() {
		if *e != nil {
			(*e).Material = ""
		}
	}
}

// Generate returns the content of a new key file of type typ (see
// [Types]), with keys from rand (crypto/rand.Reader in real use). The
// result holds secret keys: write it with mode 0600 and clear it after.
func Generate(typ string, rand io.Reader) ([]byte, error) {
	t := lookupType(typ)
	if t == nil {
		return nil, fmt.Errorf("keyfile: unknown key type %q (want %s)", truncate(typ, 40), typeNames())
	}
	f, err := t.generate(rand)
	if err != nil {
		return nil, fmt.Errorf("keyfile: generating %s keys: %w", t.name, err)
	}
	f.Format, f.Type = Format, t.name
	b, err := json.MarshalIndent(f, "", "  ")
	f.clear()
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Types returns the key types, the default first.
func Types() []string {
	names := make([]string, len(keyTypes))
	for i, t := range keyTypes {
		names[i] = t.name
	}
	return names
}

// Describe says in words what a new key file of type typ holds, "" for an
// unknown type.
func Describe(typ string) string {
	if t := lookupType(typ); t != nil {
		return t.describe
	}
	return ""
}

func lookupType(name string) *keyType {
	for i := range keyTypes {
		if keyTypes[i].name == name {
			return &keyTypes[i]
		}
	}
	return nil
}

func typeNames() string {
	names := Types()
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
