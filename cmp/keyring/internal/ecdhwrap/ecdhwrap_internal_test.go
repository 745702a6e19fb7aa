package ecdhwrap

import (
	"bytes"
	"testing"
)

// The MPL's known answer for its KdfCtr with SHA-384 (AwsCryptographyPrimitives
// test/TestKDF_TestVectors.dfy, "B.6 Test Case 6": RawDerive of 32 bytes
// with the explicit info given).
func TestKDFCounterSHA384KnownAnswer(t *testing.T) {
	ikm := []byte{130, 44, 118, 74, 27, 17, 112, 133, 193, 15, 14, 104, 152, 20, 210, 191, 189, 155,
		67, 40, 127, 26, 140, 117, 215, 149, 169, 131, 26, 40, 97, 132, 200, 88, 111, 53,
		119, 182, 229, 187, 206, 22, 55, 146, 94, 4, 252, 71}
	info := []byte{175, 52, 97, 16, 185, 65, 177, 29, 33, 137, 49, 108, 159, 194, 185, 244, 33, 55, 117,
		165, 215, 54, 141, 53, 65, 38, 120, 162, 143, 205, 3, 176, 127, 5, 73, 102, 110, 253,
		243, 12, 128, 240, 171, 85, 99, 114, 10, 86, 239, 97, 106, 19, 187, 143, 119, 128,
		3, 111, 192, 142}
	want := []byte{224, 174, 35, 92, 184, 35, 128, 82, 123, 231, 105, 52, 166, 150, 34, 57,
		109, 144, 231, 191, 167, 226, 210, 149, 228, 55, 91, 206, 224, 209, 177, 1}
	got := make([]byte, 32)
	kdfCounterSHA384(got, ikm, info)
	if !bytes.Equal(got, want) {
		t.Fatalf("KDF %x, want %x", got, want)
	}
	// More than one block: the second block is HMAC of counter 2.
	long := make([]byte, 64)
	kdfCounterSHA384(long, ikm, info)
	if !bytes.Equal(long[:32], want) {
		t.Fatal("the first block changed with the length")
	}
}

// The fixed info and provider info of the specification, byte for byte.
func TestECDHSerializations(t *testing.T) {
	s, r := bytes.Repeat([]byte{2}, 33), bytes.Repeat([]byte{3}, 33)
	got := fixedInfo("p256", s, r, []byte{0, 1, 0, 1, 'a', 0, 1, 'b'})
	want := append(append(append([]byte("ecdh-key-derivation\x00p256\x00HMAC_SHA384\x00"), s...), r...), 0, 1, 0, 0, 1, 0, 1, 'a', 0, 1, 'b')
	if !bytes.Equal(got, want) {
		t.Fatalf("fixed info %q", got)
	}
	info := ProviderInfo(s, r)
	want = append(append(append([]byte{1, 0, 0, 0, 33}, r...), 0, 0, 0, 33), s...)
	if !bytes.Equal(info, want) || len(info) != 75 {
		t.Fatalf("provider info %x", info)
	}
}
