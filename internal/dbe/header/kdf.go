package header

import imac "github.com/itemcrypto/go-itemcrypto/internal/mac"

// hkdfSHA512 is HKDF-SHA512 with no salt and info label || msgID, 32 bytes.
func hkdfSHA512(key []byte, label string, msgID *[MessageIDLength]byte) []byte {
	var out [32]byte
	imac.HKDF32(&out, key, label, msgID[:])
	return out[:]
}

// FieldRootKey derives the root of the per-field keys: HKDF-SHA512, no
// salt, info "AWS_DBE_DERIVE_KEY" || message id, 32 bytes.
func FieldRootKey(dataKey []byte, msgID *[MessageIDLength]byte) []byte {
	return hkdfSHA512(dataKey, "AWS_DBE_DERIVE_KEY", msgID)
}
