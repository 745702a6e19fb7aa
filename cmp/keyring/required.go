package keyring

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ErrRequiredContext: the required-encryption-context manager's check
// failed: a required key missing from the context on encrypt, or not
// reproduced on decrypt, or an underlying manager that dropped one. It
// matches [ErrEncryptionContext] too.
var ErrRequiredContext = fmt.Errorf("%w: required encryption context key", ErrEncryptionContext)

// ErrNoRequiredKeys: [NewRequiredContextManager] without keys (a manager
// that checks nothing is refused, as the MPL refuses it).
var ErrNoRequiredKeys = errors.New("keyring: a required-encryption-context manager needs at least one key")

type requiredManager struct {
	under MaterialsManager
	keys  []string // sorted, no duplicates
}

// NewRequiredContextManager returns the MPL required-encryption-context
// materials manager over underlying: on encrypt, every key of
// requiredKeys must be in the encryption context, and is passed on as
// required (the item stores its value nowhere: the reader must reproduce
// it); on decrypt, every key must be in the reproduced context, which must
// agree with the stored one, and in the resulting materials' context.
//
// With the item encryptor, as with the DB-ESDK, the context is the one the
// encryptor builds ("aws-crypto-table-name", "aws-crypto-partition-name",
// "aws-crypto-sort-name", an "aws-crypto-attr." key per
// SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute, ...), and the encryptor
// already passes all of it as required and rebuilds it on decrypt: the
// header stores only what the manager adds (the signing public key). This
// manager then enforces the writers' configuration: with
// "aws-crypto-attr.tenant" required, an encryptor whose policy does not
// put attribute "tenant" in the context is refused with
// [ErrRequiredContext].
func NewRequiredContextManager(underlying MaterialsManager, requiredKeys []string) (MaterialsManager, error) {
	if underlying == nil {
		return nil, errors.New("keyring: a required-encryption-context manager needs an underlying manager")
	}
	if len(requiredKeys) == 0 {
		return nil, ErrNoRequiredKeys
	}
	keys := slices.Clone(requiredKeys)
	slices.Sort(keys)
	return &requiredManager{under: underlying, keys: slices.Compact(keys)}, nil
}

func (r *requiredManager) EncryptionMaterials(ctx context.Context, req EncryptionRequest) (*EncryptionMaterials, error) {
	for _, k := range r.keys {
		if _, ok := req.EncryptionContext[k]; !ok {
			return nil, fmt.Errorf("%w: %q not in the encryption context", ErrRequiredContext, k)
		}
	}
	req.RequiredKeys = union(req.RequiredKeys, r.keys)
	m, err := r.under.EncryptionMaterials(ctx, req)
	if err != nil {
		return nil, err
	}
	// A manager of this package keeps the keys; another may not.
	for _, k := range r.keys {
		_, inEC := m.EncryptionContext()[k]
		if !inEC || !slices.Contains(m.RequiredKeys(), k) {
			m.Zero()
			return nil, fmt.Errorf("%w: the underlying manager dropped required key %q", ErrRequiredContext, k)
		}
	}
	return m, nil
}

func (r *requiredManager) DecryptionMaterials(ctx context.Context, req DecryptionRequest) (*DecryptionMaterials, error) {
	for _, k := range r.keys {
		if _, ok := req.ReproducedContext[k]; !ok {
			return nil, fmt.Errorf("%w: %q not reproduced", ErrRequiredContext, k)
		}
	}
	for k, v := range req.ReproducedContext {
		if sv, ok := req.StoredContext[k]; ok && sv != v {
			return nil, fmt.Errorf("%w: stored and reproduced values of %q differ", ErrEncryptionContext, k)
		}
	}
	req.RequiredKeys = union(req.RequiredKeys, r.keys)
	m, err := r.under.DecryptionMaterials(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, k := range r.keys {
		if _, ok := m.EncryptionContext()[k]; !ok {
			m.Zero()
			return nil, fmt.Errorf("%w: the underlying manager dropped required key %q", ErrRequiredContext, k)
		}
	}
	return m, nil
}

// union returns a new slice of a's keys then b's not in a.
func union(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	for _, k := range b {
		if !slices.Contains(a, k) {
			out = append(out, k)
		}
	}
	return out
}
