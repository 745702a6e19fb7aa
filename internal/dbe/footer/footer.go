// Package footer is the DB-ESDK item footer, the aws_dbe_foot attribute
// (specification structured-encryption/footer.md): one 48-byte HMAC-SHA384
// recipient tag per encrypted data key over the canonical hash, and under
// suite 0x6701 an ECDSA P-384 signature of it.
//
// The specification says the signature is 0 or 96 bytes; every stored item
// and the MPL primitives use a DER signature of exactly 103 bytes, and that
// is what this package writes (signing again until the DER form has that
// length) and reads.
//
// Bounds: [Parse] allocates one slice header per 48 input bytes and aliases
// the input.
package footer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"

	imac "github.com/itemcrypto/go-itemcrypto/internal/mac"
)

const (
	// TagLength is the length of one recipient tag.
	TagLength = 48
	// SignatureLength is the length of the DER ECDSA P-384 signature.
	SignatureLength = 103
)

// ErrMalformed: the footer does not fit the header's EDK count or suite.
var ErrMalformed = errors.New("footer: malformed aws_dbe_foot")

// Footer is a parsed footer; slices alias the input.
type Footer struct {
	tags      []byte // nTags * TagLength bytes
	Signature []byte // nil under suite 0x6700
}

// Parse splits b into nTags tags and, when signed, the signature. It
// allocates nothing.
func Parse(b []byte, nTags int, signed bool) (Footer, error) {
	want := nTags * TagLength
	if signed {
		want += SignatureLength
	}
	if nTags < 1 || len(b) != want {
		return Footer{}, ErrMalformed
	}
	f := Footer{tags: b[: nTags*TagLength : nTags*TagLength]}
	if signed {
		f.Signature = b[nTags*TagLength:]
	}
	return f, nil
}

// NumTags returns the number of recipient tags.
func (f *Footer) NumTags() int { return len(f.tags) / TagLength }

// Tag returns recipient tag i.
func (f *Footer) Tag(i int) []byte { return f.tags[i*TagLength : (i+1)*TagLength : (i+1)*TagLength] }

// AnyTagMatches reports whether one of the footer's tags is the tag of hash
// under key; each comparison is constant time.
func (f *Footer) AnyTagMatches(key []byte, hash *[48]byte) bool {
	want := Tag(key, hash)
	found := false
	for i := range f.NumTags() {
		if hmac.Equal(f.Tag(i), want[:]) {
			found = true
		}
	}
	return found
}

// Tag returns HMAC-SHA384(key, hash).
func Tag(key []byte, hash *[48]byte) [TagLength]byte {
	m := imac.New384(key)
	m.Write(hash[:])
	var out [TagLength]byte
	m.Sum384(&out)
	return out
}

// Sign returns the 103-byte DER ECDSA P-384 signature of hash (which the
// signature hashes again with SHA-384, as the MPL's ECDSA sign does).
//
// The DER form is 103 bytes when exactly one of r and s has its top bit set.
// The MPL signs again until that happens (two signatures on average); Sign
// instead replaces s by n-s when needed, which is the other valid signature
// of the same (r, hash) and flips the top bit of s, and signs again only in
// the rare case (about 2^-7) of an r or s shorter than 48 bytes.
func Sign(rand io.Reader, key *ecdsa.PrivateKey, hash *[48]byte) ([]byte, error) {
	d := sha512.Sum384(hash[:])
	for range 64 {
		sig, err := ecdsa.SignASN1(rand, key, d[:])
		if err != nil {
			return nil, err
		}
		if len(sig) == SignatureLength {
			return sig, nil
		}
		if fixed := flipS(sig); fixed != nil {
			return fixed, nil
		}
	}
	return nil, errors.New("footer: no 103-byte ECDSA signature in 64 attempts")
}

// p384N is the order of the P-384 group.
var p384N = elliptic.P384().Params().N

// flipS returns the DER signature (r, n-s) when that is 103 bytes long, or
// nil.
func flipS(sig []byte) []byte {
	var parsed struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &parsed); err != nil || len(rest) != 0 {
		return nil
	}
	parsed.S.Sub(p384N, parsed.S)
	out, err := asn1.Marshal(parsed)
	if err != nil || len(out) != SignatureLength {
		return nil
	}
	return out
}

// Verify checks an ECDSA P-384 signature of hash.
func Verify(pub *ecdsa.PublicKey, hash *[48]byte, sig []byte) bool {
	d := sha512.Sum384(hash[:])
	return ecdsa.VerifyASN1(pub, d[:], sig)
}
