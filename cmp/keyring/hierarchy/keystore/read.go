package keystore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// BranchKeyMaterials is one version of a branch key and the custom
// encryption context it was created with.
type BranchKeyMaterials struct {
	BranchKey *hierarchy.BranchKey
	// EncryptionContext is the custom encryption context, without the
	// aws-crypto-ec: prefix. It was authenticated by KMS.
	EncryptionContext map[string]string
}

// BeaconKeyMaterials is the beacon key of a branch key, the root of the
// keys of searchable encryption.
type BeaconKeyMaterials struct {
	// BranchKeyID is the branch key the beacon key belongs to.
	BranchKeyID string
	// EncryptionContext is the custom encryption context, as for
	// [BranchKeyMaterials].
	EncryptionContext map[string]string
	key               *[]byte // behind a pointer, as cmp.AESKey's material: %w prints fields one pointer deep
}

// Key returns the 32-byte beacon key. It is secret.
func (b *BeaconKeyMaterials) Key() []byte {
	if b.key == nil {
		return nil
	}
	return *b.key
}

// String, GoString, Format, LogValue and MarshalJSON never show the key,
// of a BeaconKeyMaterials or a *BeaconKeyMaterials, whatever the verb.
func (b BeaconKeyMaterials) String() string                { return b.redacted().String() }
func (b BeaconKeyMaterials) GoString() string              { return b.redacted().GoString() }
func (b BeaconKeyMaterials) Format(f fmt.State, verb rune) { b.redacted().Format(f, verb) }
func (b BeaconKeyMaterials) LogValue() slog.Value          { return b.redacted().LogValue() }
func (b BeaconKeyMaterials) MarshalJSON() ([]byte, error)  { return b.redacted().MarshalJSON() }
func (b BeaconKeyMaterials) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("keystore.BeaconKeyMaterials{id: %q, key: [redacted]}", b.BranchKeyID))
}

// String, GoString, Format, LogValue and MarshalJSON never show the key
// (a nil BranchKey prints as <nil>).
func (m BranchKeyMaterials) String() string                { return m.redacted().String() }
func (m BranchKeyMaterials) GoString() string              { return m.redacted().GoString() }
func (m BranchKeyMaterials) Format(f fmt.State, verb rune) { m.redacted().Format(f, verb) }
func (m BranchKeyMaterials) LogValue() slog.Value          { return m.redacted().LogValue() }
func (m BranchKeyMaterials) MarshalJSON() ([]byte, error)  { return m.redacted().MarshalJSON() }
func (m BranchKeyMaterials) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("keystore.BranchKeyMaterials{%v}", m.BranchKey))
}

// GetActiveBranchKey returns the active version of a branch key.
func (s *Store) GetActiveBranchKey(ctx context.Context, branchKeyID string) (*BranchKeyMaterials, error) {
	const op = "GetActiveBranchKey"
	m, err := s.branchKey(ctx, branchKeyID, TypeActive)
	if err != nil {
		return nil, s.fail(op, branchKeyID, err)
	}
	return m, nil
}

// GetBranchKeyVersion returns one version of a branch key.
func (s *Store) GetBranchKeyVersion(ctx context.Context, branchKeyID, version string) (*BranchKeyMaterials, error) {
	const op = "GetBranchKeyVersion"
	if version == "" {
		return nil, s.fail(op, branchKeyID, fmt.Errorf("%w: empty branch key version", ErrInvalidInput))
	}
	m, err := s.branchKey(ctx, branchKeyID, TypeVersionPrefix+version)
	if err != nil {
		return nil, s.fail(op, branchKeyID, err)
	}
	return m, nil
}

// GetBeaconKey returns the beacon key of a branch key.
func (s *Store) GetBeaconKey(ctx context.Context, branchKeyID string) (*BeaconKeyMaterials, error) {
	const op = "GetBeaconKey"
	ec, key, err := s.unwrap(ctx, branchKeyID, TypeBeacon)
	if err != nil {
		return nil, s.fail(op, branchKeyID, err)
	}
	return &BeaconKeyMaterials{BranchKeyID: branchKeyID, EncryptionContext: customContext(ec), key: &key}, nil
}

// ActiveBranchKey implements [hierarchy.Source] with [Store.GetActiveBranchKey].
func (s *Store) ActiveBranchKey(ctx context.Context, id string) (*hierarchy.BranchKey, error) {
	m, err := s.GetActiveBranchKey(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.BranchKey, nil
}

// BranchKeyVersion implements [hierarchy.Source] with [Store.GetBranchKeyVersion].
func (s *Store) BranchKeyVersion(ctx context.Context, id, version string) (*hierarchy.BranchKey, error) {
	m, err := s.GetBranchKeyVersion(ctx, id, version)
	if err != nil {
		return nil, err
	}
	return m.BranchKey, nil
}

func (s *Store) branchKey(ctx context.Context, id, typ string) (*BranchKeyMaterials, error) {
	ec, key, err := s.unwrap(ctx, id, typ)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	bk, err := hierarchy.NewBranchKey(id, branchKeyVersion(ec), key, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidItem, err)
	}
	return &BranchKeyMaterials{BranchKey: bk, EncryptionContext: customContext(ec)}, nil
}

// unwrap reads item (id, typ) and decrypts its enc with KMS under the
// context of its attributes.
func (s *Store) unwrap(ctx context.Context, id, typ string) (map[string]string, []byte, error) {
	if id == "" {
		return nil, nil, fmt.Errorf("%w: empty branch key id", ErrInvalidInput)
	}
	ec, enc, err := s.readItem(ctx, id, typ, false)
	if err != nil {
		return nil, nil, err
	}
	key, err := s.decrypt(ctx, ec, enc)
	if err != nil {
		return nil, nil, err
	}
	return ec, key, nil
}

// readItem gets item (id, typ), checks it is a branch key item of that kind
// under a KMS key the configuration accepts, and returns its encryption
// context and enc.
func (s *Store) readItem(ctx context.Context, id, typ string, consistent bool) (map[string]string, []byte, error) {
	var consistentRead *bool // unset, as the MPL sends it
	if consistent {
		consistentRead = aws.Bool(true)
	}
	out, err := s.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.opts.TableName),
		Key: map[string]types.AttributeValue{
			AttrBranchKeyID: &types.AttributeValueMemberS{Value: id},
			AttrType:        &types.AttributeValueMemberS{Value: typ},
		},
		ConsistentRead: consistentRead,
	})
	if err != nil {
		return nil, nil, err
	}
	if len(out.Item) == 0 {
		return nil, nil, fmt.Errorf("%w: no item of type %q", ErrNotFound, typ)
	}
	ec, enc, err := itemContext(out.Item, s.opts.LogicalName)
	if err != nil {
		return nil, nil, err
	}
	if ec[AttrBranchKeyID] != id {
		return nil, nil, invalid(AttrBranchKeyID, "is not the branch key id asked for")
	}
	if ec[AttrType] != typ {
		return nil, nil, invalid(AttrType, "is not the type asked for")
	}
	if !s.opts.KMS.accepts(ec[AttrKMSARN]) {
		return nil, nil, ErrKMSKeyMismatch
	}
	return ec, enc, nil
}
