// Package canon holds the canonical forms of the DB-ESDK structured
// encryption: the canonical path of an attribute, the per-field key and
// nonce, and the canonical hash that the footer's tags and signature cover
// (specification structured-encryption/header.md#canonical-path and
// footer.md#canonical-hash).
//
// Bounds: every function here does work linear in its input and allocates
// nothing beyond its result, except Hash, which holds one SHA-384 state.
package canon

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// AppendPath appends the canonical path of top-level attribute name in
// table: the table name, the depth (1) as uint64, '$', the name's length as
// uint64 and the name in UTF-8.
//
// The length counts UTF-16 code units, not bytes: the specification
// (header.md, "the length of the key") names no unit, and the reference
// implementation, whose strings are UTF-16 sequences, writes the number of
// code units (é: 1, 日本語: 3, U+10000: 2). The name's bytes are UTF-8.
func AppendPath(dst []byte, table, name string) []byte {
	dst = append(dst, table...)
	dst = binary.BigEndian.AppendUint64(dst, 1)
	dst = append(dst, '$')
	dst = binary.BigEndian.AppendUint64(dst, uint64(UTF16Len(name)))
	return append(dst, name...)
}

// UTF16Len returns the number of UTF-16 code units of s: one per rune below
// U+10000, two per supplementary-plane rune. An invalid UTF-8 byte counts
// as one unit (it decodes to U+FFFD, as the reference's conversion does).
func UTF16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// ComparePaths orders two top-level attribute names as their canonical
// paths in one table order: the paths' bytes compared, that is by the
// names' UTF-16 lengths first, then by the names' UTF-8 bytes.
func ComparePaths(a, b string) int {
	if la, lb := UTF16Len(a), UTF16Len(b); la != lb {
		if la < lb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// Root derives the per-field keys and nonces of one item. Use it from one
// goroutine; Zero it when done.
type Root struct {
	block cipher.Block
	ctr   [16]byte
	// The derived key sits behind a pointer, as cmp.AESKey's material: %w
	// prints a value's fields without its Format method, one pointer deep.
	out *[48]byte
}

// NewRoot returns the field-key deriver of a 32-byte field root key.
func NewRoot(rootKey []byte) (*Root, error) {
	b, err := aes.NewCipher(rootKey)
	if err != nil {
		return nil, err
	}
	box := &struct { // one allocation for the root and its output
		r   Root
		out [48]byte
	}{r: Root{block: b}}
	box.r.out = &box.out
	return &box.r, nil
}

// FieldKey derives the AES-256-GCM key and nonce of the field at ordinal
// position offset among the encrypted fields (in canonical order): the first
// 44 bytes of AES-256-CTR under the root key with the 16-byte counter block
// "AwsDbeField" || 44 || uint32(3*offset), counting up by one per block.
// The slices alias r and are valid until the next call.
func (r *Root) FieldKey(offset uint32) (key, nonce []byte) {
	copy(r.ctr[:], "AwsDbeField")
	r.ctr[11] = 44
	for i := range uint32(3) {
		binary.BigEndian.PutUint32(r.ctr[12:], 3*offset+i) // 3*offset < 2^32: offset is bounded by the item
		r.block.Encrypt(r.out[16*i:16*(i+1)], r.ctr[:])
	}
	return r.out[:32], r.out[32:44]
}

// Zero clears the last derived key.
func (r *Root) Zero() { clear(r.out[:]) }

// Hash computes the canonical hash: SHA-384 of the full header, the length
// of the serialized encryption context as uint64, that context, then each
// signed field in canonical order. Hashes come from a pool: Sum returns it,
// and h must not be used afterwards.
type Hash struct {
	h     hash.Hash
	table string
	buf   []byte
}

var hashPool = sync.Pool{New: func() any { return &Hash{h: sha512.New384(), buf: make([]byte, 0, 256)} }}

// NewHash starts a canonical hash over header and the serialized full
// encryption context aad, for table.
func NewHash(table string, header, aad []byte) *Hash {
	h := hashPool.Get().(*Hash)
	h.table = table
	h.h.Reset()
	h.h.Write(header)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(aad)))
	h.h.Write(n[:])
	h.h.Write(aad)
	return h
}

// AddEncrypted adds an encrypted field: path, length of the stored value
// minus 2, "ENCRYPTED", the stored value (type id and ciphertext).
func (h *Hash) AddEncrypted(name string, stored []byte) {
	h.buf = AppendPath(h.buf[:0], h.table, name)
	h.buf = binary.BigEndian.AppendUint64(h.buf, uint64(len(stored)-2))
	h.buf = append(h.buf, "ENCRYPTED"...)
	h.h.Write(h.buf)
	h.h.Write(stored)
}

// AddPlaintext adds a signed plaintext field: path, value length,
// "PLAINTEXT", type id, value.
func (h *Hash) AddPlaintext(name string, typeID uint16, value []byte) {
	h.buf = AppendPath(h.buf[:0], h.table, name)
	h.buf = binary.BigEndian.AppendUint64(h.buf, uint64(len(value)))
	h.buf = append(h.buf, "PLAINTEXT"...)
	h.buf = binary.BigEndian.AppendUint16(h.buf, typeID)
	h.h.Write(h.buf)
	h.h.Write(value)
}

// Sum returns the 48-byte canonical hash and releases h.
func (h *Hash) Sum() [48]byte {
	var out [48]byte
	h.buf = h.h.Sum(h.buf[:0])
	copy(out[:], h.buf)
	h.h.Reset()
	clear(h.buf[:cap(h.buf)])
	h.buf = h.buf[:0]
	h.table = ""
	hashPool.Put(h)
	return out
}

// String, GoString, Format, LogValue and MarshalJSON never show the root key
// or a field key.
func (r Root) String() string                { return r.redacted().String() }
func (r Root) GoString() string              { return r.redacted().GoString() }
func (r Root) Format(f fmt.State, verb rune) { r.redacted().Format(f, verb) }
func (r Root) LogValue() slog.Value          { return r.redacted().LogValue() }
func (r Root) MarshalJSON() ([]byte, error)  { return r.redacted().MarshalJSON() }
func (r Root) redacted() redact.Text {
	return "canon.Root{keys: [redacted]}"
}
