package aesgcm

import (
	"bytes"
	"testing"
)

func TestNew(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		a, err := New(bytes.Repeat([]byte{1}, n))
		if err != nil || a.NonceSize() != 12 || a.Overhead() != 16 {
			t.Fatalf("%d-byte key: %v", n, err)
		}
		nonce := make([]byte, 12)
		ct := a.Seal(nil, nonce, []byte("pt"), []byte("aad"))
		if pt, err := a.Open(nil, nonce, ct, []byte("aad")); err != nil || string(pt) != "pt" {
			t.Fatalf("round trip: %q, %v", pt, err)
		}
		if _, err := a.Open(nil, nonce, ct, []byte("other")); err == nil {
			t.Fatal("opened under other AAD")
		}
	}
	if _, err := New(make([]byte, 17)); err == nil {
		t.Fatal("a 17-byte key")
	}
}
