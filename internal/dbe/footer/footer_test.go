package footer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
)

// TestSignLength: every signature is 103 bytes and verifies, including the
// ones whose s was replaced by n-s.
func TestSignLength(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	flipped := 0
	for i := range 200 {
		var h [48]byte
		h[0] = byte(i)
		sig, err := Sign(rand.Reader, key, &h)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != SignatureLength {
			t.Fatalf("signature of %d bytes", len(sig))
		}
		if !Verify(&key.PublicKey, &h, sig) {
			t.Fatalf("signature %d does not verify", i)
		}
		h[1] = 1
		if Verify(&key.PublicKey, &h, sig) {
			t.Fatalf("signature %d verifies another hash", i)
		}
		if flipS(sig) != nil {
			flipped++ // its own flip would also be 103 bytes: not expected
		}
	}
	if flipped != 0 {
		t.Fatalf("%d signatures whose n-s form is also 103 bytes", flipped)
	}
}

func TestParse(t *testing.T) {
	b := make([]byte, 2*TagLength+SignatureLength)
	f, err := Parse(b, 2, true)
	if err != nil || f.NumTags() != 2 || len(f.Tag(1)) != TagLength || len(f.Signature) != SignatureLength {
		t.Fatalf("Parse: %+v, %v", f, err)
	}
	for _, c := range []struct {
		n      int
		nTags  int
		signed bool
	}{{2 * TagLength, 2, true}, {2*TagLength + SignatureLength, 2, false}, {TagLength - 1, 1, false}, {0, 0, false}, {TagLength, 0, false}} {
		if _, err := Parse(make([]byte, c.n), c.nTags, c.signed); err == nil {
			t.Errorf("Parse(%d bytes, %d tags, signed=%v) succeeded", c.n, c.nTags, c.signed)
		}
	}
}

// TestParseAllocatesNothing: the footer parser's bound is zero allocations.
func TestParseAllocatesNothing(t *testing.T) {
	b := make([]byte, 3*TagLength+SignatureLength)
	if a := testing.AllocsPerRun(100, func() { Parse(b, 3, true) }); a != 0 {
		t.Fatalf("Parse allocated %v times", a)
	}
}
