package mac

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha512"
	"testing"
)

func TestAgainstStdlib(t *testing.T) {
	for _, keyLen := range []int{0, 1, 32, 48, 64, 127, 128} {
		key := make([]byte, keyLen)
		for i := range key {
			key[i] = byte(i * 7)
		}
		for _, msgLen := range []int{0, 1, 111, 128, 1000} {
			msg := make([]byte, msgLen)
			for i := range msg {
				msg[i] = byte(i)
			}
			var got384 [48]byte
			w := New384(key)
			w.Write(msg)
			w.Sum384(&got384)
			m := hmac.New(sha512.New384, key)
			m.Write(msg)
			if want := m.Sum(nil); string(want) != string(got384[:]) {
				t.Fatalf("HMAC-SHA384 key %d msg %d differs", keyLen, msgLen)
			}
			var got512 [64]byte
			w = New512(key)
			w.Write(msg)
			w.Sum512(&got512)
			m = hmac.New(sha512.New, key)
			m.Write(msg)
			if want := m.Sum(nil); string(want) != string(got512[:]) {
				t.Fatalf("HMAC-SHA512 key %d msg %d differs", keyLen, msgLen)
			}
		}
		var got, a, b [32]byte
		HKDF32(&got, key, "AWS_DBE_COMMIT_KEY", []byte("message-id"))
		want, _ := hkdf.Key(sha512.New, key, nil, "AWS_DBE_COMMIT_KEYmessage-id", 32)
		if string(want) != string(got[:]) {
			t.Fatalf("HKDF32 key %d differs", keyLen)
		}
		HKDF32Pair(&a, &b, key, "X", "Y")
		wa, _ := hkdf.Key(sha512.New, key, nil, "X", 32)
		wb, _ := hkdf.Key(sha512.New, key, nil, "Y", 32)
		if string(wa) != string(a[:]) || string(wb) != string(b[:]) {
			t.Fatalf("HKDF32Pair key %d differs", keyLen)
		}
		var got64 [64]byte
		HKDF64(&got64, key, "AWS_DBE_SCAN_BEACON", "email")
		want64, _ := hkdf.Key(sha512.New, key, nil, "AWS_DBE_SCAN_BEACONemail", 64)
		if string(want64) != string(got64[:]) {
			t.Fatalf("HKDF64 key %d differs", keyLen)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (scripts/test runs this test without it)")
	}
	key := make([]byte, 32)
	msg := make([]byte, 100)
	var out [48]byte
	var k [32]byte
	allocs := testing.AllocsPerRun(100, func() {
		w := New384(key)
		w.Write(msg)
		w.Sum384(&out)
		HKDF32(&k, key, "info", msg[:32])
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per HMAC and HKDF, want 0", allocs)
	}
}
