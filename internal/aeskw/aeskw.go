// Package aeskw implements the RFC 3394 AES key wrap with the default
// initial value A6A6A6A6A6A6A6A6 (JCE "AESWrap").
package aeskw

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

var defaultIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

var (
	// ErrKeySize: the key to wrap is not a multiple of 8 bytes of at least 16.
	ErrKeySize = errors.New("aeskw: key to wrap must be a multiple of 8 bytes, at least 16")
	// ErrUnwrap: the wrapped key is malformed or fails its integrity check.
	ErrUnwrap = errors.New("aeskw: unwrap failed")
)

// Wrap wraps key under the key-encryption cipher kek (an AES block) and
// returns len(key)+8 bytes.
func Wrap(kek cipher.Block, key []byte) ([]byte, error) {
	if len(key) < 16 || len(key)%8 != 0 {
		return nil, ErrKeySize
	}
	n := len(key) / 8
	// The 16-byte work block lives in the output's spare capacity: a local
	// array would escape through the cipher.Block interface call.
	out := make([]byte, 8+len(key), 8+len(key)+16)
	copy(out[:8], defaultIV[:])
	copy(out[8:], key)
	b := out[len(out):cap(out)]
	defer clear(b) // it held key material
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], out[:8])
			copy(b[8:], out[i*8:i*8+8])
			kek.Encrypt(b, b)
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(out[i*8:i*8+8], b[8:])
		}
	}
	return out, nil
}

// Unwrap reverses Wrap. Any failure, including the integrity check, returns
// ErrUnwrap and no key bytes.
func Unwrap(kek cipher.Block, wrapped []byte) ([]byte, error) {
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return nil, ErrUnwrap
	}
	n := len(wrapped)/8 - 1
	var a [8]byte
	copy(a[:], wrapped[:8])
	out := make([]byte, len(wrapped)-8, len(wrapped)-8+16)
	copy(out, wrapped[8:])
	b := out[len(out):cap(out)] // work block; a local array would escape
	defer clear(b)
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(b[8:], out[(i-1)*8:i*8])
			kek.Decrypt(b, b)
			copy(a[:], b[:8])
			copy(out[(i-1)*8:i*8], b[8:])
		}
	}
	if subtle.ConstantTimeCompare(a[:], defaultIV[:]) != 1 {
		clear(out)
		return nil, ErrUnwrap
	}
	return out, nil
}
