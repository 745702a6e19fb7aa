package vectors

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// Key description types of the MPL test vectors
// (framework/test-vectors/key-description.md), plus "static-branch-key"
// and "hierarchy", older names of "aws-kms-hierarchy" this package also
// reads.
const (
	KeyDescRaw                    = "raw"
	KeyDescRawECDH                = "raw-ecdh"
	KeyDescMulti                  = "multi-keyring"
	KeyDescHierarchy              = "aws-kms-hierarchy"
	KeyDescStaticBranchKey        = "static-branch-key"
	KeyDescKMS                    = "aws-kms"
	KeyDescKMSMRKAware            = "aws-kms-mrk-aware"
	KeyDescKMSMRKAwareDiscovery   = "aws-kms-mrk-aware-discovery"
	KeyDescKMSRSA                 = "aws-kms-rsa"
	KeyDescKMSECDH                = "aws-kms-ecdh"
	KeyDescStaticMaterial         = "static-material-keyring"
	KeyDescRequiredContextCMM     = "required-encryption-context-cmm"
	KeyDescCachingCMM             = "caching-cmm"
	keyDescHierarchyAlias         = "hierarchy"
	defaultBranchKeyName          = "static-branch-key-1"
	errNoAWSPrefix                = "needs an AWS account: "
	kmsKeyringKindsNotImplemented = "keyring not built in this library"
)

// KeyDescription is one key description of the MPL's (and the DB-ESDK's)
// test vectors: the "key" of a DB-ESDK record's config, the
// keyDescription / encryptKeyDescription / decryptKeyDescription of an MPL
// keyring manifest. Key names the keys-file entry; the other fields are
// those of its type. A JSON array is read as a multi-keyring whose first
// member is the generator (the MPL's version 1 and 2 form).
type KeyDescription struct {
	Type                string `json:"type"`
	Key                 string `json:"key,omitempty"`
	ProviderID          string `json:"provider-id,omitempty"`
	EncryptionAlgorithm string `json:"encryption-algorithm,omitempty"` // raw: aes or rsa; aws-kms-rsa: RSAES_OAEP_SHA_1 or _256
	PaddingAlgorithm    string `json:"padding-algorithm,omitempty"`    // raw rsa: pkcs1 or oaep-mgf1
	PaddingHash         string `json:"padding-hash,omitempty"`         // raw rsa: sha1, sha256, sha384, sha512

	DefaultMRKRegion string           `json:"default-mrk-region,omitempty"`
	DiscoveryFilter  *DiscoveryFilter `json:"aws-kms-discovery-filter,omitempty"`

	// raw-ecdh and aws-kms-ecdh.
	Sender    string `json:"sender,omitempty"`
	Recipient string `json:"recipient,omitempty"`
	Curve     string `json:"ecc-curve,omitempty"`
	Schema    string `json:"schema,omitempty"`

	// required-encryption-context-cmm and caching-cmm.
	Underlying   *KeyDescription `json:"underlying,omitempty"`
	RequiredKeys []string        `json:"requiredEncryptionContextKeys,omitempty"`

	// caching-cmm, as the MPL's test harness reads it (CachingCMM of its
	// key-vectors model): the caching CMM's TTL (required) and limits
	// (0: not set), and the identifiers under which the harness's one-entry
	// test cache answers a get and accepts a put (base64; "" is an
	// identifier no request has; nil: not set). The harness gives the
	// caching CMM the partition id "asdf".
	CacheLimitTTLSeconds int     `json:"cacheLimitTtlSeconds,omitempty"`
	LimitBytes           int64   `json:"limitBytes,omitempty"`
	LimitMessages        int     `json:"limitMessages,omitempty"`
	GetEntryIdentifier   *string `json:"getEntryIdentifier,omitempty"`
	PutEntryIdentifier   *string `json:"putEntryIdentifier,omitempty"`

	// multi-keyring.
	Generator *KeyDescription  `json:"generator,omitempty"`
	Children  []KeyDescription `json:"childKeyrings,omitempty"`

	// Members of no type this package knows, kept as read.
	Extra map[string]json.RawMessage `json:"-"`
}

// DiscoveryFilter is the aws-kms-discovery-filter of a discovery
// description.
type DiscoveryFilter struct {
	Partition  string   `json:"partition"`
	AccountIDs []string `json:"account-ids"`
}

var knownKeyDescMembers = map[string]bool{
	"type": true, "key": true, "provider-id": true, "encryption-algorithm": true, "padding-algorithm": true,
	"padding-hash": true, "default-mrk-region": true, "aws-kms-discovery-filter": true, "sender": true,
	"recipient": true, "ecc-curve": true, "schema": true, "underlying": true, "requiredEncryptionContextKeys": true,
	"generator": true, "childKeyrings": true, "cacheLimitTtlSeconds": true, "limitBytes": true, "limitMessages": true,
	"getEntryIdentifier": true, "putEntryIdentifier": true,
}

// ParseKeyDescription reads and checks a key description. Errors name the
// description's type and key name, never key material.
func ParseKeyDescription(raw json.RawMessage) (*KeyDescription, error) {
	var d KeyDescription
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// UnmarshalJSON reads an object or, for a multi-keyring, an array.
func (d *KeyDescription) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var members []KeyDescription
		if err := json.Unmarshal(b, &members); err != nil {
			return fmt.Errorf("vectors: key description array: %w", err)
		}
		if len(members) == 0 {
			return errors.New("vectors: key description: an empty array is no multi-keyring")
		}
		*d = KeyDescription{Type: KeyDescMulti, Generator: &members[0], Children: members[1:]}
		if d.Children == nil {
			d.Children = []KeyDescription{}
		}
		return nil
	}
	type plain KeyDescription
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("vectors: key description: %w", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("vectors: key description: %w", err)
	}
	for k, v := range all {
		if !knownKeyDescMembers[k] {
			if p.Extra == nil {
				p.Extra = map[string]json.RawMessage{}
			}
			p.Extra[k] = v
		}
	}
	if _, ok := all["childKeyrings"]; ok && p.Children == nil {
		p.Children = []KeyDescription{}
	}
	*d = KeyDescription(p)
	return nil
}

// MarshalJSON writes the object form, members in the order the MPL writes
// them; a multi-keyring always has its childKeyrings array.
func (d KeyDescription) MarshalJSON() ([]byte, error) {
	type plain KeyDescription
	b, err := json.Marshal(plain(d))
	if err != nil {
		return nil, err
	}
	if d.Type == KeyDescMulti && len(d.Children) == 0 {
		b = append(b[:len(b)-1], []byte(`,"childKeyrings":[]}`)...)
	}
	if len(d.Extra) == 0 {
		return b, nil
	}
	for _, k := range sortedKeys(d.Extra) {
		if knownKeyDescMembers[k] {
			continue
		}
		kb, _ := json.Marshal(k)
		b = append(b[:len(b)-1], ',')
		b = append(b, kb...)
		b = append(b, ':')
		b = append(b, d.Extra[k]...)
		b = append(b, '}')
	}
	return b, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Name is how errors and reports name the description: its type and key
// name (the sender for ECDH).
func (d *KeyDescription) Name() string {
	switch {
	case d.Key != "":
		return fmt.Sprintf("%s %q", d.Type, d.Key)
	case d.Sender != "":
		return fmt.Sprintf("%s %q", d.Type, d.Sender)
	}
	return d.Type
}

func (d *KeyDescription) errorf(format string, args ...any) error {
	return fmt.Errorf("vectors: key description %s: %s", d.Name(), fmt.Sprintf(format, args...))
}

// Validate checks that the description has the members its type needs.
func (d *KeyDescription) Validate() error {
	need := func(members ...string) error {
		values := map[string]string{"key": d.Key, "provider-id": d.ProviderID, "encryption-algorithm": d.EncryptionAlgorithm,
			"default-mrk-region": d.DefaultMRKRegion, "sender": d.Sender, "recipient": d.Recipient, "ecc-curve": d.Curve, "schema": d.Schema}
		for _, m := range members {
			if values[m] == "" {
				return d.errorf("missing %q", m)
			}
		}
		return nil
	}
	switch d.Type {
	case "":
		return errors.New(`vectors: key description without "type"`)
	case KeyDescRaw:
		if err := need("key", "provider-id", "encryption-algorithm"); err != nil {
			return err
		}
		switch d.EncryptionAlgorithm {
		case "aes":
		case "rsa":
			if d.PaddingAlgorithm == "" {
				return d.errorf(`missing "padding-algorithm"`)
			}
			if d.PaddingHash == "" && d.PaddingAlgorithm != "pkcs1" {
				return d.errorf("padding %s needs a padding-hash", d.PaddingAlgorithm)
			}
			if _, err := d.rsaPadding(); err != nil {
				return err
			}
		default:
			return d.errorf("unknown encryption-algorithm %q (want aes or rsa)", d.EncryptionAlgorithm)
		}
	case KeyDescKMS, KeyDescKMSMRKAware, KeyDescHierarchy, KeyDescStaticBranchKey, keyDescHierarchyAlias, KeyDescStaticMaterial:
		return need("key")
	case KeyDescKMSRSA:
		if err := need("key", "encryption-algorithm"); err != nil {
			return err
		}
		if d.EncryptionAlgorithm != "RSAES_OAEP_SHA_1" && d.EncryptionAlgorithm != "RSAES_OAEP_SHA_256" {
			return d.errorf("unknown encryption-algorithm %q", d.EncryptionAlgorithm)
		}
	case KeyDescKMSMRKAwareDiscovery:
		return need("default-mrk-region")
	case KeyDescRawECDH:
		if err := need("sender", "recipient", "provider-id", "ecc-curve", "schema"); err != nil {
			return err
		}
		return d.checkSchema()
	case KeyDescKMSECDH:
		if err := need("sender", "recipient", "ecc-curve", "schema"); err != nil {
			return err
		}
		return d.checkSchema()
	case KeyDescMulti:
		if d.Generator == nil && len(d.Children) == 0 {
			return d.errorf("a multi-keyring needs a generator or a child")
		}
		if d.Generator != nil {
			if err := d.Generator.validateMember(); err != nil {
				return fmt.Errorf("generator: %w", err)
			}
		}
		for i := range d.Children {
			if err := d.Children[i].validateMember(); err != nil {
				return fmt.Errorf("child %d: %w", i, err)
			}
		}
	case KeyDescRequiredContextCMM, KeyDescCachingCMM:
		if d.Underlying == nil {
			return d.errorf(`missing "underlying"`)
		}
		if err := d.Underlying.Validate(); err != nil {
			return fmt.Errorf("underlying: %w", err)
		}
		if d.Type == KeyDescCachingCMM {
			return d.checkCache()
		}
	default:
		return d.errorf("unknown type")
	}
	return nil
}

// validateMember validates a multi-keyring's member: a keyring, as the
// MPL's harness requires, not a materials manager.
func (d *KeyDescription) validateMember() error {
	if d.Type == KeyDescCachingCMM || d.Type == KeyDescRequiredContextCMM {
		return d.errorf("a materials manager cannot be a multi-keyring's member")
	}
	return d.Validate()
}

// checkCache checks a caching-cmm's members: a positive TTL, no negative
// limit, identifiers in base64.
func (d *KeyDescription) checkCache() error {
	if d.CacheLimitTTLSeconds <= 0 {
		return d.errorf(`"cacheLimitTtlSeconds" must be a positive number of seconds`)
	}
	if d.LimitBytes < 0 || d.LimitMessages < 0 {
		return d.errorf(`"limitBytes" and "limitMessages" must be positive`)
	}
	for name, id := range map[string]*string{"getEntryIdentifier": d.GetEntryIdentifier, "putEntryIdentifier": d.PutEntryIdentifier} {
		if id == nil {
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(*id); err != nil {
			return d.errorf("%q is not base64", name)
		}
	}
	return nil
}

func (d *KeyDescription) checkSchema() error {
	switch d.Schema {
	case "static", "ephemeral", "discovery":
		return nil
	}
	return d.errorf("unknown schema %q", d.Schema)
}

func (d *KeyDescription) rsaPadding() (keyring.RSAPadding, error) {
	hash := d.PaddingHash
	if hash == "" {
		hash = "sha1"
	}
	p, err := keyring.ParseRSAPadding(d.PaddingAlgorithm, hash)
	if err != nil {
		return 0, d.errorf("padding %s/%s: %v", d.PaddingAlgorithm, hash, err)
	}
	return p, nil
}

// keyMaterial resolves key descriptions against a keys file (an MPL keys
// manifest). AWS KMS keys whose entry carries "material" (32 bytes,
// base64) live in in-process fake KMS servers (cmp/kmstest), one per
// region and account, created when first needed; Close stops them.
type keyMaterial struct {
	keys map[string]DBESDKKey

	mu      sync.Mutex
	servers map[string]*kmstest.Server // by region + "/" + account
	created map[string]bool            // key ARNs created
	clients map[string]cmp.KMS         // by region + "/" + account
}

func newKeyMaterial(keys map[string]DBESDKKey) *keyMaterial {
	return &keyMaterial{keys: keys}
}

// Close stops the fake KMS servers.
func (km *keyMaterial) Close() {
	if km == nil {
		return
	}
	km.mu.Lock()
	defer km.mu.Unlock()
	for _, s := range km.servers {
		s.Close()
	}
	km.servers, km.clients, km.created = nil, nil, nil
}

// key returns the keys-file entry name of description d; with typ not
// "", the entry must be of that type.
func (km *keyMaterial) key(d *KeyDescription, name, typ string) (DBESDKKey, error) {
	k, ok := km.keys[name]
	if !ok {
		return k, d.errorf("key %q not in the keys file", name)
	}
	if typ != "" && k.Type != typ {
		return k, d.errorf("key %q is of type %q, not %s", name, k.Type, typ)
	}
	return k, nil
}

// checkEncoding checks an entry's encoding: want, or not given.
func checkEncoding(d *KeyDescription, name, encoding, want string) error {
	if encoding != "" && encoding != want {
		return d.errorf("key %q: encoding %q, want %s", name, encoding, want)
	}
	return nil
}

// unsupported is ErrUnsupported for description d, with the reason.
func (d *KeyDescription) unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: key description %s: %s", ErrUnsupported, d.Name(), fmt.Sprintf(format, args...))
}

// Keyring builds the keyring of a description. Descriptions of keyrings
// this library does not build, or whose keys need an AWS account, are
// ErrUnsupported with the reason.
func (km *keyMaterial) Keyring(d *KeyDescription) (keyring.Keyring, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	switch d.Type {
	case KeyDescRaw:
		k, err := km.key(d, d.Key, "")
		if err != nil {
			return nil, err
		}
		if d.EncryptionAlgorithm == "aes" {
			return km.rawAES(d, k)
		}
		return km.rawRSA(d, k)
	case KeyDescHierarchy, KeyDescStaticBranchKey, keyDescHierarchyAlias:
		k, err := km.key(d, d.Key, "")
		if err != nil {
			return nil, err
		}
		bk, err := staticBranchKey(d, k)
		if err != nil {
			return nil, err
		}
		return hierarchicalKeyring(bk)
	case KeyDescMulti:
		var gen keyring.Keyring
		if d.Generator != nil {
			g, err := km.Keyring(d.Generator)
			if err != nil {
				return nil, err
			}
			gen = g
		}
		children := make([]keyring.Keyring, len(d.Children))
		for i := range d.Children {
			c, err := km.Keyring(&d.Children[i])
			if err != nil {
				return nil, err
			}
			children[i] = c
		}
		return keyring.NewMulti(gen, children...)
	case KeyDescKMS, KeyDescKMSMRKAware:
		return km.kms(d)
	case KeyDescKMSMRKAwareDiscovery:
		return km.kmsMRKDiscovery(d)
	case KeyDescRawECDH:
		return km.rawECDH(d)
	case KeyDescKMSRSA:
		return km.kmsRSA(d)
	case KeyDescKMSECDH:
		return km.kmsECDH(d)
	case KeyDescCachingCMM:
		return km.cachingUnderlying(d)
	case KeyDescRequiredContextCMM:
		return nil, d.unsupported("a materials manager, not a keyring; not built in this library")
	case KeyDescStaticMaterial:
		return nil, km.staticMaterial(d)
	}
	return nil, d.unsupported("%s %s", d.Type, kmsKeyringKindsNotImplemented)
}

// cachingUnderlying is the keyring a caching-cmm description runs with.
// This library has no caching materials manager; a cache changes no
// bytes, so a description without entry identifiers runs through its
// underlying keyring (a caching CMM over a keyring is a caching CMM over
// the default CMM of that keyring), and the runners say so
// (cachingNote). A description with entry identifiers tests the
// caching CMM itself: the MPL's harness gives it a one-entry test cache
// that answers a get, and takes a put, only under those identifiers, with
// an entry whose age and use the TTL and limits judge. (Those of
// mpl/test.json are the cache ids of caching-cmm.md 0.3.0, SHA-512 of
// partition id "asdf", suite 0x0478 and the empty context, and of the
// static encrypted data key on decrypt; version 0.4.0 of the spec computes
// SHA-384 ids with resource and scope bytes instead.) ErrUnsupported, with
// the underlying's own reason when it cannot run either.
func (km *keyMaterial) cachingUnderlying(d *KeyDescription) (keyring.Keyring, error) {
	under, err := km.Keyring(d.Underlying)
	if d.GetEntryIdentifier == nil && d.PutEntryIdentifier == nil {
		return under, err
	}
	if err != nil && !errors.Is(err, ErrUnsupported) {
		return nil, err
	}
	var ids []string
	if d.GetEntryIdentifier != nil {
		ids = append(ids, "get")
	}
	if d.PutEntryIdentifier != nil {
		ids = append(ids, "put")
	}
	limits := fmt.Sprintf("TTL %d s", d.CacheLimitTTLSeconds)
	if d.LimitBytes > 0 {
		limits += fmt.Sprintf(", %d bytes", d.LimitBytes)
	}
	if d.LimitMessages > 0 {
		limits += fmt.Sprintf(", %d messages", d.LimitMessages)
	}
	why := fmt.Sprintf("it tests a caching CMM's %s entry identifiers against a test cache, and cmp/keyring has no caching materials manager", strings.Join(ids, " and "))
	if err != nil {
		why += "; the underlying: " + strings.TrimPrefix(err.Error(), fmt.Sprintf("%v: key description %s: ", ErrUnsupported, d.Underlying.Name()))
	}
	return nil, fmt.Errorf("%w: key description %s over %s (%s): %s", ErrUnsupported, d.Type, d.Underlying.Name(), limits, why)
}

// cachingNote is what a runner adds to the outcome of a record whose
// descriptions include a caching-cmm that ran as its underlying keyring
// (see cachingUnderlying), or "".
func cachingNote(descs ...*KeyDescription) string {
	var under []string
	for _, d := range descs {
		if d != nil && d.Type == KeyDescCachingCMM && !slices.Contains(under, d.Underlying.Name()) {
			under = append(under, d.Underlying.Name())
		}
	}
	if len(under) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s run as its underlying %s: cmp/keyring has no caching materials manager, and a cache changes no bytes)", KeyDescCachingCMM, strings.Join(under, " and "))
}

// staticMaterial is why a static-material-keyring description does not
// run. The MPL's static-materials test keyring returns the fixed materials
// of its entry (suite, context, encrypted data keys, maybe no plaintext
// data key) whatever it is asked, to test that a materials manager checks
// what a keyring gives it. The MPL vectors' entries are of AWS Encryption
// SDK suites, materials this library does not make.
func (km *keyMaterial) staticMaterial(d *KeyDescription) error {
	k, err := km.key(d, d.Key, "static-material")
	if err != nil {
		return err
	}
	what := "a plaintext data key"
	if k.PlaintextDataKey == "" {
		what = "no plaintext data key"
	}
	if n := len(k.EncryptedDataKeys); n == 1 {
		what += ", 1 encrypted data key"
	} else {
		what += fmt.Sprintf(", %d encrypted data keys", n)
	}
	if _, err := keyring.ParseSuite(k.Suite); err != nil {
		return d.unsupported("fixed materials of suite 0x%s (%s), an AWS Encryption SDK suite; this library implements the DB-ESDK suites 0x6700 and 0x6701 only", k.Suite, what)
	}
	return d.unsupported("fixed materials of suite 0x%s (%s): the static-materials test keyring is not built", k.Suite, what)
}

func (km *keyMaterial) rawAES(d *KeyDescription, k DBESDKKey) (keyring.Keyring, error) {
	if k.Type != "symmetric" || !strings.EqualFold(k.Algorithm, "aes") {
		return nil, d.errorf("key %q is of type %q, not a symmetric AES key", d.Key, k.Type)
	}
	if err := checkEncoding(d, d.Key, k.Encoding, "base64"); err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(k.Material)
	if err != nil {
		return nil, d.errorf("key %q: material is not base64", d.Key)
	}
	if k.Bits != 0 && len(b)*8 != k.Bits {
		return nil, d.errorf("key %q: material of %d bits, the entry says %d", d.Key, len(b)*8, k.Bits)
	}
	kr, err := keyring.NewRawAES(d.ProviderID, keyName(d, k), b)
	clear(b)
	if err != nil {
		return nil, d.errorf("%v", err)
	}
	return kr, nil
}

// keyName is the name a raw keyring puts in its provider info: the
// entry's key-id, else the description's key name.
func keyName(d *KeyDescription, k DBESDKKey) string {
	if k.KeyID != "" {
		return k.KeyID
	}
	return d.Key
}

// rawRSA builds the raw RSA keyring of a public key (encrypt only) or a
// private key (decrypt, and encrypt with its public half unless the entry
// says it may not encrypt).
func (km *keyMaterial) rawRSA(d *KeyDescription, k DBESDKKey) (keyring.Keyring, error) {
	padding, err := d.rsaPadding()
	if err != nil {
		return nil, err
	}
	if k.Type != "public" && k.Type != "private" {
		return nil, d.errorf("key %q is of type %q, not an RSA key", d.Key, k.Type)
	}
	if err := checkEncoding(d, d.Key, k.Encoding, "pem"); err != nil {
		return nil, err
	}
	var pub *rsa.PublicKey
	var priv *rsa.PrivateKey
	switch k.Type {
	case "public":
		if pub, err = keyring.ParseRSAPublicKeyPEM([]byte(k.Material)); err != nil {
			return nil, d.errorf("key %q: not an RSA public key in PEM", d.Key)
		}
	case "private":
		if priv, err = keyring.ParseRSAPrivateKeyPEM([]byte(k.Material)); err != nil {
			return nil, d.errorf("key %q: not an RSA private key in PEM", d.Key)
		}
		if k.Encrypt == nil || *k.Encrypt {
			pub = &priv.PublicKey
		}
		if k.Decrypt != nil && !*k.Decrypt {
			priv = nil
		}
	default:
		return nil, d.errorf("key %q is of type %q, not an RSA key", d.Key, k.Type)
	}
	kr, err := keyring.NewRawRSA(d.ProviderID, keyName(d, k), padding, pub, priv)
	if err != nil {
		return nil, d.errorf("%v", err)
	}
	return kr, nil
}

// eccCurves are the curves of the MPL vectors' ecc-curve names.
var eccCurves = map[string]ecdh.Curve{"ecc-256": ecdh.P256(), "ecc-384": ecdh.P384(), "ecc-521": ecdh.P521()}

// rawECDH builds the raw ECDH keyring of a description as the MPL's vector
// harness does: static, the sender entry's sender-material and
// recipient-material-public-key; ephemeral, the recipient entry's
// recipient-material-public-key; discovery, the recipient entry's
// recipient-material. The keys must be on the description's ecc-curve.
func (km *keyMaterial) rawECDH(d *KeyDescription) (keyring.Keyring, error) {
	curve, ok := eccCurves[d.Curve]
	if !ok {
		return nil, d.errorf("unknown ecc-curve %q", d.Curve)
	}
	entry := d.Recipient
	if d.Schema == "static" {
		entry = d.Sender
	}
	k, err := km.key(d, entry, "ecc-private")
	if err != nil {
		return nil, err
	}
	if k.PublicKeyEncoding != "" && k.PublicKeyEncoding != "base64-der" {
		return nil, d.errorf("key %q: public-key-encoding %q, want base64-der", entry, k.PublicKeyEncoding)
	}
	priv := func(material string) (*ecdh.PrivateKey, error) {
		p, err := keyring.ParseECDHPrivateKeyPEM([]byte(material))
		if err != nil || p.Curve() != curve {
			return nil, d.errorf("key %q: not a %s private key in PEM", entry, d.Curve)
		}
		return p, nil
	}
	recipientPub := func() (*ecdh.PublicKey, error) {
		der, err := base64.StdEncoding.DecodeString(k.RecipientPublicKey)
		if err != nil {
			return nil, d.errorf("key %q: recipient public key is not base64", entry)
		}
		p, err := keyring.ParseECDHPublicKey(der)
		if err != nil || p.Curve() != curve {
			return nil, d.errorf("key %q: recipient public key is not a %s key in DER", entry, d.Curve)
		}
		return p, nil
	}
	var kr *keyring.RawECDH
	switch d.Schema {
	case "static":
		sender, err := priv(k.SenderMaterial)
		if err != nil {
			return nil, err
		}
		pub, err := recipientPub()
		if err != nil {
			return nil, err
		}
		if kr, err = keyring.NewRawECDHStatic(sender, pub); err != nil {
			return nil, d.errorf("%v", err)
		}
	case "ephemeral":
		pub, err := recipientPub()
		if err != nil {
			return nil, err
		}
		if kr, err = keyring.NewRawECDHEphemeral(pub); err != nil {
			return nil, d.errorf("%v", err)
		}
	default: // discovery (Validate checked the schema)
		recipient, err := priv(k.RecipientMaterial)
		if err != nil {
			return nil, err
		}
		if kr, err = keyring.NewRawECDHDiscovery(recipient); err != nil {
			return nil, d.errorf("%v", err)
		}
	}
	return kr, nil
}

// staticBranchKey is the branch key of a static-branch-key entry.
func staticBranchKey(d *KeyDescription, k DBESDKKey) (*hierarchy.BranchKey, error) {
	if k.Type != "static-branch-key" {
		return nil, d.unsupported("key %q of type %q (a branch key store needs an AWS account)", d.Key, k.Type)
	}
	bkey, err1 := base64.StdEncoding.DecodeString(k.BranchKey)
	beacon, err2 := base64.StdEncoding.DecodeString(k.BeaconKey)
	if err1 != nil || err2 != nil {
		return nil, d.errorf("key %q: branch or beacon key is not base64", d.Key)
	}
	bk, err := hierarchy.NewBranchKey(k.KeyID, k.Version, bkey, beacon)
	if err != nil {
		return nil, d.errorf("key %q: %v", d.Key, err)
	}
	return bk, nil
}

// kmsKey is the entry of an AWS KMS description's key: an entry of type
// typ whose key-id (KeyDescKMS, KeyDescKMSRSA) or KMS key (the
// sender-material or recipient-material of KeyDescKMSECDH) is a KMS key
// ARN. Its material, if any, is the caller's to decode.
func (km *keyMaterial) kmsKey(d *KeyDescription, name, typ string) (DBESDKKey, kmskeyring.ARN, error) {
	k, err := km.key(d, name, typ)
	if err != nil {
		return k, kmskeyring.ARN{}, err
	}
	keyID := k.KeyID
	if typ == KeyDescKMSECDH {
		keyID = k.RecipientMaterial
		if d.Schema == "static" {
			keyID = k.SenderMaterial
		}
	}
	arn, ok := keyARN(keyID)
	if !ok {
		return k, arn, d.errorf("key %q: %q is not a KMS key ARN", name, keyID)
	}
	return k, arn, nil
}

// keyARN parses a KMS key ARN (not an alias).
func keyARN(s string) (kmskeyring.ARN, bool) {
	arn, err := kmskeyring.ParseARN(s)
	return arn, err == nil && arn.ResourceType == "key"
}

// serve puts an aws-kms entry's key, its 32 bytes of material under its
// key-id, in the fake KMS of its region and account, and returns that
// KMS's client.
func (km *keyMaterial) serve(d *KeyDescription, name string, k DBESDKKey, arn kmskeyring.ARN) (cmp.KMS, error) {
	material, err := base64.StdEncoding.DecodeString(k.Material)
	if err != nil || len(material) != 32 {
		return nil, d.errorf("key %q: material must be 32 bytes in base64", name)
	}
	client, err := km.fakeKMS(arn, k.KeyID, material)
	clear(material)
	if err != nil {
		return nil, d.errorf("key %q: %v", name, err)
	}
	return client, nil
}

// kms builds an AWS KMS keyring over a fake KMS that holds the entry's
// material under the entry's key ARN. Without material the key lives only
// in AWS: ErrUnsupported.
func (km *keyMaterial) kms(d *KeyDescription) (keyring.Keyring, error) {
	k, arn, err := km.kmsKey(d, d.Key, KeyDescKMS)
	if err != nil {
		return nil, err
	}
	if k.Material == "" {
		return nil, d.unsupported("%sthe keys file holds no material for %s", errNoAWSPrefix, k.KeyID)
	}
	client, err := km.serve(d, d.Key, k, arn)
	if err != nil {
		return nil, err
	}
	var kr keyring.Keyring
	if d.Type == KeyDescKMSMRKAware {
		kr, err = kmskeyring.NewMRK(client, k.KeyID)
	} else {
		kr, err = kmskeyring.New(client, k.KeyID)
	}
	if err != nil {
		return nil, d.errorf("%v", err)
	}
	return kr, nil
}

// kmsRSA checks an aws-kms-rsa description against its entry (a KMS key
// ARN and the key's public key in PEM) by building the KMS RSA keyring of
// the public key. That keyring only encrypts: its private key lives in
// AWS KMS, so the description is ErrUnsupported (it needs an AWS account)
// unless the entry is broken.
func (km *keyMaterial) kmsRSA(d *KeyDescription) (keyring.Keyring, error) {
	k, _, err := km.kmsKey(d, d.Key, KeyDescKMSRSA)
	if err != nil {
		return nil, err
	}
	if err := checkEncoding(d, d.Key, k.Encoding, "pem"); err != nil {
		return nil, err
	}
	pub, err := kmskeyring.ParseRSAPublicKey([]byte(k.Material))
	if err != nil {
		return nil, d.errorf("key %q: %v", d.Key, err)
	}
	if _, err := kmskeyring.NewRSA(nil, k.KeyID, d.EncryptionAlgorithm, func(o *kmskeyring.RSAOptions) { o.PublicKey = pub }); err != nil {
		return nil, d.errorf("key %q: %v", d.Key, err)
	}
	return nil, d.unsupported("%sthe keys file holds only the public key of %s; the KMS RSA keyring decrypts through AWS KMS", errNoAWSPrefix, k.KeyID)
}

// kmsECDH checks an aws-kms-ecdh description against its entry, as the
// MPL's vector harness reads it (static: the sender entry's KMS key and
// both public keys; discovery: the recipient entry's KMS key). Both
// schemas call KMS DeriveSharedSecret with a private key that lives in AWS
// KMS: the description is ErrUnsupported (it needs an AWS account) unless
// the entry is broken.
func (km *keyMaterial) kmsECDH(d *KeyDescription) (keyring.Keyring, error) {
	if d.Schema != "static" && d.Schema != "discovery" {
		return nil, d.errorf("schema %q: the KMS ECDH keyring has the static and discovery schemas", d.Schema)
	}
	entry := d.Recipient
	if d.Schema == "static" {
		entry = d.Sender
	}
	k, arn, err := km.kmsKey(d, entry, KeyDescKMSECDH)
	if err != nil {
		return nil, err
	}
	if d.Schema == "static" {
		for _, pub := range []string{k.SenderPublicKey, k.RecipientPublicKey} {
			der, err := base64.StdEncoding.DecodeString(pub)
			if err != nil {
				return nil, d.errorf("key %q: a public key is not base64", entry)
			}
			if _, err := keyring.ParseECDHPublicKey(der); err != nil {
				return nil, d.errorf("key %q: a public key is not a NIST P-256, P-384 or P-521 key in DER", entry)
			}
		}
	}
	return nil, d.unsupported("%sKMS DeriveSharedSecret with %s", errNoAWSPrefix, arn)
}

// kmsMRKDiscovery builds an MRK-aware discovery keyring of the
// description's default-mrk-region over the fake KMS servers of that
// region, which hold every aws-kms key of the keys file with material in
// that region, whatever their account.
func (km *keyMaterial) kmsMRKDiscovery(d *KeyDescription) (keyring.Keyring, error) {
	var filter *kmskeyring.DiscoveryFilter
	if f := d.DiscoveryFilter; f != nil {
		filter = &kmskeyring.DiscoveryFilter{Partition: f.Partition, AccountIDs: f.AccountIDs}
	}
	for _, name := range sortedKeys(km.keys) { // every key of the region a fake KMS can hold
		k := km.keys[name]
		arn, ok := keyARN(k.KeyID)
		if k.Type != KeyDescKMS || k.Material == "" || !ok || arn.Region != d.DefaultMRKRegion {
			continue
		}
		if _, err := km.serve(d, name, k, arn); err != nil {
			return nil, err
		}
	}
	kr, err := kmskeyring.NewMRKDiscovery(regionKMS{km, d.DefaultMRKRegion}, d.DefaultMRKRegion, filter)
	if err != nil {
		return nil, d.errorf("%v", err)
	}
	return kr, nil
}

// regionKMS is the fake KMS of one region for a discovery keyring: each
// call goes to the server of the key ARN's account. A key no fake KMS
// holds fails as AWS KMS would for a key of another account: not found.
type regionKMS struct {
	km     *keyMaterial
	region string
}

var errFakeKMSNotFound = errors.New("fake KMS: no such key in the region (NotFoundException)")

func (r regionKMS) client(op, keyID string) (cmp.KMSWithKeyARN, error) {
	arn, err := kmskeyring.ParseARN(keyID)
	if err == nil && arn.Region == r.region {
		r.km.mu.Lock()
		c, _ := r.km.clients[arn.Region+"/"+arn.Account].(cmp.KMSWithKeyARN)
		r.km.mu.Unlock()
		if c != nil {
			return c, nil
		}
	}
	return nil, &cmp.KMSError{Op: op, KeyID: keyID, Err: errFakeKMSNotFound}
}

func (r regionKMS) Region() string { return r.region }

func (r regionKMS) GenerateDataKey(ctx context.Context, keyID string, n int, ec map[string]string) ([]byte, []byte, error) {
	c, err := r.client("GenerateDataKey", keyID)
	if err != nil {
		return nil, nil, err
	}
	return c.GenerateDataKey(ctx, keyID, n, ec)
}

func (r regionKMS) GenerateDataKeyWithARN(ctx context.Context, keyID string, n int, ec map[string]string) ([]byte, []byte, string, error) {
	c, err := r.client("GenerateDataKey", keyID)
	if err != nil {
		return nil, nil, "", err
	}
	return c.GenerateDataKeyWithARN(ctx, keyID, n, ec)
}

func (r regionKMS) Decrypt(ctx context.Context, keyID string, blob []byte, ec map[string]string) ([]byte, error) {
	c, err := r.client("Decrypt", keyID)
	if err != nil {
		return nil, err
	}
	return c.Decrypt(ctx, keyID, blob, ec)
}

func (r regionKMS) DecryptWithARN(ctx context.Context, keyID string, blob []byte, ec map[string]string) ([]byte, string, error) {
	c, err := r.client("Decrypt", keyID)
	if err != nil {
		return nil, "", err
	}
	return c.DecryptWithARN(ctx, keyID, blob, ec)
}

func (r regionKMS) Encrypt(ctx context.Context, keyID string, plaintext []byte, ec map[string]string) ([]byte, error) {
	c, err := r.client("Encrypt", keyID)
	if err != nil {
		return nil, err
	}
	return c.Encrypt(ctx, keyID, plaintext, ec)
}

// fakeKMS returns the client of the fake KMS of the ARN's region and
// account, with the key created from material.
func (km *keyMaterial) fakeKMS(arn kmskeyring.ARN, keyARN string, material []byte) (c cmp.KMS, err error) {
	km.mu.Lock()
	defer km.mu.Unlock()
	if km.servers == nil {
		km.servers, km.clients, km.created = map[string]*kmstest.Server{}, map[string]cmp.KMS{}, map[string]bool{}
	}
	where := arn.Region + "/" + arn.Account
	srv, ok := km.servers[where]
	defer func() { // kmstest.New servers panic on invalid input
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("fake KMS: %v", r)
		}
	}()
	if !ok {
		srv = kmstest.New(func(o *kmstest.Options) { o.Region, o.AccountID = arn.Region, arn.Account })
		km.servers[where] = srv
		km.clients[where] = awskms.New(srv.Client())
	}
	if !km.created[keyARN] {
		srv.CreateKey(kmstest.WithKeyID(arn.ResourceID), kmstest.WithKeyMaterial(material))
		km.created[keyARN] = true
	}
	return km.clients[where], nil
}

// branchKey is the static branch key of a key description naming a
// static-branch-key entry (aws-kms-hierarchy, static-branch-key), or of
// static-branch-key-1 without one. Other descriptions are ErrUnsupported:
// beacons need a branch key.
func branchKey(keys map[string]DBESDKKey, desc json.RawMessage) (*hierarchy.BranchKey, error) {
	d := &KeyDescription{Type: KeyDescStaticBranchKey, Key: defaultBranchKeyName}
	if len(desc) > 0 {
		var err error
		if d, err = ParseKeyDescription(desc); err != nil {
			return nil, err
		}
	}
	switch d.Type {
	case KeyDescHierarchy, KeyDescStaticBranchKey, keyDescHierarchyAlias:
	default:
		return nil, d.unsupported("beacons need a hierarchical keyring")
	}
	k, ok := keys[d.Key]
	if !ok {
		return nil, d.errorf("key %q not in the keys file", d.Key)
	}
	return staticBranchKey(d, k)
}

// writeKeysFile writes outDir/keys.json: the keys file as read when there
// is one (so that every entry keeps all its members), else keys.
func writeKeysFile(outDir string, raw []byte, keys map[string]DBESDKKey) error {
	if raw == nil {
		b, err := json.MarshalIndent(map[string]any{"manifest": map[string]any{"type": "keys", "version": 2}, "keys": keys}, "", "  ")
		if err != nil {
			return err
		}
		raw = append(b, '\n')
	}
	return os.WriteFile(filepath.Join(outDir, "keys.json"), raw, 0o600) // key material, even if only test keys
}
