// Package mac computes HMAC-SHA384, HMAC-SHA512 and the one-block HKDF-SHA512
// of the DB-ESDK and the MPL without allocating: the hash states come from a
// pool and are reset before they go back. The results equal crypto/hmac and
// crypto/hkdf (the tests check them against both).
//
// Keys longer than the hash block (128 bytes) are not supported; every key
// here is 32 or 64 bytes.
package mac

import (
	"crypto/sha512"
	"hash"
	"sync"
)

const blockSize = 128 // SHA-384 and SHA-512

type state struct {
	inner, outer hash.Hash
	pad          [blockSize]byte
	sum          [64]byte
}

var (
	pool384 = sync.Pool{New: func() any { return &state{inner: sha512.New384(), outer: sha512.New384()} }}
	pool512 = sync.Pool{New: func() any { return &state{inner: sha512.New(), outer: sha512.New()} }}
)

// Writer is an HMAC in progress; Write the message, then call Sum384 or
// Sum512 (which also releases it).
type Writer struct{ s *state }

func start(p *sync.Pool, key []byte) Writer {
	if len(key) > blockSize {
		panic("mac: key longer than the block size")
	}
	s := p.Get().(*state)
	clear(s.pad[:])
	copy(s.pad[:], key)
	for i := range s.pad {
		s.pad[i] ^= 0x36
	}
	s.inner.Reset()
	s.inner.Write(s.pad[:])
	for i := range s.pad {
		s.pad[i] ^= 0x36 ^ 0x5c
	}
	s.outer.Reset()
	s.outer.Write(s.pad[:])
	clear(s.pad[:])
	return Writer{s}
}

// New384 starts HMAC-SHA384 under key.
func New384(key []byte) Writer { return start(&pool384, key) }

// New512 starts HMAC-SHA512 under key.
func New512(key []byte) Writer { return start(&pool512, key) }

// Write adds message bytes.
func (w Writer) Write(b []byte) { w.s.inner.Write(b) }

// WriteString adds message bytes.
func (w Writer) WriteString(s string) {
	for len(s) > 0 {
		n := copy(w.s.pad[:], s)
		w.s.inner.Write(w.s.pad[:n])
		s = s[n:]
	}
	clear(w.s.pad[:])
}

func (w Writer) finish(p *sync.Pool, n int, out []byte) {
	s := w.s
	in := s.inner.Sum(s.sum[:0])
	s.outer.Write(in)
	copy(out, s.outer.Sum(s.sum[:0])[:n])
	s.inner.Reset()
	s.outer.Reset()
	clear(s.sum[:])
	p.Put(s)
}

// Sum384 writes the HMAC-SHA384 of what was written and releases w.
func (w Writer) Sum384(out *[48]byte) { w.finish(&pool384, 48, out[:]) }

// Sum512 writes the HMAC-SHA512 of what was written and releases w.
func (w Writer) Sum512(out *[64]byte) { w.finish(&pool512, 64, out[:]) }

var (
	zeroSalt [64]byte
	one      = []byte{1}
)

// HKDF32 is HKDF-SHA512 with no salt and 32 bytes of output:
// HMAC(HMAC(zeros, secret), info1 || info2 || 0x01)[:32].
func HKDF32(out *[32]byte, secret []byte, info1 string, info2 []byte) {
	var prk [64]byte
	w := New512(zeroSalt[:])
	w.Write(secret)
	w.Sum512(&prk)
	e := New512(prk[:])
	e.WriteString(info1)
	e.Write(info2)
	e.Write(one)
	var okm [64]byte
	e.Sum512(&okm)
	copy(out[:], okm[:32])
	clear(prk[:])
	clear(okm[:])
}

// HKDF64 is HKDF-SHA512 with no salt and 64 bytes of output (one block):
// HMAC(HMAC(zeros, secret), info1 || info2 || 0x01). Searchable encryption
// derives each beacon's HMAC key this way.
func HKDF64(out *[64]byte, secret []byte, info1, info2 string) {
	var prk [64]byte
	w := New512(zeroSalt[:])
	w.Write(secret)
	w.Sum512(&prk)
	e := New512(prk[:])
	e.WriteString(info1)
	e.WriteString(info2)
	e.Write(one)
	e.Sum512(out)
	clear(prk[:])
}

// HKDF32Pair derives two 32-byte keys from one secret with one extract:
// HKDF-SHA512 with no salt and the infos a and b.
func HKDF32Pair(outA, outB *[32]byte, secret []byte, a, b string) {
	var prk, okm [64]byte
	w := New512(zeroSalt[:])
	w.Write(secret)
	w.Sum512(&prk)
	for _, x := range [2]struct {
		out  *[32]byte
		info string
	}{{outA, a}, {outB, b}} {
		e := New512(prk[:])
		e.WriteString(x.info)
		e.Write(one)
		e.Sum512(&okm)
		copy(x.out[:], okm[:32])
	}
	clear(prk[:])
	clear(okm[:])
}
