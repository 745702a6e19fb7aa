package metastore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// Memory is a [cmp.ProviderStore] that keeps meta items, in their protected
// form, in memory: for tests, and for loading a dump of a meta table.
type Memory struct {
	codec *codec
	mu    sync.Mutex
	items map[string]map[int64]map[string]types.AttributeValue
}

var _ cmp.ProviderStore = (*Memory)(nil)

// NewMemory returns an empty store whose items metaProvider protects under
// the table name tableName (the name is bound into their signatures).
func NewMemory(tableName string, metaProvider cmp.Provider) (*Memory, error) {
	c, err := newCodec(tableName, metaProvider)
	if err != nil {
		return nil, err
	}
	return &Memory{codec: c, items: map[string]map[int64]map[string]types.AttributeValue{}}, nil
}

// Load adds protected meta items as read from a meta table (a dump); they are
// verified when used.
func (m *Memory) Load(items ...map[string]types.AttributeValue) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		n, ok1 := it[AttrName].(*types.AttributeValueMemberS)
		v, ok2 := it[AttrVersion].(*types.AttributeValueMemberN)
		if !ok1 || !ok2 {
			return errors.New("metastore: meta item without N (S) and V (N)")
		}
		ver, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return errors.New("metastore: meta item version is not an integer")
		}
		m.put(n.Value, ver, it)
	}
	return nil
}

func (m *Memory) put(name string, version int64, item map[string]types.AttributeValue) {
	if m.items[name] == nil {
		m.items[name] = map[int64]map[string]types.AttributeValue{}
	}
	m.items[name][version] = item
}

func (m *Memory) get(name string, version int64) (map[string]types.AttributeValue, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[name][version]
	return it, ok
}

// Items returns the protected meta items, for writing a dump.
func (m *Memory) Items() []map[string]types.AttributeValue {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []map[string]types.AttributeValue
	for _, vs := range m.items {
		for _, it := range vs {
			out = append(out, it)
		}
	}
	return out
}

// Provider verifies and decodes (name, version).
func (m *Memory) Provider(ctx context.Context, name string, version int64) (cmp.Provider, error) {
	it, ok := m.get(name, version)
	if !ok {
		return nil, fmt.Errorf("%w: %s", cmp.ErrVersionNotFound, cmp.MetaID(name, version))
	}
	return m.codec.provider(ctx, name, version, it)
}

// MaxVersion returns the newest version of name.
func (m *Memory) MaxVersion(_ context.Context, name string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	maxV := int64(-1)
	for v := range m.items[name] {
		maxV = max(maxV, v)
	}
	if maxV < 0 {
		return 0, fmt.Errorf("%w: no version of %s", cmp.ErrVersionNotFound, name)
	}
	return maxV, nil
}

// CreateProvider adds (name, version) with fresh keys unless it exists.
func (m *Memory) CreateProvider(ctx context.Context, name string, version int64) (cmp.Provider, error) {
	item, err := m.codec.newItem(ctx, name, version)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if existing, ok := m.items[name][version]; ok {
		item = existing
	} else {
		m.put(name, version, item)
	}
	m.mu.Unlock()
	return m.codec.provider(ctx, name, version, item)
}
