package keyring

import (
	"context"
	"errors"
	"fmt"
)

// Multi is the MPL multi-keyring: one item encrypted for several keyrings,
// readable by any one of them.
type Multi struct {
	generator Keyring
	children  []Keyring
	order     []Keyring // generator (if any), then children: the decrypt order
}

var _ Keyring = (*Multi)(nil)

// NewMulti returns a multi-keyring. generator, when not nil, makes the data
// key and adds the first encrypted data key; each child then adds its own.
// Without a generator the materials must already hold a data key (a
// multi-keyring nested as a child), and at least one child is required.
func NewMulti(generator Keyring, children ...Keyring) (*Multi, error) {
	if generator == nil && len(children) == 0 {
		return nil, errors.New("keyring: a multi-keyring needs a generator or at least one child keyring")
	}
	for i, c := range children {
		if c == nil {
			return nil, fmt.Errorf("keyring: multi-keyring child %d is nil", i)
		}
	}
	k := &Multi{generator: generator, children: append([]Keyring(nil), children...)}
	if generator != nil {
		k.order = append(k.order, generator)
	}
	k.order = append(k.order, k.children...)
	return k, nil
}

// OnEncrypt implements [Keyring]: the generator first (the materials must
// not hold a data key yet, and must hold one after it), then every child in
// order. Any failure fails the whole call.
func (k *Multi) OnEncrypt(ctx context.Context, m *EncryptionMaterials) error {
	if k.generator != nil {
		if m.DataKey() != nil {
			return fmt.Errorf("%w: a multi-keyring with a generator got materials that already hold a data key", ErrInvalidMaterials)
		}
		if err := k.generator.OnEncrypt(ctx, m); err != nil {
			return fmt.Errorf("keyring: multi-keyring generator: %w", err)
		}
		if m.DataKey() == nil {
			return fmt.Errorf("%w: the multi-keyring's generator set no data key", ErrInvalidMaterials)
		}
	} else if m.DataKey() == nil {
		return fmt.Errorf("%w: a multi-keyring without a generator needs materials that hold a data key", ErrInvalidMaterials)
	}
	for i, c := range k.children {
		if err := c.OnEncrypt(ctx, m); err != nil {
			return fmt.Errorf("keyring: multi-keyring child %d: %w", i, err)
		}
	}
	return nil
}

// OnDecrypt implements [Keyring]: the generator, then each child in order,
// each with the unmodified materials, until one sets the data key. When
// all fail it returns [ErrNoDecryptableKey] if none had an encrypted data
// key of its own, else the other failures joined (errors.Is reaches each).
// It stops early when ctx is done.
func (k *Multi) OnDecrypt(ctx context.Context, m *DecryptionMaterials, edks []EncryptedDataKey) error {
	if m.HasDataKey() {
		return fmt.Errorf("%w: data key already set", ErrInvalidMaterials)
	}
	var failed attempts
	for i, kr := range k.order {
		if err := ctx.Err(); err != nil {
			failed.add(err)
			break
		}
		err := kr.OnDecrypt(ctx, m, edks)
		switch {
		case err == nil && m.HasDataKey():
			return nil
		case err == nil:
			failed.add(fmt.Errorf("%w: keyring %d reported success without a data key", ErrInvalidMaterials, i))
		case !errors.Is(err, ErrNoDecryptableKey):
			failed.add(err)
		}
	}
	return failed.err()
}
