package itemcrypto

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/bufpool"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// Item is a DynamoDB item, the model every adapter maps onto.
type Item = map[string]types.AttributeValue

// EncryptionContext is what providers learn about an item.
type EncryptionContext = cmp.EncryptionContext

// Reserved attribute names written into every protected item.
const (
	MaterialDescriptionAttribute = actions.MaterialDescriptionAttribute
	SignatureAttribute           = actions.SignatureAttribute
)

// DefaultMaxItemSize is DynamoDB's item size limit.
const DefaultMaxItemSize = 400 * 1024

// Config is what an [Encryptor] protects: one table's items.
type Config struct {
	// TableName is bound into every signature; items cannot move to a table
	// of another name. Required.
	TableName string
	// Policy gives each attribute its action and names the key attributes.
	// Required.
	Policy *actions.Policy
	// Provider hands out the keys of the DDBEC format. Required for
	// FormatDDBEC, and for a DB-ESDK table whose LegacyPolicy reads or
	// writes DDBEC items.
	Provider cmp.Provider
	// Format is what Encrypt writes: FormatDDBEC (the zero value) or
	// FormatDBESDK. Decrypt reads the format from the item: a DB-ESDK item
	// (aws_dbe_head and aws_dbe_foot) needs DBESDK, a DDBEC item Provider.
	Format Format
	// DBESDK configures the AWS Database Encryption SDK format. Required
	// for FormatDBESDK; with FormatDDBEC it lets the encryptor read DB-ESDK
	// items too (a rollback of a migration).
	DBESDK *DBESDKConfig
}

// Options tune an [Encryptor]. The zero value is the default.
type Options struct {
	// Rand is the source of IVs. nil means crypto/rand; only known-answer
	// tests set it.
	Rand io.Reader
	// MaxItemSize bounds the protected item (attribute names plus
	// serialized values); 0 means DefaultMaxItemSize, negative no limit.
	// Encrypt checks it before it serializes anything or asks the provider.
	// Decrypt refuses, before anything else, a stored item whose signed
	// attributes add up to more than MaxItemSize by DynamoDB's own measure
	// (strings and binaries by their bytes, a number by about half its
	// significant digits): more than a store with this limit can hold.
	MaxItemSize int
	// WriteForm is the canonical form Encrypt signs in: FormDefault, or
	// FormJava / FormPython for a table whose other readers are old
	// clients that verify only their own form (see [Form]). Decrypt
	// accepts all three whatever this is.
	WriteForm Form
}

// Encryptor encrypts, signs, verifies and decrypts the items of one table.
// It is immutable and safe for concurrent use.
type Encryptor struct {
	table     string
	policy    *actions.Policy
	provider  cmp.Provider
	pk, sk    string
	tableHash [32]byte
	opts      Options
	format    Format
	dbesdk    *dbesdkState // nil without Config.DBESDK
}

// New validates cfg and returns an Encryptor.
func New(cfg Config, optFns ...func(*Options)) (*Encryptor, error) {
	if cfg.TableName == "" {
		return nil, errors.New("itemcrypto: Config.TableName is required")
	}
	if cfg.Policy == nil {
		return nil, errors.New("itemcrypto: Config.Policy is required")
	}
	if cfg.Policy.Default() == 0 {
		// A Policy literal: every action would be the zero Action.
		return nil, errors.New("itemcrypto: Config.Policy was not made by actions.New")
	}
	switch cfg.Format {
	case FormatDDBEC:
		if cfg.Provider == nil {
			return nil, errors.New("itemcrypto: Config.Provider is required for the DDBEC format")
		}
		if cfg.Policy.HasContext() {
			return nil, errors.New("itemcrypto: SignAndIncludeInEncryptionContext exists only in the DB-ESDK format (Config.Format)")
		}
	case FormatDBESDK:
		if cfg.DBESDK == nil {
			return nil, errors.New("itemcrypto: Config.DBESDK is required for the DB-ESDK format")
		}
	default:
		return nil, fmt.Errorf("itemcrypto: unknown Config.Format %d", cfg.Format)
	}
	var opts Options
	for _, fn := range optFns {
		fn(&opts)
	}
	if opts.Rand == nil {
		opts.Rand = crand.Reader
	}
	if opts.MaxItemSize == 0 {
		opts.MaxItemSize = DefaultMaxItemSize
	}
	e := &Encryptor{table: cfg.TableName, policy: cfg.Policy, provider: cfg.Provider, opts: opts, format: cfg.Format}
	if cfg.DBESDK != nil {
		var err error
		if e.dbesdk, err = newDBESDK(cfg, cfg.Policy, &e.opts); err != nil {
			return nil, err
		}
	}
	e.pk, e.sk = cfg.Policy.Keys()
	e.tableHash = tableHash(cfg.TableName)
	return e, nil
}

// TableName returns the table name bound into signatures.
func (e *Encryptor) TableName() string { return e.table }

// Policy returns the actions policy.
func (e *Encryptor) Policy() *actions.Policy { return e.policy }

var (
	hashEncrypted = sha256.Sum256([]byte("ENCRYPTED"))
	hashPlaintext = sha256.Sum256([]byte("PLAINTEXT"))
)

func tableHash(table string) [32]byte {
	return sha256.Sum256([]byte("TABLE>" + table + "<TABLE"))
}

// stsBuilder accumulates the string to sign.
type stsBuilder struct {
	sts []byte
	h   hash.Hash // pooled; give it back with done
}

var digestPool = sync.Pool{New: func() any { return sha256.New() }}

func newSTS(th [32]byte, n int) stsBuilder {
	b := stsBuilder{sts: make([]byte, 0, 32+96*n), h: digestPool.Get().(hash.Hash)}
	b.sts = append(b.sts, th[:]...)
	return b
}

func (b *stsBuilder) done() {
	b.h.Reset()
	digestPool.Put(b.h)
	b.h = nil
}

// add appends the three digests of one signed attribute whose serialized
// value is serialized.
func (b *stsBuilder) add(name string, encrypted bool, serialized []byte) {
	b.addName(name, encrypted)
	v := sha256.Sum256(serialized)
	b.sts = append(b.sts, v[:]...)
}

// addB is add for a B value, hashed in place without serializing a copy.
func (b *stsBuilder) addB(name string, encrypted bool, value []byte) {
	b.addName(name, encrypted)
	var hdr [6]byte
	hdr[1] = 'b'
	binary.BigEndian.PutUint32(hdr[2:], uint32(len(value)))
	b.h.Reset()
	b.h.Write(hdr[:])
	b.h.Write(value)
	b.sts = b.h.Sum(b.sts)
}

// addValue is add for any value, streamed into the digest through scratch
// (which holds at most a few KiB), however large its serialization.
func (b *stsBuilder) addValue(name string, encrypted bool, v types.AttributeValue, scratch []byte) ([]byte, error) {
	b.h.Reset()
	scratch, err := ddbserial.WriteTo(b.h, scratch, v)
	if err != nil {
		return scratch, err
	}
	b.addName(name, encrypted)
	b.sts = b.h.Sum(b.sts)
	return scratch, nil
}

func (b *stsBuilder) addName(name string, encrypted bool) {
	n := sha256.Sum256([]byte(name))
	b.sts = append(b.sts, n[:]...)
	if encrypted {
		b.sts = append(b.sts, hashEncrypted[:]...)
	} else {
		b.sts = append(b.sts, hashPlaintext[:]...)
	}
}

// sortedNames returns the attribute names of item in byte order.
func sortedNames(item Item) []string {
	names := make([]string, 0, len(item))
	for k := range item {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Encrypt returns the protected form of item: every EncryptAndSign attribute
// replaced by its ciphertext, the material description and the signature
// added. item is not modified. When the policy does nothing to any
// attribute, the item is returned as is (a shallow copy), unsigned.
func (e *Encryptor) Encrypt(ctx context.Context, item Item) (Item, error) {
	if !e.writesDDBEC() {
		return e.encryptDBESDK(ctx, item)
	}
	if e.dbesdk != nil && dbe.IsItem(item) {
		return nil, &AttributeError{Name: dbe.HeaderAttribute, Err: ErrReservedAttribute}
	}
	return e.encryptDDBEC(ctx, item)
}

func (e *Encryptor) encryptDDBEC(ctx context.Context, item Item) (Item, error) {
	if e.policy.NoOp() {
		return maps.Clone(item), nil
	}
	for _, name := range []string{MaterialDescriptionAttribute, SignatureAttribute} {
		if _, ok := item[name]; ok {
			return nil, &AttributeError{Name: name, Action: actions.DoNothing, Err: ErrReservedAttribute}
		}
	}
	for _, k := range []string{e.pk, e.sk} {
		if k == "" {
			continue
		}
		if _, ok := item[k]; !ok {
			return nil, &AttributeError{Name: k, Action: e.policy.Action(k), Err: ErrMissingKeyAttribute}
		}
	}
	names := sortedNames(item)
	serialized, err := e.checkPlaintext(item, names)
	if err != nil {
		return nil, err
	}
	mat, err := e.provider.EncryptionMaterials(ctx, cmp.EncryptionContext{
		TableName: e.table, PartitionKeyName: e.pk, SortKeyName: e.sk, Attributes: item,
	})
	if err != nil {
		return nil, fmt.Errorf("itemcrypto: encryption materials: %w", err)
	}
	if mat == nil || mat.SigningKey() == nil {
		return nil, errors.New("itemcrypto: provider returned no encryption materials (build them with cmp.NewEncryptionMaterials)")
	}
	encKey := mat.EncryptionKey()
	sortForm(names, serialized, e.opts.WriteForm)
	out := make(Item, len(item)+2)
	sts := newSTS(e.tableHash, len(names))
	defer sts.done()
	sp, scratch := bufpool.Get()
	defer func() { bufpool.Put(sp, scratch) }()
	size := 0
	for i, name := range names {
		v := item[name]
		a := e.policy.Action(name)
		if a == actions.DoNothing {
			out[name] = v
			size += serialized[i]
			continue
		}
		scratch, err = appendSigned(slices.Grow(scratch[:0], serialized[i]), v, a, e.opts.WriteForm)
		if err != nil {
			return nil, valueError(name, a, err)
		}
		if a == actions.EncryptAndSign {
			if encKey == nil {
				return nil, &AttributeError{Name: name, Action: a, Err: ErrNoEncryptionKey}
			}
			ct, err := encKey.AppendEncryptCBC(nil, e.opts.Rand, scratch)
			if err != nil {
				return nil, fmt.Errorf("itemcrypto: encrypting: %w", err)
			}
			out[name] = &types.AttributeValueMemberB{Value: ct}
			size += len(name) + 6 + len(ct)
			sts.addB(name, true, ct)
		} else {
			out[name] = v
			size += len(name) + len(scratch)
			sts.add(name, false, scratch)
		}
	}
	signer := mat.SigningKey()
	sig, err := signer.Sign(e.opts.Rand, sts.sts)
	if err != nil {
		return nil, fmt.Errorf("itemcrypto: signing: %w", err)
	}
	extra := make([]materialdesc.Entry, 0, 2)
	if encKey != nil {
		extra = append(extra, materialdesc.Entry{Key: materialdesc.KeySymMode, Value: materialdesc.SymModeCBC})
	}
	if alg := signer.Algorithm(); alg != "" {
		extra = append(extra, materialdesc.Entry{Key: materialdesc.KeySigningAlg, Value: alg})
	}
	descBytes := mat.Description().AppendEncodeWith(nil, extra...)
	size += len(MaterialDescriptionAttribute) + len(descBytes) + len(SignatureAttribute) + len(sig)
	if e.opts.MaxItemSize > 0 && size > e.opts.MaxItemSize {
		return nil, fmt.Errorf("%w: %d bytes protected, limit %d", ErrItemTooLarge, size, e.opts.MaxItemSize)
	}
	out[MaterialDescriptionAttribute] = &types.AttributeValueMemberB{Value: descBytes}
	out[SignatureAttribute] = &types.AttributeValueMemberB{Value: sig}
	return out, nil
}

// checkPlaintext checks every attribute of a plaintext item (names sorted)
// before anything is expanded, serialized or sent to the provider: each
// signed value must serialize (no nil or typed-nil member anywhere, numbers
// in DynamoDB's range, no empty set, at most 32 levels), a DoNothing value
// must be one a store can hold (no nil member, at most 32 levels), and the
// protected item must fit Options.MaxItemSize. It returns, per name, the serialized size of
// a signed value or the stored size of a DoNothing attribute (name
// included).
func (e *Encryptor) checkPlaintext(item Item, names []string) ([]int, error) {
	sizes := make([]int, len(names))
	total := 0
	for i, name := range names {
		a := e.policy.Action(name)
		measure := ddbserial.Measure
		if a == actions.DoNothing {
			measure = ddbserial.MeasureLoose // stored as is: the store judges it
		}
		s, err := measure(item[name])
		if err != nil {
			return nil, valueError(name, a, err)
		}
		switch a {
		case actions.DoNothing:
			sizes[i] = len(name) + s.Stored
			total += sizes[i]
		case actions.EncryptAndSign:
			sizes[i] = s.Serialized
			total += len(name) + 6 + cbcLen(s.Serialized)
		default:
			sizes[i] = s.Serialized
			total += len(name) + s.Serialized
		}
		if e.opts.MaxItemSize > 0 && total > e.opts.MaxItemSize {
			return nil, &AttributeError{Name: name, Action: a, Err: ErrItemTooLarge}
		}
	}
	return sizes, nil
}

// cbcLen is the length of the AES-CBC ciphertext (IV, PKCS #7 padding) of n
// bytes.
func cbcLen(n int) int { return 16 + (n/16+1)*16 }

// Decrypt verifies item's signature and returns its plaintext, without the
// material description and signature attributes. item is not modified.
//
// Every failure of authenticity returns an error matching
// [ErrAuthentication] and a nil item; nothing is decrypted before the
// signature has been verified. Where the unsigned material description
// decided the failure (an unsupported version or algorithm, another
// provider's item), the error also matches that cause, e.g.
// [ErrUnsupportedVersion] or cmp.ErrNoMaterials: tampering with the
// description and a misconfigured reader look the same. Errors of the
// provider's own (a KMS that cannot be reached) are returned wrapped. Items are read with the reader's own policy:
// it must give every stored attribute the action the writer gave it.
//
// With a DB-ESDK configuration the item's own attributes say its format: a
// DB-ESDK item is verified and decrypted with the keyring, a DDBEC item with
// the provider when the configuration reads DDBEC items, and an item with
// neither is returned as it is only under a plaintext policy that allows
// it; any other case is an error matching both [ErrAuthentication] (the
// item may have lost its header) and [ErrFormatNotAllowed].
//
// DDBEC items of the Java and the Python reference clients verify, each in its own
// canonical form (see [Form]): when the default form fails and the item
// holds a signed value whose form differs between them, Decrypt verifies once
// in each of their forms. Numbers are returned as stored, where a Python
// reader would return -0 as -0 and 29-38-digit numbers rounded to 28 digits.
func (e *Encryptor) Decrypt(ctx context.Context, item Item) (Item, error) {
	if err := halfDBESDKItem(item); err != nil {
		return nil, err
	}
	if e.dbesdk == nil {
		if dbe.IsItem(item) {
			return nil, authError{classErr{errors.New("a DB-ESDK item (aws_dbe_head, aws_dbe_foot), and this Encryptor reads only the DDBEC format: configure Format: FormatDBESDK with a DBESDK configuration (and LegacyPolicy ForbidLegacyEncryptAllowLegacyDecrypt to read DDBEC items too)"), ErrFormatNotAllowed}}
		}
		return e.decryptDDBEC(ctx, item)
	}
	switch {
	case dbe.IsItem(item):
		return e.decryptDBESDK(ctx, item)
	case isDDBECItem(item):
		if !e.readsDDBEC() {
			return nil, authError{classErr{fmt.Errorf("a DDBEC item (%s, %s), and LegacyPolicy is %s: set DBESDKConfig.LegacyPolicy to ForbidLegacyEncryptAllowLegacyDecrypt with a Provider to read it", SignatureAttribute, MaterialDescriptionAttribute, e.dbesdk.legacy), ErrFormatNotAllowed}}
		}
		return e.decryptDDBEC(ctx, item)
	case e.dbesdk.plaintext != ForbidPlaintextWriteForbidPlaintextRead:
		return maps.Clone(item), nil
	case e.format == FormatDDBEC:
		return e.decryptDDBEC(ctx, item)
	}
	// Not encrypted in either format: the same ErrNotEncrypted as the DDBEC
	// reader's, plus the policy that refuses it.
	return nil, authError{classErr{fmt.Errorf("%w: a plaintext item (no aws_dbe_head/aws_dbe_foot, no DDBEC signature), and PlaintextPolicy is %s", ErrFormatNotAllowed, e.dbesdk.plaintext), ErrNotEncrypted}}
}

// halfDBESDKItem refuses an item with one of the DB-ESDK's header and footer
// but not the other: a damaged encrypted item, never a plaintext one (the
// DB-ESDK reads an item as plaintext only when it has neither).
func halfDBESDKItem(item Item) error {
	_, h := item[dbe.HeaderAttribute]
	_, f := item[dbe.FooterAttribute]
	if h == f {
		return nil
	}
	missing := dbe.FooterAttribute
	if f {
		missing = dbe.HeaderAttribute
	}
	return authError{errors.New("a damaged DB-ESDK item: " + missing + " is missing")}
}

func (e *Encryptor) decryptDDBEC(ctx context.Context, item Item) (Item, error) {
	if e.policy.NoOp() {
		return maps.Clone(item), nil
	}
	sigAV, ok := item[SignatureAttribute].(*types.AttributeValueMemberB)
	if !ok || sigAV == nil {
		return nil, missingSignature(item)
	}
	if err := e.checkStored(item); err != nil {
		return nil, err
	}
	var desc materialdesc.Description
	if dv, present := item[MaterialDescriptionAttribute]; present {
		db, ok := dv.(*types.AttributeValueMemberB)
		if !ok || db == nil {
			return nil, ErrAuthentication
		}
		var err error
		if desc, err = materialdesc.Decode(db.Value); err != nil {
			return nil, authError{err}
		}
	} else {
		desc = materialdesc.Description{}
	}
	mat, err := e.provider.DecryptionMaterials(ctx, cmp.EncryptionContext{
		TableName: e.table, PartitionKeyName: e.pk, SortKeyName: e.sk, Attributes: item, MaterialDescription: desc,
	})
	if err != nil {
		switch {
		case errors.Is(err, ErrAuthentication):
			return nil, ErrAuthentication
		case errors.Is(err, cmp.ErrNoMaterials), errors.Is(err, cmp.ErrUnsupportedAlgorithm):
			// Decided by the unsigned description: tampering looks the same.
			return nil, authError{err}
		}
		return nil, fmt.Errorf("itemcrypto: decryption materials: %w", err)
	}
	if mat == nil || mat.VerificationKey() == nil {
		return nil, errors.New("itemcrypto: provider returned no decryption materials (build them with cmp.NewDecryptionMaterials)")
	}
	sts, encrypted, err := stringToSign(e.tableHash, item, e.policy)
	if err != nil {
		return nil, ErrAuthentication
	}
	vk, alg := mat.VerificationKey(), desc[materialdesc.KeySigningAlg]
	if err := vk.Verify(sts, sigAV.Value, alg); err != nil && !e.verifiesAsOtherWriter(item, vk, sigAV.Value, alg) {
		return nil, ErrAuthentication
	}
	out := make(Item, len(item))
	for name, v := range item {
		if !actions.IsReserved(name) {
			out[name] = v
		}
	}
	if encrypted == 0 {
		return out, nil
	}
	key := mat.DecryptionKey()
	if key == nil {
		return nil, ErrNoEncryptionKey
	}
	if mode := desc[materialdesc.KeySymMode]; mode != materialdesc.SymModeCBC {
		return nil, authError{fmt.Errorf("%w: %s", cmp.ErrUnsupportedAlgorithm, materialdesc.KeySymMode)}
	}
	for name, v := range item {
		if actions.IsReserved(name) || e.policy.Action(name) != actions.EncryptAndSign {
			continue
		}
		ct, ok := v.(*types.AttributeValueMemberB)
		if !ok || ct == nil {
			clearItem(out)
			return nil, ErrAuthentication
		}
		pt, err := key.DecryptCBC(ct.Value)
		if err != nil {
			clearItem(out)
			return nil, ErrAuthentication
		}
		pv, err := ddbserial.UnmarshalOwned(pt) // binary values alias pt: no second copy
		if err != nil {
			clear(pt)
			clearItem(out)
			return nil, ErrAuthentication
		}
		out[name] = pv
	}
	return out, nil
}

// checkStored bounds the work of verifying a stored item before any of it
// is expanded or handed to the provider: every encrypted attribute must be a
// binary value, every signed one must serialize (a nil or typed-nil member,
// a number outside DynamoDB's range, ...: an error matching
// ErrAuthentication and naming the attribute), and the signed attributes
// must add up, by DynamoDB's own measure, to at most Options.MaxItemSize:
// more than DynamoDB can store.
func (e *Encryptor) checkStored(item Item) error {
	total := 0
	for name, v := range item {
		a := e.policy.Action(name)
		if actions.IsReserved(name) || a == actions.DoNothing {
			continue
		}
		if bv, ok := v.(*types.AttributeValueMemberB); ok && bv != nil {
			total += len(name) + len(bv.Value)
			continue
		}
		if a == actions.EncryptAndSign {
			return ErrAuthentication // a ciphertext is always binary
		}
		s, err := ddbserial.Measure(v)
		if err != nil {
			return authError{valueError(name, a, err)}
		}
		total += len(name) + s.Stored
	}
	if e.opts.MaxItemSize > 0 && total > e.opts.MaxItemSize {
		return authError{fmt.Errorf("%w: signed attributes of %d bytes or more, limit %d", ErrItemTooLarge, total, e.opts.MaxItemSize)}
	}
	return nil
}

// clearItem drops every entry so a failed decrypt leaks nothing through a
// retained reference.
func clearItem(m Item) { clear(m) }

// StringToSign returns the bytes the signature of item covers (spec §5.1):
// the table name and every signed attribute's name, action and serialized
// value, reserved attributes excluded. item must be in its stored form
// (ciphertexts in place of encrypted values).
//
// This is a low-level function that most users won't need; it is here to
// debug interoperability.
func StringToSign(tableName string, item Item, policy *actions.Policy) ([]byte, error) {
	sts, _, err := stringToSign(tableHash(tableName), item, policy)
	return sts, err
}

// stringToSign also counts the EncryptAndSign attributes of item. Values
// are streamed into their digests: memory stays a few KiB whatever they
// expand to.
func stringToSign(th [32]byte, item Item, policy *actions.Policy) (sts []byte, encrypted int, err error) {
	names := sortedNames(item)
	b := newSTS(th, len(names))
	defer b.done()
	sp, scratch := bufpool.Get()
	defer func() { bufpool.Put(sp, scratch) }()
	for _, name := range names {
		a := policy.Action(name)
		if actions.IsReserved(name) || a == actions.DoNothing {
			continue
		}
		if a == actions.EncryptAndSign {
			encrypted++
		}
		if bv, ok := item[name].(*types.AttributeValueMemberB); ok && bv != nil {
			b.addB(name, a == actions.EncryptAndSign, bv.Value)
			continue
		}
		if scratch, err = b.addValue(name, a == actions.EncryptAndSign, item[name], scratch); err != nil {
			return nil, 0, valueError(name, a, err)
		}
	}
	return b.sts, encrypted, nil
}
