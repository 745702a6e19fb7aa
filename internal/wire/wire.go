// Package wire reads big-endian length-prefixed binary formats from a byte
// slice, for the DB-ESDK parsers. Every read checks the remaining length
// first and returns false instead of reading past the end; slices alias the
// input. It allocates nothing.
package wire

import "encoding/binary"

// Reader consumes B from the front.
type Reader struct{ B []byte }

// Byte reads one byte.
func (r *Reader) Byte() (byte, bool) {
	if len(r.B) < 1 {
		return 0, false
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c, true
}

// U16 reads a big-endian uint16.
func (r *Reader) U16() (uint16, bool) {
	if len(r.B) < 2 {
		return 0, false
	}
	v := binary.BigEndian.Uint16(r.B)
	r.B = r.B[2:]
	return v, true
}

// U32 reads a big-endian uint32.
func (r *Reader) U32() (uint32, bool) {
	if len(r.B) < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(r.B)
	r.B = r.B[4:]
	return v, true
}

// Bytes reads n bytes (capacity capped at n).
func (r *Reader) Bytes(n uint64) ([]byte, bool) {
	if uint64(len(r.B)) < n {
		return nil, false
	}
	v := r.B[:n:n]
	r.B = r.B[n:]
	return v, true
}

// LV16 reads a uint16 length and that many bytes.
func (r *Reader) LV16() ([]byte, bool) {
	n, ok := r.U16()
	if !ok {
		return nil, false
	}
	return r.Bytes(uint64(n))
}

// LV32 reads a uint32 length and that many bytes.
func (r *Reader) LV32() ([]byte, bool) {
	n, ok := r.U32()
	if !ok {
		return nil, false
	}
	return r.Bytes(uint64(n))
}
