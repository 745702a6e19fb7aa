package keystore

import (
	"fmt"
	"maps"
	"slices"
)

// NewBeaconKeyMaterials returns beacon key materials holding a copy of key
// (32 bytes), for a beacon key that does not come from a Store: a static
// key in tests and vectors, or one kept elsewhere. Most users read beacon
// keys with [Store.GetBeaconKey] instead.
func NewBeaconKeyMaterials(branchKeyID string, key []byte, encryptionContext map[string]string) (*BeaconKeyMaterials, error) {
	if branchKeyID == "" {
		return nil, fmt.Errorf("%w: empty branch key id", ErrInvalidInput)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: beacon key of %d bytes, want 32", ErrInvalidInput, len(key))
	}
	return &BeaconKeyMaterials{BranchKeyID: branchKeyID, EncryptionContext: maps.Clone(encryptionContext), key: new(slices.Clone(key))}, nil
}
