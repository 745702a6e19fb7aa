package aeskw_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/aeskw"
)

const (
	kek256  = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	data256 = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func block(t *testing.T, key []byte) cipher.Block {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3394 §4.1–§4.6.
var rfc3394 = []struct {
	name             string
	kekBits, keyBits int
	wrapped          string
}{
	{"4.1", 128, 128, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
	{"4.2", 192, 128, "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
	{"4.3", 256, 128, "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
	{"4.4", 192, 192, "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
	{"4.5", 256, 192, "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
	{"4.6", 256, 256, "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
}

func TestRFC3394(t *testing.T) {
	for _, tc := range rfc3394 {
		t.Run(tc.name, func(t *testing.T) {
			kek := block(t, unhex(t, kek256)[:tc.kekBits/8])
			key := unhex(t, data256)[:tc.keyBits/8]
			want := unhex(t, tc.wrapped)
			keyCopy := bytes.Clone(key)
			got, err := aeskw.Wrap(kek, key)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("Wrap = %X, %v; want %X", got, err, want)
			}
			if !bytes.Equal(key, keyCopy) {
				t.Errorf("Wrap modified the key")
			}
			wrappedCopy := bytes.Clone(want)
			un, err := aeskw.Unwrap(kek, want)
			if err != nil || !bytes.Equal(un, key) {
				t.Errorf("Unwrap = %X, %v; want %X", un, err, key)
			}
			if !bytes.Equal(want, wrappedCopy) {
				t.Errorf("Unwrap modified its input")
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, kekLen := range []int{16, 24, 32} {
		kek := block(t, bytes.Repeat([]byte{byte(kekLen)}, kekLen))
		for n := 16; n <= 128; n += 8 {
			key := make([]byte, n)
			for i := range key {
				key[i] = byte(i*7 + n)
			}
			w, err := aeskw.Wrap(kek, key)
			if err != nil || len(w) != n+8 {
				t.Fatalf("kek %d, key %d: Wrap = %d bytes, %v", kekLen, n, len(w), err)
			}
			u, err := aeskw.Unwrap(kek, w)
			if err != nil || !bytes.Equal(u, key) {
				t.Errorf("kek %d, key %d: Unwrap(Wrap(key)) = %x, %v; want %x", kekLen, n, u, err, key)
			}
		}
	}
}

func TestUnwrapTampered(t *testing.T) {
	kek := block(t, unhex(t, kek256))
	w := unhex(t, rfc3394[5].wrapped)
	for i := range w {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(w)
			bad[i] ^= bit
			if got, err := aeskw.Unwrap(kek, bad); !errors.Is(err, aeskw.ErrUnwrap) || got != nil {
				t.Errorf("Unwrap(bit %#x of byte %d flipped) = %x, %v; want nil, ErrUnwrap", bit, i, got, err)
			}
		}
	}
	// Wrong KEK.
	other := block(t, unhex(t, kek256)[:16])
	if got, err := aeskw.Unwrap(other, w); !errors.Is(err, aeskw.ErrUnwrap) || got != nil {
		t.Errorf("Unwrap(wrong kek) = %x, %v; want nil, ErrUnwrap", got, err)
	}
	// Blocks swapped.
	swapped := bytes.Clone(w)
	copy(swapped[8:16], w[16:24])
	copy(swapped[16:24], w[8:16])
	if _, err := aeskw.Unwrap(kek, swapped); !errors.Is(err, aeskw.ErrUnwrap) {
		t.Errorf("Unwrap(blocks swapped) = %v; want ErrUnwrap", err)
	}
	// Truncated by one block: still a valid length, wrong integrity.
	if _, err := aeskw.Unwrap(kek, w[:len(w)-8]); !errors.Is(err, aeskw.ErrUnwrap) {
		t.Errorf("Unwrap(last block dropped) = %v; want ErrUnwrap", err)
	}
}

func TestBadLengths(t *testing.T) {
	kek := block(t, unhex(t, kek256))
	for _, n := range []int{0, 1, 7, 8, 15, 17, 23, 31, 33} {
		if got, err := aeskw.Wrap(kek, make([]byte, n)); !errors.Is(err, aeskw.ErrKeySize) || got != nil {
			t.Errorf("Wrap(%d bytes) = %x, %v; want nil, ErrKeySize", n, got, err)
		}
	}
	for _, n := range []int{0, 1, 8, 15, 16, 17, 23, 25, 31, 39} {
		if got, err := aeskw.Unwrap(kek, make([]byte, n)); !errors.Is(err, aeskw.ErrUnwrap) || got != nil {
			t.Errorf("Unwrap(%d bytes) = %x, %v; want nil, ErrUnwrap", n, got, err)
		}
	}
	if _, err := aeskw.Unwrap(kek, nil); !errors.Is(err, aeskw.ErrUnwrap) {
		t.Errorf("Unwrap(nil) = %v; want ErrUnwrap", err)
	}
}
