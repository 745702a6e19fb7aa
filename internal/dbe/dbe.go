// Package dbe encrypts and decrypts one DynamoDB item in the AWS Database
// Encryption SDK format (structured encryption, specification
// dynamodb-encryption-client/encrypt-item.md and decrypt-item.md, and
// structured-encryption/encrypt-path-structure.md and
// decrypt-path-structure.md). The public API is itemcrypto.Encryptor; this
// package is its DB-ESDK half.
//
// Decrypt verifies the header commitment, a recipient tag and (suite
// 0x6701) the ECDSA signature before it decrypts anything; every failure of
// authenticity is cmp.ErrAuthentication and returns no item.
//
// Bounds on untrusted input: the header and footer parsers (packages header
// and footer) and the value parser (ddbattr) each allocate at most a
// constant times their input plus a constant; Decrypt as a whole allocates
// at most 48 bytes per input byte plus 64 KiB (signed numbers are hashed in
// DynamoDB's plain form, at most 26 times their written length, and held
// twice, once sorted and once serialized; every other
// value is hashed as it is), and does work linear in that; a keyring that
// calls a key service adds that call's cost (at most one per key it holds:
// keyrings ask each key once per item, keyring.UnwrapFirst). An item with
// more than Config.MaxEDKs encrypted data keys is refused before the
// materials manager is asked. TestDecryptBound and itemcrypto's
// TestDBESDKForgedEDKsBound (every keyring, up to 255 encrypted data keys)
// hold it.
package dbe

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/aesgcm"
	"github.com/itemcrypto/go-itemcrypto/internal/bufpool"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/canon"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/footer"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
)

// Reserved attribute names.
const (
	HeaderAttribute = "aws_dbe_head"
	FooterAttribute = "aws_dbe_foot"
	// ReservedPrefix starts every name the DB-ESDK reserves (beacons are
	// aws_dbe_b_...).
	ReservedPrefix = "aws_dbe_"
)

// Action is a DB-ESDK crypto action.
type Action uint8

// The four actions.
const (
	DoNothing Action = iota
	SignOnly
	SignAndIncludeInContext
	EncryptAndSign
)

func (a Action) String() string {
	switch a {
	case DoNothing:
		return "DO_NOTHING"
	case SignOnly:
		return "SIGN_ONLY"
	case SignAndIncludeInContext:
		return "SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT"
	case EncryptAndSign:
		return "ENCRYPT_AND_SIGN"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Context keys of the item base context.
const (
	ctxTable     = "aws-crypto-table-name"
	ctxPartition = "aws-crypto-partition-name"
	ctxSort      = "aws-crypto-sort-name"
	ctxAttr      = "aws-crypto-attr."
	ctxLegend    = "aws-crypto-legend"
)

// Config is one table's DB-ESDK configuration, already validated by the
// caller (itemcrypto).
type Config struct {
	// Table is the logical table name, bound into every canonical path and
	// the encryption context.
	Table string
	// PartitionKey is required; SortKey is "" for tables without one.
	PartitionKey, SortKey string
	// Action returns the configured action of an attribute, or an error
	// when the configuration gives it none.
	Action func(name string) (Action, error)
	// Unsigned reports whether an attribute is outside the signature scope
	// (listed as allowed-unsigned or carrying the allowed-unsigned prefix).
	// Names with ReservedPrefix are always outside it: Decrypt skips them
	// (beacons aws_dbe_b_..., the version tag aws_dbe_v_1) and leaves them
	// out of the plaintext it returns.
	Unsigned func(name string) bool
	// Version is 2 when any configured action is SignAndIncludeInContext.
	Version byte
	// Required are the attributes configured SignAndIncludeInContext by
	// name: Encrypt refuses an item without one of them, as the DB-ESDK
	// does (its value is part of the encryption context).
	Required []string
	// Suite to ask the manager for; 0 is the DB-ESDK default, 0x6701.
	Suite   keyring.Suite
	Manager keyring.MaterialsManager
	// Rand is the source of message ids; nil is crypto/rand.
	Rand io.Reader
	// MaxEDKs is the most encrypted data keys an item may hold, 1 to
	// MaxEDKsLimit; 0 is DefaultMaxEDKs. Decrypt refuses an item with more
	// before the manager is asked; Encrypt refuses materials with more.
	MaxEDKs int
}

const (
	// DefaultMaxEDKs is the maximum number of encrypted data keys of an
	// item when Config.MaxEDKs is 0.
	DefaultMaxEDKs = 8
	// MaxEDKsLimit is the header's own maximum (a one-byte count).
	MaxEDKsLimit = 255
)

// maxEDKs returns the effective maximum.
func (c *Config) maxEDKs() int {
	if c.MaxEDKs <= 0 || c.MaxEDKs > MaxEDKsLimit {
		return DefaultMaxEDKs
	}
	return c.MaxEDKs
}

// AttrError is a problem with one attribute of a plaintext item; it names
// the attribute, never its value.
type AttrError struct {
	Name   string
	Action Action
	Err    error
}

func (e *AttrError) Error() string {
	return fmt.Sprintf("attribute %q (%v): %v", e.Name, e.Action, e.Err)
}

func (e *AttrError) Unwrap() error { return e.Err }

// Errors of Encrypt.
var (
	ErrMissingKey = errors.New("key attribute missing")
	// ErrMissingContext: an attribute configured SignAndIncludeInContext
	// is not in the item.
	ErrMissingContext = errors.New("attribute configured SignAndIncludeInEncryptionContext missing")
	ErrReservedName   = errors.New("attribute name reserved by the DB-ESDK (aws_dbe_...)")
	ErrNotSignedOnly  = errors.New("no attribute is signed")
	ErrKeyNotSigned   = errors.New("a key attribute must be signed and never encrypted")
)

// ErrAuthentication is the opaque failure of Decrypt.
var ErrAuthentication = cmp.ErrAuthentication

// IsItem reports whether item is in the DB-ESDK format: it has both the
// header and the footer attribute.
func IsItem(item map[string]types.AttributeValue) bool {
	_, h := item[HeaderAttribute]
	_, f := item[FooterAttribute]
	return h && f
}

type field struct {
	name       string
	action     Action
	typeID     uint16
	value      []byte // serialized plaintext value (stored value if encrypted, on decrypt)
	start, end int    // of value in the scratch buffer
}

// Encrypt returns the DB-ESDK form of item. item is not modified.
func Encrypt(ctx context.Context, cfg *Config, item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	for _, k := range []string{cfg.PartitionKey, cfg.SortKey} {
		if k == "" {
			continue
		}
		if _, ok := item[k]; !ok {
			return nil, &AttrError{Name: k, Action: SignOnly, Err: ErrMissingKey}
		}
	}
	for _, k := range cfg.Required {
		if _, ok := item[k]; !ok {
			return nil, &AttrError{Name: k, Action: SignAndIncludeInContext, Err: ErrMissingContext}
		}
	}
	fields := make([]field, 0, len(item))
	sp, scratch := bufpool.Get()
	defer func() { bufpool.Put(sp, scratch) }()
	signed := 0
	for name, v := range item {
		if strings.HasPrefix(name, ReservedPrefix) {
			return nil, &AttrError{Name: name, Err: ErrReservedName}
		}
		a, err := cfg.Action(name)
		if err != nil {
			return nil, &AttrError{Name: name, Err: err}
		}
		if (name == cfg.PartitionKey || name == cfg.SortKey) && (a == DoNothing || a == EncryptAndSign) {
			return nil, &AttrError{Name: name, Action: a, Err: ErrKeyNotSigned}
		}
		if a == DoNothing {
			continue
		}
		if !utf8.ValidString(name) {
			// The canonical path holds the name's UTF-8 and its length in
			// UTF-16 units: a name that is neither has no path the
			// reference would compute alike.
			return nil, &AttrError{Name: name, Action: a, Err: ddbattr.ErrNotUTF8}
		}
		f := field{name: name, action: a, start: len(scratch)}
		if scratch, f.typeID, err = ddbattr.Append(scratch, v); err != nil {
			return nil, &AttrError{Name: name, Action: a, Err: err}
		}
		f.end = len(scratch)
		fields = append(fields, f)
		signed++
	}
	if signed == 0 {
		return nil, ErrNotSignedOnly
	}
	for i := range fields {
		fields[i].value = scratch[fields[i].start:fields[i].end:fields[i].end]
	}
	slices.SortFunc(fields, func(a, b field) int { return canon.ComparePaths(a.name, b.name) })

	ec, required, err := baseContext(cfg, cfg.Version, item, fields)
	if err != nil {
		return nil, err
	}
	mat, err := cfg.Manager.EncryptionMaterials(ctx, keyring.EncryptionRequest{Suite: cfg.Suite, EncryptionContext: ec, RequiredKeys: required})
	if err != nil {
		return nil, fmt.Errorf("encryption materials: %w", err)
	}
	defer mat.Zero()
	if n := len(mat.EncryptedDataKeys()); n > cfg.maxEDKs() {
		return nil, fmt.Errorf("%w: the keyring made %d, the maximum is %d", keyring.ErrTooManyEncryptedDataKeys, n, cfg.maxEDKs())
	}
	if mat.Suite() != cfg.Suite && cfg.Suite != 0 {
		return nil, fmt.Errorf("%w: materials manager returned suite %s for %s", keyring.ErrInvalidMaterials, mat.Suite(), cfg.Suite)
	}
	rnd := cfg.Rand
	if rnd == nil {
		rnd = crand.Reader
	}
	h := header.Header{Version: cfg.Version, Suite: mat.Suite(), EDKs: mat.EncryptedDataKeys()}
	if _, err := io.ReadFull(rnd, h.MessageID[:]); err != nil {
		return nil, fmt.Errorf("generating message id: %w", err)
	}
	h.Legend = make([]byte, len(fields))
	for i, f := range fields {
		h.Legend[i] = legendByte(f.action)
	}
	h.Context, h.Omit = mat.EncryptionContext(), mat.RequiredKeys()
	// One allocation holds every byte the item gains: header, ciphertexts,
	// footer; one more the binary values that hold them.
	keys := mat.SymmetricSigningKeys()
	nEnc, size := 0, h.Size()+len(keys)*footer.TagLength+footer.SignatureLength
	for _, f := range fields {
		if f.action == EncryptAndSign {
			nEnc++
			size += 2 + len(f.value) + 16
		}
	}
	arena := make([]byte, 0, size)
	bvals := make([]types.AttributeValueMemberB, nEnc+2)
	head, err := h.AppendPartial(arena)
	if err != nil {
		return nil, err
	}
	dataKey := mat.DataKey()
	ck := header.CommitKey(dataKey, &h.MessageID)
	c := header.Commitment(ck[:], head)
	clear(ck[:])
	head = append(head, c[:]...)
	arena = head[len(head):] // the rest (of a new buffer if the estimate was short)
	head = head[:len(head):len(head)]

	aad, err := mat.SerializedContext() // never empty: it holds the table name
	if err != nil {
		return nil, err
	}
	root, err := fieldRoot(dataKey, &h.MessageID)
	if err != nil {
		return nil, err
	}
	defer root.Zero()
	out := make(map[string]types.AttributeValue, len(item)+2)
	for name, v := range item {
		out[name] = v
	}
	hash := canon.NewHash(cfg.Table, head, aad)
	path := make([]byte, 0, len(cfg.Table)+17+maxNameLen(fields))
	offset := uint32(0)
	for _, f := range fields {
		if f.action != EncryptAndSign {
			hash.AddPlaintext(f.name, f.typeID, f.value)
			continue
		}
		key, nonce := root.FieldKey(offset)
		offset++
		g, err := aesgcm.New(key)
		if err != nil {
			return nil, err
		}
		path = canon.AppendPath(path[:0], cfg.Table, f.name)
		stored := append(arena, byte(f.typeID>>8), byte(f.typeID))
		stored = g.Seal(stored, nonce, f.value, path)
		arena = stored[len(stored):]
		stored = stored[:len(stored):len(stored)]
		hash.AddEncrypted(f.name, stored)
		bv := &bvals[len(bvals)-1]
		bvals = bvals[:len(bvals)-1]
		bv.Value = stored
		out[f.name] = bv
	}
	sum := hash.Sum()
	foot := arena
	for _, k := range keys {
		t := footer.Tag(k, &sum)
		foot = append(foot, t[:]...)
	}
	if mat.Suite().Signed() {
		sig, err := footer.Sign(rnd, mat.SigningKey(), &sum)
		if err != nil {
			return nil, err
		}
		foot = append(foot, sig...)
	}
	bvals[0].Value, bvals[1].Value = head, foot
	out[HeaderAttribute], out[FooterAttribute] = &bvals[0], &bvals[1]
	return out, nil
}

func maxNameLen(fields []field) int {
	n := 0
	for _, f := range fields {
		n = max(n, len(f.name))
	}
	return n
}

func legendByte(a Action) byte {
	switch a {
	case EncryptAndSign:
		return header.LegendEncrypt
	case SignAndIncludeInContext:
		return header.LegendContext
	}
	return header.LegendSign
}

func fieldRoot(dataKey []byte, msgID *[header.MessageIDLength]byte) (*canon.Root, error) {
	rk := header.FieldRootKey(dataKey, msgID)
	defer clear(rk[:])
	return canon.NewRoot(rk[:])
}

// baseContext returns the DynamoDB item base context of a version and the
// keys it adds (all required). fields are the signed fields in canonical
// order, with their actions as written.
func baseContext(cfg *Config, version byte, item map[string]types.AttributeValue, fields []field) (map[string]string, []string, error) {
	ec := map[string]string{ctxTable: cfg.Table, ctxPartition: cfg.PartitionKey}
	if cfg.SortKey != "" {
		ec[ctxSort] = cfg.SortKey
	}
	switch version {
	case 1:
		for _, k := range []string{cfg.PartitionKey, cfg.SortKey} {
			if k == "" {
				continue
			}
			b, t, err := ddbattr.Append(nil, item[k])
			if err != nil {
				return nil, nil, &AttrError{Name: k, Action: SignOnly, Err: err}
			}
			ec[ctxAttr+k] = encodeTerminal(t, b)
		}
	case 2:
		var legend []byte
		var names []string
		for _, f := range fields {
			if f.action == SignAndIncludeInContext {
				names = append(names, f.name)
			}
		}
		slices.Sort(names) // the context keys' UTF-8 order
		for _, name := range names {
			f := fields[slices.IndexFunc(fields, func(f field) bool { return f.name == name })]
			key := ctxAttr + name
			if _, dup := ec[key]; dup {
				return nil, nil, &AttrError{Name: name, Action: SignAndIncludeInContext, Err: errors.New("encryption context key collides")}
			}
			var c byte
			ec[key], c = contextValueV2(f.typeID, f.value)
			legend = append(legend, c)
		}
		ec[ctxLegend] = string(legend)
	default:
		return nil, nil, fmt.Errorf("format version %d", version)
	}
	return ec, keysOf(ec), nil
}

func keysOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func encodeTerminal(t uint16, value []byte) string {
	var small [128]byte
	b := small[:0]
	if len(value) > len(small)-2 {
		b = make([]byte, 0, 2+len(value))
	}
	b = append(b, byte(t>>8), byte(t))
	return base64.StdEncoding.EncodeToString(append(b, value...))
}

// contextValueV2 is the version 2 context value of a 'c' attribute and its
// legend character.
func contextValueV2(t uint16, value []byte) (string, byte) {
	switch t {
	case ddbattr.TypeString:
		return string(value), 'S'
	case ddbattr.TypeNumber:
		return string(value), 'N'
	case ddbattr.TypeNull:
		return "null", 'L'
	case ddbattr.TypeBoolean:
		if len(value) == 1 && value[0] == 1 {
			return "true", 'L'
		}
		return "false", 'L'
	}
	return encodeTerminal(t, value), 'B'
}
