package header

import (
	"crypto/hkdf"
	"crypto/sha512"
)

// hkdfSHA512 is HKDF-SHA512 with no salt and info label || msgID, 32 bytes.
func hkdfSHA512(key []byte, label string, msgID *[MessageIDLength]byte) []byte {
	info := make([]byte, 0, len(label)+MessageIDLength)
	info = append(info, label...)
	info = append(info, msgID[:]...)
	out, err := hkdf.Key(sha512.New, key, nil, string(info), 32)
	if err != nil {
		panic("header: HKDF-SHA512 of 32 bytes cannot fail: " + err.Error())
	}
	return out
}

// FieldRootKey derives the root of the per-field keys: HKDF-SHA512, no
// salt, info "AWS_DBE_DERIVE_KEY" || message id, 32 bytes.
func FieldRootKey(dataKey []byte, msgID *[MessageIDLength]byte) []byte {
	return hkdfSHA512(dataKey, "AWS_DBE_DERIVE_KEY", msgID)
}
