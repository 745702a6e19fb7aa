// Package materialdesc encodes and decodes the material description: the
// string→string map stored in every protected item (attribute
// "*amzn-ddb-map-desc*") that records how the item was protected.
//
// Use [Decode] on what a store returns and [Description.Encode] to write.
//
// # Security considerations
//
// The DDBEC format does not sign the material description (spec §5.4). Every
// value decoded here is untrusted: [Decode] bounds its input and never panics,
// and consumers must allow-list algorithm names rather than trust them.
//
// # Compatibility
//
// The encoding is byte for byte the DDBEC v1 one: a 4-byte version 0, then
// length-prefixed UTF-8 key/value pairs. [Description.Encode] sorts keys (as
// the Python client does); [Decode] accepts any order (the Java client writes
// hash-map order).
package materialdesc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Well-known keys (spec §3.2).
const (
	// KeySymMode is the cipher mode and padding of encrypted attributes.
	KeySymMode = "amzn-ddb-map-sym-mode"
	// KeySigningAlg is the signature algorithm of asymmetric signatures.
	KeySigningAlg = "amzn-ddb-map-signingAlg"
	// KeyEnvelopeKey is the wrapped content key, standard padded base64.
	KeyEnvelopeKey = "amzn-ddb-env-key"
	// KeyEnvelopeAlg is the content key algorithm, e.g. "AES/256" or "AES".
	KeyEnvelopeAlg = "amzn-ddb-env-alg"
	// KeyWrapAlg is how the content key was wrapped, e.g. "AESWrap".
	KeyWrapAlg = "amzn-ddb-wrap-alg"
	// KeySigAlg is the derived signing key algorithm of Direct KMS.
	KeySigAlg = "amzn-ddb-sig-alg"
	// KeyKMSContextAttr is Direct KMS's informational "*keys*" marker.
	KeyKMSContextAttr = "aws-kms-ec-attr"
	// KeyMetaID is the MetaStore "name#version" of most-recent providers.
	KeyMetaID = "amzn-ddb-meta-id"
)

// Values of the well-known keys.
const (
	SymModeCBC  = "/CBC/PKCS5Padding"
	WrapAESKW   = "AESWrap"
	WrapRSAOAEP = "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"
)

// Limits applied by Decode.
const (
	// MaxSize is the largest encoded description Decode accepts.
	MaxSize = 64 << 10
	// MaxEntries is the largest number of entries Decode accepts.
	MaxEntries = 256
)

// Version is the only description format version that exists.
const Version = 0

var (
	// ErrUnsupportedVersion: the 4-byte header is not version 0.
	ErrUnsupportedVersion = errors.New("materialdesc: unsupported description version")
	// ErrMalformed: truncated, oversized, duplicate keys or invalid UTF-8.
	ErrMalformed = errors.New("materialdesc: malformed description")
)

// Description is a material description. The zero value (nil) is the empty
// description. Keys and values are UTF-8 strings.
type Description map[string]string

// Encode returns the binary form with entries sorted by key.
func (d Description) Encode() []byte {
	return d.AppendEncode(nil)
}

// AppendEncode appends the binary form to dst.
func (d Description) AppendEncode(dst []byte) []byte {
	return d.AppendEncodeWith(dst)
}

// Entry is one key/value pair of a description.
type Entry struct{ Key, Value string }

// AppendEncodeWith appends the binary form of d with extra entries added
// (replacing entries of d with the same key), without copying d.
func (d Description) AppendEncodeWith(dst []byte, extra ...Entry) []byte {
	n := 4
	for k, v := range d {
		n += 8 + len(k) + len(v)
	}
	for _, e := range extra {
		n += 8 + len(e.Key) + len(e.Value)
	}
	dst = slices.Grow(dst, n) // one allocation for the whole encoding
	dst = binary.BigEndian.AppendUint32(dst, Version)
	return d.appendEntries(dst, extra)
}

func (d Description) appendEntries(dst []byte, extra []Entry) []byte {
	var buf [16]string
	keys := buf[:0]
	for k := range d {
		keys = append(keys, k)
	}
	for _, e := range extra {
		if _, dup := d[e.Key]; !dup {
			keys = append(keys, e.Key)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		v, ok := "", false
		for _, e := range extra {
			if e.Key == k {
				v, ok = e.Value, true
			}
		}
		if !ok {
			v = d[k]
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(k)))
		dst = append(dst, k...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// Clone returns a copy that can be changed independently.
func (d Description) Clone() Description {
	c := make(Description, len(d)+4)
	for k, v := range d {
		c[k] = v
	}
	return c
}

// Decode parses a binary description. It never panics, rejects inputs over
// MaxSize or with more than MaxEntries entries, duplicate keys, invalid UTF-8
// and trailing partial entries. Errors never contain description contents.
func Decode(b []byte) (Description, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxSize)
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: truncated header", ErrMalformed)
	}
	if binary.BigEndian.Uint32(b) != Version {
		return nil, ErrUnsupportedVersion
	}
	b = b[4:]
	d := Description{}
	for len(b) > 0 {
		if len(d) >= MaxEntries {
			return nil, fmt.Errorf("%w: more than %d entries", ErrMalformed, MaxEntries)
		}
		var k, v string
		var ok bool
		if k, b, ok = readLV(b); !ok {
			return nil, fmt.Errorf("%w: truncated entry", ErrMalformed)
		}
		if v, b, ok = readLV(b); !ok {
			return nil, fmt.Errorf("%w: truncated entry", ErrMalformed)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
		}
		if _, dup := d[k]; dup {
			return nil, fmt.Errorf("%w: duplicate key", ErrMalformed)
		}
		d[k] = v
	}
	return d, nil
}

func readLV(b []byte) (string, []byte, bool) {
	if len(b) < 4 {
		return "", nil, false
	}
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return "", nil, false
	}
	return intern(b[:n]), b[n:], true
}

// common are the keys and values nearly every description holds; Decode
// returns these strings instead of allocating new ones.
var common = [...]string{
	KeySymMode, KeySigningAlg, KeyEnvelopeKey, KeyEnvelopeAlg, KeyWrapAlg, KeySigAlg, KeyKMSContextAttr, KeyMetaID,
	SymModeCBC, WrapAESKW, WrapRSAOAEP, "AES/256", "AES", "HmacSHA256", "SHA256withRSA", "HmacSHA256/256", "kms", "*keys*",
}

func intern(b []byte) string {
	for _, c := range common {
		if string(b) == c { // no allocation: the compiler compares in place
			return c
		}
	}
	return string(b)
}

// String lists the keys only, never values: values such as a wrapped key are
// not secret, but they are not for logs either.
func (d Description) String() string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return "materialdesc.Description{" + strings.Join(keys, ", ") + "}"
}
