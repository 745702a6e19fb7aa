package header

import imac "github.com/itemcrypto/go-itemcrypto/internal/mac"

// FieldRootKey derives the root of the per-field keys: HKDF-SHA512, no
// salt, info "AWS_DBE_DERIVE_KEY" || message id, 32 bytes.
func FieldRootKey(dataKey []byte, msgID *[MessageIDLength]byte) (out [32]byte) {
	imac.HKDF32(&out, dataKey, "AWS_DBE_DERIVE_KEY", msgID[:])
	return out
}
