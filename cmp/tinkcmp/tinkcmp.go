package tinkcmp

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/core/registry"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// Values of amzn-ddb-wrap-alg written by this package. They name the whole
// scheme: a 64-byte item secret (AES-256 content key, then HMAC-SHA256 key)
// encrypted with a Tink AEAD under the associated data described in the
// package documentation.
const (
	// WrapAlgKeyset marks items whose secret a Tink keyset wrapped: the
	// wrapped key starts with Tink's 5-byte output prefix, which names the
	// keyset key.
	WrapAlgKeyset = "itemcrypto-tink-aead-v1"
	// WrapAlgKMS marks items whose secret a KMS key wrapped directly: the
	// wrapped key is the KMS's own ciphertext.
	WrapAlgKMS = "itemcrypto-tink-kms-v1"
)

const (
	contentKeyAlg  = "AES/256"    // amzn-ddb-env-alg
	signingAlg     = "HmacSHA256" // amzn-ddb-map-signingAlg (written by itemcrypto)
	contentKeySize = 32
	macKeySize     = 32
	secretSize     = contentKeySize + macKeySize
	// maxWrappedKey bounds the decoded amzn-ddb-env-key: a keyset ciphertext
	// is under 128 bytes, an AWS KMS ciphertext blob at most 6144.
	maxWrappedKey = 8 << 10
	// Tink output prefixes: 1 version byte, then the 4-byte key ID.
	prefixSize   = 5
	prefixTink   = 0x01
	prefixLegacy = 0x00 // LEGACY and CRUNCHY
	prefixNone   = 0xff // RAW keys: no prefix (our own marker, never compared with ciphertext)
)

// Options configure a Provider. Most providers need none.
type Options struct {
	// IsServiceError classifies the errors of a KMS Decrypt, for providers
	// made by [NewKMS] and [NewKMSClient]. It reports whether err is a
	// failure of the service (unreachable, throttled, access denied, a
	// disabled KMS key) rather than its refusal of the wrapped key. Service
	// failures are returned as a [*KMSError]; every other Decrypt error is
	// a refusal and matches [cmp.ErrAuthentication]. nil, the default,
	// counts only context errors as service failures: Tink's KMS clients
	// return the SDKs' errors, so with AWS KMS, for example, pass a function
	// that is true unless errors.As finds a *types.InvalidCiphertextException.
	// Keyset providers ignore it.
	IsServiceError func(err error) bool
}

// Provider is a [cmp.Provider] that makes a fresh content key and signing
// key for every item and wraps them with a Tink AEAD. Make one with [New],
// [NewFromEncryptedKeyset], [NewKMS] or [NewKMSClient]. It is safe for
// concurrent use, and copies of a Provider share its state.
type Provider struct {
	// Behind a pointer: copies share the keyset, and no way of printing a
	// Provider reaches past its Format method.
	s *state
}

type state struct {
	wrapAlg        string
	keyset         atomic.Pointer[keysetState] // keyset sources
	kms            tink.AEADWithContext        // KMS sources
	isServiceError func(error) bool
}

// keysetState is one keyset: its AEAD primitive (enabled keys only) and
// what is public about its keys.
type keysetState struct {
	aead    tink.AEAD
	primary uint32
	keys    map[uint32]keyInfo
}

type keyInfo struct {
	status keyset.KeyStatus
	prefix byte // prefixTink, prefixLegacy or prefixNone
}

var _ cmp.Provider = (*Provider)(nil)

func newProvider(optFns []func(*Options)) *Provider {
	var opts Options
	for _, fn := range optFns {
		fn(&opts)
	}
	return &Provider{s: &state{isServiceError: opts.IsServiceError}}
}

// New returns a provider whose items' keys are wrapped by the AEAD keys of
// handle: new items by its primary key, and items under any enabled key
// are read. The primary key must have Tink's output prefix (the key
// templates without "NoPrefix" in their name, such as
// aead.AES256GCMKeyTemplate()), so that each item names its key. The
// keyset is used locally: no call does I/O, and contexts are not consulted.
//
// Rotate with [keyset.Manager] and hand the new handle to
// [Provider.SetKeyset]. Get handle from an encrypted keyset
// ([NewFromEncryptedKeyset] reads one), never from a cleartext file outside
// tests.
func New(handle *keyset.Handle, optFns ...func(*Options)) (*Provider, error) {
	p := newProvider(optFns)
	p.s.wrapAlg = WrapAlgKeyset
	if err := p.SetKeyset(handle); err != nil {
		return nil, err
	}
	return p, nil
}

// NewFromEncryptedKeyset reads a keyset that r holds encrypted under kek
// (normally a KMS key; associatedData as it was written with
// [keyset.Handle.WriteWithContext]) and returns [New] of it. ctx bounds the
// one call to kek. To pick up a rotated keyset, read it again with
// [keyset.ReadWithContext] and call [Provider.SetKeyset].
func NewFromEncryptedKeyset(ctx context.Context, r keyset.Reader, kek tink.AEADWithContext, associatedData []byte, optFns ...func(*Options)) (*Provider, error) {
	if r == nil || kek == nil {
		return nil, errors.New("tinkcmp: NewFromEncryptedKeyset needs a reader and a key-encryption AEAD")
	}
	handle, err := keyset.ReadWithContext(ctx, r, kek, associatedData)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tinkcmp: reading encrypted keyset: %w", ctx.Err())
		}
		return nil, fmt.Errorf("tinkcmp: reading encrypted keyset: %v", err)
	}
	return New(handle, optFns...)
}

// NewKMS returns a provider whose items' keys kek wraps directly: one call
// to the KMS for every item written and every item read. Use it with a
// [tink.AEADWithContext] of a Tink KMS extension, or fakekms in tests.
// Rotation is the KMS's business (AWS KMS and Cloud KMS rotate key
// versions behind one key name); [Provider.SetKeyset] does not apply.
func NewKMS(kek tink.AEADWithContext, optFns ...func(*Options)) (*Provider, error) {
	if kek == nil {
		return nil, errors.New("tinkcmp: NewKMS needs a key-encryption AEAD")
	}
	p := newProvider(optFns)
	p.s.wrapAlg = WrapAlgKMS
	p.s.kms = kek
	return p, nil
}

// NewKMSClient is [NewKMS] with the AEAD that client returns for keyURI
// (client.GetAEAD). No global registry is involved: pass the client of a
// Tink KMS extension, such as
//
//   - tink-go-awskms: awskms.NewClientWithOptions(ctx, "aws-kms://arn:aws:kms:…")
//   - tink-go-gcpkms: gcpkms.NewClientWithOptions(ctx, "gcp-kms://projects/…")
//   - tink-go-hcvault: hcvault.NewClient("hcvault://vault.example.com/…", tlsConfig, token)
//
// or fakekms.NewClient in tests. When the AEAD does not take a context
// itself (most KMS clients' GetAEAD return a plain [tink.AEAD]), a done
// context is honoured before each call, not during it.
func NewKMSClient(client registry.KMSClient, keyURI string, optFns ...func(*Options)) (*Provider, error) {
	if client == nil {
		return nil, errors.New("tinkcmp: NewKMSClient needs a KMS client")
	}
	if !client.Supported(keyURI) {
		// Never quote the URI: fake KMS URIs hold their key.
		return nil, errors.New("tinkcmp: the KMS client does not support the key URI")
	}
	a, err := client.GetAEAD(keyURI)
	if err != nil {
		return nil, fmt.Errorf("tinkcmp: KMS client: %v", err)
	}
	if a == nil {
		return nil, errors.New("tinkcmp: the KMS client returned no AEAD")
	}
	if ac, ok := a.(tink.AEADWithContext); ok {
		return NewKMS(ac, optFns...)
	}
	return NewKMS(contextAEAD{a}, optFns...)
}

// contextAEAD checks the context before each call of an AEAD that takes none.
type contextAEAD struct{ a tink.AEAD }

func (c contextAEAD) EncryptWithContext(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.a.Encrypt(plaintext, associatedData)
}

func (c contextAEAD) DecryptWithContext(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.a.Decrypt(ciphertext, associatedData)
}

// SetKeyset replaces the keyset of a provider made by [New] or
// [NewFromEncryptedKeyset], for example after [keyset.Manager] rotated the
// primary key or disabled a key: new items are then wrapped by the new
// primary key, and the key statuses that decide [*KeyDisabledError] and
// [*UnknownKeyError] are those of handle. Calls already under way finish
// with the keyset they started with. handle is validated as in [New]; on
// error the provider keeps its keyset.
func (p *Provider) SetKeyset(handle *keyset.Handle) error {
	if p.s.wrapAlg != WrapAlgKeyset {
		return errors.New("tinkcmp: SetKeyset on a provider without a keyset (made by NewKMS)")
	}
	ks, err := newKeysetState(handle)
	if err != nil {
		return err
	}
	p.s.keyset.Store(ks)
	return nil
}

func newKeysetState(handle *keyset.Handle) (*keysetState, error) {
	if handle == nil || handle.Len() == 0 {
		return nil, fmt.Errorf("%w: empty keyset", cmp.ErrInvalidKey)
	}
	info := handle.KeysetInfo() // no key material
	ks := &keysetState{primary: info.GetPrimaryKeyId(), keys: make(map[uint32]keyInfo, len(info.GetKeyInfo()))}
	for _, k := range info.GetKeyInfo() {
		ki := keyInfo{prefix: prefixNone}
		switch k.GetStatus() {
		case tinkpb.KeyStatusType_ENABLED:
			ki.status = keyset.Enabled
		case tinkpb.KeyStatusType_DISABLED:
			ki.status = keyset.Disabled
		case tinkpb.KeyStatusType_DESTROYED:
			ki.status = keyset.Destroyed
		}
		switch k.GetOutputPrefixType() {
		case tinkpb.OutputPrefixType_TINK:
			ki.prefix = prefixTink
		case tinkpb.OutputPrefixType_LEGACY, tinkpb.OutputPrefixType_CRUNCHY:
			ki.prefix = prefixLegacy
		}
		ks.keys[k.GetKeyId()] = ki
	}
	if ks.keys[ks.primary].prefix != prefixTink {
		return nil, fmt.Errorf("%w: the primary key must use Tink's output prefix (a key template without NoPrefix), so that items name their key", cmp.ErrUnsupportedAlgorithm)
	}
	a, err := aead.New(handle)
	if err != nil {
		return nil, fmt.Errorf("%w: not an AEAD keyset: %v", cmp.ErrInvalidKey, err)
	}
	ks.aead = a
	return ks, nil
}

// associatedData is the canonical encoding that binds a wrapped item secret
// to its scheme, table and primary key (see the package documentation):
//
//	LV(wrapAlg) || LV(table) || uint32(n) || n × (LV(name) || ddbserial(value))
//
// with LV(x) = uint32 big-endian length || x, the partition key first and
// the sort key, when the table has one, second.
func associatedData(wrapAlg string, ec cmp.EncryptionContext) ([]byte, error) {
	names := []string{ec.PartitionKeyName}
	if ec.SortKeyName != "" {
		names = append(names, ec.SortKeyName)
	}
	ad := make([]byte, 0, 128)
	ad = appendLV(ad, wrapAlg)
	ad = appendLV(ad, ec.TableName)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(names)))
	for _, name := range names {
		v, ok := ec.Attributes[name]
		if name == "" || !ok {
			return nil, fmt.Errorf("tinkcmp: key attribute %q missing: the wrapped key is bound to the item's primary key", name)
		}
		ad = appendLV(ad, name)
		var err error
		if ad, err = ddbserial.Append(ad, v); err != nil {
			return nil, fmt.Errorf("tinkcmp: key attribute %q: %w", name, err)
		}
	}
	return ad, nil
}

func appendLV(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// EncryptionMaterials makes a fresh 64-byte item secret (an AES-256 content
// key and an HMAC-SHA256 key) and wraps it under the keyset's primary key or
// the KMS key, bound to the table name and the item's primary key.
func (p *Provider) EncryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
	ad, err := associatedData(p.s.wrapAlg, ec)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, secretSize)
	defer clear(secret)
	if _, err := io.ReadFull(crand.Reader, secret); err != nil {
		return nil, fmt.Errorf("tinkcmp: generating item keys: %w", err)
	}
	var wrapped []byte
	if ks := p.s.keyset.Load(); ks != nil {
		if wrapped, err = ks.aead.Encrypt(secret, ad); err != nil {
			return nil, fmt.Errorf("tinkcmp: wrapping item keys: %v", err)
		}
	} else {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if wrapped, err = p.s.kms.EncryptWithContext(ctx, secret, ad); err != nil {
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = ctx.Err()
			}
			return nil, &KMSError{Op: "Encrypt", Err: err}
		}
	}
	return materials(secret, func(enc *cmp.AESKey, mac *cmp.HMACKey) (*cmp.EncryptionMaterials, error) {
		return cmp.NewEncryptionMaterials(enc, mac, materialdesc.Description{
			materialdesc.KeyWrapAlg:     p.s.wrapAlg,
			materialdesc.KeyEnvelopeKey: base64.StdEncoding.EncodeToString(wrapped),
			materialdesc.KeyEnvelopeAlg: contentKeyAlg,
		})
	})
}

// materials splits secret into the item's keys (copies) and passes them to
// build.
func materials[M any](secret []byte, build func(*cmp.AESKey, *cmp.HMACKey) (*M, error)) (*M, error) {
	enc, err := cmp.NewAESKey(secret[:contentKeySize])
	if err != nil {
		return nil, err
	}
	mac, err := cmp.NewHMACKey(signingAlg, secret[contentKeySize:])
	if err != nil {
		return nil, err
	}
	return build(enc, mac)
}

// DecryptionMaterials unwraps the item's keys. It returns an error matching
//   - [cmp.ErrNoMaterials] when the description is not one this provider
//     writes (another wrapping algorithm, or none), and a [*UnknownKeyError]
//     (which also matches [cmp.ErrNoMaterials]) when the item names a key
//     that is not in the keyset;
//   - [ErrKeyDisabled], as a [*KeyDisabledError], when the item names a key
//     that the keyset holds but has disabled;
//   - [cmp.ErrAuthentication] when the wrapped key does not authenticate
//     (tampered, or the item moved to another table or primary key);
//   - [cmp.ErrUnsupportedAlgorithm] for a content key algorithm other than
//     AES/256;
//   - a [*KMSError] when [Options].IsServiceError says the KMS failed, and
//     ctx's error when ctx is done before or during a KMS call.
func (p *Provider) DecryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
	d := ec.MaterialDescription
	if d[materialdesc.KeyWrapAlg] != p.s.wrapAlg {
		return nil, cmp.ErrNoMaterials
	}
	envKey, ok := d[materialdesc.KeyEnvelopeKey]
	if !ok {
		return nil, cmp.ErrNoMaterials
	}
	if d[materialdesc.KeyEnvelopeAlg] != contentKeyAlg {
		return nil, fmt.Errorf("%w: %s must be %s", cmp.ErrUnsupportedAlgorithm, materialdesc.KeyEnvelopeAlg, contentKeyAlg)
	}
	if base64.StdEncoding.DecodedLen(len(envKey)) > maxWrappedKey {
		return nil, cmp.ErrAuthentication
	}
	wrapped, err := base64.StdEncoding.DecodeString(envKey)
	if err != nil || len(wrapped) == 0 {
		return nil, cmp.ErrAuthentication
	}
	ad, err := associatedData(p.s.wrapAlg, ec)
	if err != nil {
		return nil, cmp.ErrAuthentication // a stored item without its keys cannot be authentic
	}
	var secret []byte
	if ks := p.s.keyset.Load(); ks != nil {
		if secret, err = ks.aead.Decrypt(wrapped, ad); err != nil {
			return nil, ks.classify(wrapped)
		}
	} else {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if secret, err = p.s.kms.DecryptWithContext(ctx, wrapped, ad); err != nil {
			return nil, p.s.kmsDecryptError(ctx, err)
		}
	}
	defer clear(secret)
	if len(secret) != secretSize {
		return nil, cmp.ErrAuthentication
	}
	return materials(secret, func(enc *cmp.AESKey, mac *cmp.HMACKey) (*cmp.DecryptionMaterials, error) {
		return cmp.NewDecryptionMaterials(enc, mac)
	})
}

// classify explains why the keyset could not unwrap a key, from the key ID
// in the ciphertext's output prefix.
func (ks *keysetState) classify(wrapped []byte) error {
	id, ok := prefixKeyID(wrapped)
	if !ok {
		return cmp.ErrAuthentication
	}
	k, found := ks.keys[id]
	switch {
	case !found || k.prefix != wrapped[0]:
		return &UnknownKeyError{KeyID: id}
	case k.status != keyset.Enabled:
		return &KeyDisabledError{KeyID: id, Status: k.status}
	}
	return cmp.ErrAuthentication
}

// prefixKeyID returns the key ID of a Tink output prefix.
func prefixKeyID(ct []byte) (uint32, bool) {
	if len(ct) < prefixSize || (ct[0] != prefixTink && ct[0] != prefixLegacy) {
		return 0, false
	}
	return binary.BigEndian.Uint32(ct[1:prefixSize]), true
}

func (s *state) kmsDecryptError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return &KMSError{Op: "Decrypt", Err: ctx.Err()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &KMSError{Op: "Decrypt", Err: err}
	case s.isServiceError != nil && s.isServiceError(err):
		return &KMSError{Op: "Decrypt", Err: err}
	}
	return refusal{err}
}

// refusal is the KMS's refusal of a wrapped key: it matches
// cmp.ErrAuthentication, and the KMS's error stays reachable for errors.As.
type refusal struct{ err error }

func (e refusal) Error() string   { return cmp.ErrAuthentication.Error() }
func (e refusal) Unwrap() []error { return []error{cmp.ErrAuthentication, e.err} }

// KeyID returns the ID of the keyset key that wrapped an item's keys, read
// from the item's material description (amzn-ddb-env-key of an item written
// by a keyset provider). It does no cryptography and the description is not
// authenticated: use it to find items to re-encrypt after a rotation, not to
// decide trust.
func KeyID(d materialdesc.Description) (uint32, bool) {
	if d[materialdesc.KeyWrapAlg] != WrapAlgKeyset {
		return 0, false
	}
	b, err := base64.StdEncoding.DecodeString(d[materialdesc.KeyEnvelopeKey])
	if err != nil {
		return 0, false
	}
	return prefixKeyID(b)
}

// String, GoString, Format, LogValue and MarshalJSON describe the
// provider's source and never show key material, the keyset, or a KMS key
// URI (a fake KMS URI holds its key). For a keyset they show the primary
// key ID and the number of keys, which Tink also treats as public
// (keyset.Handle.String).
func (p Provider) String() string                { return p.redacted().String() }
func (p Provider) GoString() string              { return p.redacted().GoString() }
func (p Provider) Format(f fmt.State, verb rune) { p.redacted().Format(f, verb) }
func (p Provider) LogValue() slog.Value          { return p.redacted().LogValue() }
func (p Provider) MarshalJSON() ([]byte, error)  { return p.redacted().MarshalJSON() }
func (p Provider) redacted() redact.Text {
	if p.s == nil {
		return "tinkcmp.Provider{}"
	}
	if ks := p.s.keyset.Load(); ks != nil {
		return redact.Text(fmt.Sprintf("tinkcmp.Provider{keyset, primary key %d of %d}", ks.primary, len(ks.keys)))
	}
	return "tinkcmp.Provider{KMS}"
}
