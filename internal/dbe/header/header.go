// Package header is the DB-ESDK item header, the aws_dbe_head attribute
// (specification structured-encryption/header.md): format version, flavor
// (the algorithm suite), message id, encrypt legend, stored encryption
// context, encrypted data keys and a 32-byte header commitment.
//
// Bounds: [Parse] reads each byte of its input once and allocates at most
// its input's length plus a constant per encryption-context entry and per
// encrypted data key (whose counts are bounded by the input), slices alias
// the input.
package header

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	imac "github.com/itemcrypto/go-itemcrypto/internal/mac"
	"github.com/itemcrypto/go-itemcrypto/internal/wire"
)

// Legend bytes: one per signed attribute in canonical order.
const (
	LegendEncrypt = 'e'
	LegendSign    = 's'
	LegendContext = 'c'
)

const (
	// MessageIDLength is the length of the random message id.
	MessageIDLength = 32
	// CommitmentLength is the length of the header commitment.
	CommitmentLength = 32
)

// ErrMalformed is every parse failure; it names nothing of the input.
var ErrMalformed = errors.New("header: malformed aws_dbe_head")

// Header is a parsed or to-be-written header. Slices may alias the bytes it
// was parsed from.
type Header struct {
	Version   byte // 1, or 2 when the legend holds 'c'
	Suite     keyring.Suite
	MessageID [MessageIDLength]byte
	Legend    []byte
	// Context is the stored encryption context: the materials' context
	// minus the keys the reader reproduces. A writer may set the full
	// context and list the reproduced keys in Omit.
	Context map[string]string
	Omit    []string
	EDKs    []keyring.EncryptedDataKey
	// Commitment is the last 32 bytes of a parsed header.
	Commitment [CommitmentLength]byte
}

// AppendPartial appends the header without its commitment.
func (h *Header) AppendPartial(dst []byte) ([]byte, error) {
	dst = append(dst, h.Version, h.Suite.Flavor())
	dst = append(dst, h.MessageID[:]...)
	if len(h.Legend) > 0xffff {
		return nil, errors.New("header: more than 65535 signed attributes")
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(h.Legend)))
	dst = append(dst, h.Legend...)
	dst, err := keyring.AppendCountedContextExcept(dst, h.Context, h.Omit)
	if err != nil {
		return nil, err
	}
	if len(h.EDKs) == 0 || len(h.EDKs) > 255 {
		return nil, errors.New("header: need 1 to 255 encrypted data keys")
	}
	dst = append(dst, byte(len(h.EDKs)))
	for _, k := range h.EDKs {
		if len(k.ProviderID) > 0xffff || len(k.ProviderInfo) > 0xffff || len(k.Ciphertext) > 0xffff {
			return nil, errors.New("header: encrypted data key field longer than 65535 bytes")
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(k.ProviderID)))
		dst = append(dst, k.ProviderID...)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(k.ProviderInfo)))
		dst = append(dst, k.ProviderInfo...)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(k.Ciphertext)))
		dst = append(dst, k.Ciphertext...)
	}
	return dst, nil
}

// CommitKey derives the commitment key from the data key and message id:
// HKDF-SHA512, no salt, info "AWS_DBE_COMMIT_KEY" || message id, 32 bytes.
func CommitKey(dataKey []byte, msgID *[MessageIDLength]byte) (out [32]byte) {
	imac.HKDF32(&out, dataKey, "AWS_DBE_COMMIT_KEY", msgID[:])
	return out
}

// Size returns the length of the full header h serializes to.
func (h *Header) Size() int {
	n := 2 + MessageIDLength + 2 + len(h.Legend) + 2 + 1 + CommitmentLength
	for k, v := range h.Context {
		if !slices.Contains(h.Omit, k) {
			n += 4 + len(k) + len(v)
		}
	}
	for _, k := range h.EDKs {
		n += 6 + len(k.ProviderID) + len(k.ProviderInfo) + len(k.Ciphertext)
	}
	return n
}

// Commitment returns the first 32 bytes of HMAC-SHA512(commitKey,
// partial). The specification says HMAC-SHA384; the implementations (and
// every stored item) use the commitment KDF's hash, SHA-512.
func Commitment(commitKey, partial []byte) [CommitmentLength]byte {
	m := imac.New512(commitKey)
	m.Write(partial)
	var sum [64]byte
	m.Sum512(&sum)
	var out [CommitmentLength]byte
	copy(out[:], sum[:])
	return out
}

// VerifyCommitment checks, in constant time, that the last 32 bytes of raw
// (a full header) commit raw's partial header to commitKey.
func VerifyCommitment(commitKey, raw []byte) bool {
	if len(raw) < CommitmentLength {
		return false
	}
	want := Commitment(commitKey, raw[:len(raw)-CommitmentLength])
	return hmac.Equal(want[:], raw[len(raw)-CommitmentLength:])
}

// Parse parses a full header. It checks structure only (commitment, legend
// against the item and context against the configuration are the caller's).
func Parse(b []byte) (Header, error) {
	h, err := parse(b)
	if err != nil {
		return Header{}, ErrMalformed
	}
	return h, nil
}

func parse(b []byte) (h Header, err error) {
	r := wire.Reader{B: b}
	ver, ok1 := r.Byte()
	flavor, ok2 := r.Byte()
	if !ok1 || !ok2 || (ver != 1 && ver != 2) {
		return h, ErrMalformed
	}
	suite, ok := keyring.SuiteFromFlavor(flavor)
	if !ok {
		return h, ErrMalformed
	}
	h.Version, h.Suite = ver, suite
	id, ok := r.Bytes(MessageIDLength)
	if !ok {
		return h, ErrMalformed
	}
	copy(h.MessageID[:], id)
	if h.Legend, ok = r.LV16(); !ok {
		return h, ErrMalformed
	}
	for _, c := range h.Legend {
		if c != LegendEncrypt && c != LegendSign && !(c == LegendContext && ver == 2) {
			return h, ErrMalformed
		}
	}
	n, ok := r.U16()
	if !ok || int(n)*4 > len(r.B) {
		return h, ErrMalformed
	}
	h.Context = make(map[string]string, n)
	prev := ""
	for i := range int(n) {
		k, ok1 := r.LV16()
		v, ok2 := r.LV16()
		if !ok1 || !ok2 || !utf8.Valid(k) || !utf8.Valid(v) {
			return h, ErrMalformed
		}
		ks := string(k)
		if i > 0 && ks <= prev { // sorted, no duplicates
			return h, ErrMalformed
		}
		prev = ks
		h.Context[ks] = string(v)
	}
	cnt, ok := r.Byte()
	if !ok || cnt == 0 || int(cnt)*6 > len(r.B) {
		return h, ErrMalformed
	}
	h.EDKs = make([]keyring.EncryptedDataKey, cnt)
	for i := range h.EDKs {
		pid, ok1 := r.LV16()
		info, ok2 := r.LV16()
		ct, ok3 := r.LV16()
		if !ok1 || !ok2 || !ok3 || !utf8.Valid(pid) {
			return h, ErrMalformed
		}
		h.EDKs[i] = keyring.EncryptedDataKey{ProviderID: internProviderID(pid), ProviderInfo: info, Ciphertext: ct}
	}
	if len(r.B) != CommitmentLength {
		return h, ErrMalformed
	}
	copy(h.Commitment[:], r.B)
	return h, nil
}

// internProviderID returns well-known provider ids without allocating.
func internProviderID(b []byte) string {
	switch string(b) { // no allocation for the comparison
	case "aws-kms-hierarchy":
		return "aws-kms-hierarchy"
	case "aws-kms":
		return "aws-kms"
	}
	return string(b)
}
