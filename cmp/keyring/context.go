package keyring

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf8"
)

// ReservedPrefix starts every encryption-context key the libraries set
// themselves; a caller's own context must not use it.
const ReservedPrefix = "aws-crypto-"

// PublicKeyContextKey holds the base64 compressed ECDSA P-384 verification
// key under SuiteECDSAP384.
const PublicKeyContextKey = "aws-crypto-public-key"

// SortedKeys returns the keys of ec in the order of their UTF-8 bytes.
func SortedKeys(ec map[string]string) []string {
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	slices.Sort(keys) // Go compares strings by their bytes: UTF-8 order
	return keys
}

// AppendContext appends the MPL serialization of ec to dst: nothing for an
// empty context, otherwise a big-endian uint16 count and, for each key in
// byte order, uint16 length, key, uint16 length, value. It is the AAD of key
// wrapping.
func AppendContext(dst []byte, ec map[string]string) ([]byte, error) {
	if len(ec) == 0 {
		return dst, nil
	}
	return AppendCountedContext(dst, ec)
}

// AppendCountedContext is AppendContext that writes the count even for an
// empty context (the form of the DB-ESDK header and canonical record).
func AppendCountedContext(dst []byte, ec map[string]string) ([]byte, error) {
	return AppendCountedContextExcept(dst, ec, nil)
}

// AppendCountedContextExcept is AppendCountedContext of ec without the keys
// in omit.
func AppendCountedContextExcept(dst []byte, ec map[string]string, omit []string) ([]byte, error) {
	var small [16]string
	keys := small[:0]
	if len(ec) > len(small) {
		keys = make([]string, 0, len(ec))
	}
	for k := range ec {
		if !slices.Contains(omit, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > 0xffff {
		return nil, fmt.Errorf("%w: %d entries, at most 65535", ErrEncryptionContext, len(keys))
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(keys)))
	for _, k := range keys {
		v := ec[k]
		if len(k) > 0xffff || len(v) > 0xffff {
			return nil, fmt.Errorf("%w: entry %q longer than 65535 bytes", ErrEncryptionContext, k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("%w: entry %q is not UTF-8", ErrEncryptionContext, k)
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(k)))
		dst = append(dst, k...)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(v)))
		dst = append(dst, v...)
	}
	return dst, nil
}
