package mongoenc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// CiphertextSubtype is the BSON binary subtype of stored ciphertexts, the
// material description and the signature: 0, generic binary. The policy,
// not the subtype, says which fields are encrypted; a reader refuses an
// encrypted field, description or signature stored with any other type or
// subtype.
const CiphertextSubtype byte = 0x00

var errMalformed = errors.New("mongoenc: malformed BSON document")

// forEach calls fn for every element of doc, with its key and value.
func forEach(doc []byte, fn func(elem bsoncore.Element, key string, val bsoncore.Value) error) error {
	length, rem, ok := bsoncore.ReadLength(doc)
	if !ok || length < 5 || int(length) != len(doc) || doc[length-1] != 0 {
		return errMalformed
	}
	rem = rem[:len(rem)-1]
	for len(rem) > 0 {
		elem, r, ok := bsoncore.ReadElement(rem)
		if !ok {
			return errMalformed
		}
		rem = r
		key, err := elem.KeyErr()
		if err != nil {
			return errMalformed
		}
		val, err := elem.ValueErr()
		if err != nil {
			return errMalformed
		}
		if err := fn(elem, key, val); err != nil {
			return err
		}
	}
	return nil
}

// mapper turns a document into the core's item: every top-level field, and
// every configured nested path, becomes one attribute whose value is
// B(type byte || raw BSON value); an interior document (the parent of a
// configured path) contributes the rest of itself, without its configured
// children. In stored form an encrypted attribute is its ciphertext, stored
// as binary, and the two reserved fields are binary.
type mapper struct {
	s      *schema
	stored bool
	item   itemcrypto.Item
	buf    []byte
}

func newMapper(s *schema, doc []byte, stored bool) *mapper {
	return &mapper{s: s, stored: stored, item: make(itemcrypto.Item, 16), buf: make([]byte, 0, len(doc)+64)}
}

// fieldErr is the error of one field: the path, its action, the cause.
func fieldErr(path string, a actions.Action, err error) error {
	return &itemcrypto.AttributeError{Name: path, Action: a, Err: err}
}

// bValue appends t || data to the mapper's buffer and returns it as a B.
func (m *mapper) bValue(t bsoncore.Type, data []byte) *types.AttributeValueMemberB {
	start := len(m.buf)
	m.buf = append(m.buf, byte(t))
	m.buf = append(m.buf, data...)
	return &types.AttributeValueMemberB{Value: m.buf[start:len(m.buf):len(m.buf)]}
}

// fields maps the elements of doc at prefix (nodes: the configured
// children there). At the top level every element is an attribute; below,
// only the configured ones are, and the others are returned as the rest of
// the document.
func (m *mapper) fields(doc []byte, prefix string, nodes map[string]*node, top bool) (rest []byte, err error) {
	var restIdx int32
	if !top {
		restIdx, rest = bsoncore.ReserveLength(nil)
	}
	err = forEach(doc, func(elem bsoncore.Element, key string, val bsoncore.Value) error {
		path := key
		if !top {
			path = prefix + key
		}
		if top && m.s.enc.IsReserved(key) {
			if m.stored && isBeaconField(key) {
				return nil // beacons are outside the signature
			}
			if !m.stored {
				return fieldErr(key, actions.DoNothing, itemcrypto.ErrReservedAttribute)
			}
			sub, data, ok := val.BinaryOK()
			if !ok || sub != CiphertextSubtype {
				return itemcrypto.ErrAuthentication
			}
			if _, dup := m.item[key]; dup {
				return itemcrypto.ErrAuthentication
			}
			m.item[key] = &types.AttributeValueMemberB{Value: data}
			return nil
		}
		n := nodes[key]
		if !top && n == nil {
			rest = append(rest, elem...)
			return nil
		}
		var a actions.Action
		if n != nil {
			a = n.action
		} else {
			a = m.s.policy.Action(key)
		}
		if strings.Contains(key, ".") {
			return fieldErr(path, a, ErrDottedFieldName)
		}
		if _, dup := m.item[path]; dup {
			return fieldErr(path, a, ErrDuplicateField)
		}
		var v *types.AttributeValueMemberB
		switch {
		case n != nil && n.interior() && val.Type == bsoncore.TypeEmbeddedDocument:
			sub, err := m.fields(val.Data, path+".", n.children, false)
			if err != nil {
				return err
			}
			v = m.bValue(bsoncore.TypeEmbeddedDocument, sub)
		case n != nil && n.interior() && val.Type == bsoncore.TypeArray && !m.stored:
			return fieldErr(path, a, ErrArrayOnPath)
		case a == actions.EncryptAndSign && m.stored:
			sub, data, ok := val.BinaryOK()
			if !ok || sub != CiphertextSubtype {
				return itemcrypto.ErrAuthentication
			}
			v = &types.AttributeValueMemberB{Value: data}
		default:
			v = m.bValue(val.Type, val.Data)
		}
		m.item[path] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !top {
		rest = append(rest, 0)
		rest = bsoncore.UpdateLength(rest, restIdx, int32(len(rest)))
	}
	return rest, nil
}

// rebuild writes doc again with the attribute values of out in place of
// the encrypted ones: ciphertexts (toStored) or plaintexts (!toStored). On
// the way to the store the reserved fields are appended; on the way back
// they are dropped. Field order is kept.
func (m *mapper) rebuild(dst, doc []byte, prefix string, nodes map[string]*node, top bool, out itemcrypto.Item, toStored bool) ([]byte, error) {
	idx, dst := bsoncore.ReserveLength(dst)
	err := forEach(doc, func(elem bsoncore.Element, key string, val bsoncore.Value) error {
		if top && m.s.enc.IsReserved(key) {
			if toStored && isBeaconField(key) {
				dst = append(dst, elem...) // StoredDocument keeps the beacons
			}
			return nil // only ever in stored documents, dropped on the way back
		}
		path := key
		if !top {
			path = prefix + key
		}
		n := nodes[key]
		if !top && n == nil {
			dst = append(dst, elem...)
			return nil
		}
		var a actions.Action
		if n != nil {
			a = n.action
		} else {
			a = m.s.policy.Action(key)
		}
		switch {
		case n != nil && n.interior() && val.Type == bsoncore.TypeEmbeddedDocument:
			dst = bsoncore.AppendHeader(dst, bsoncore.TypeEmbeddedDocument, key)
			var err error
			if dst, err = m.rebuild(dst, val.Data, path+".", n.children, false, out, toStored); err != nil {
				return err
			}
		case a == actions.EncryptAndSign:
			b, ok := out[path].(*types.AttributeValueMemberB)
			if !ok {
				return itemcrypto.ErrAuthentication
			}
			if toStored {
				dst = bsoncore.AppendBinaryElement(dst, key, CiphertextSubtype, b.Value)
				break
			}
			if len(b.Value) < 1 {
				return itemcrypto.ErrAuthentication
			}
			start := len(dst)
			dst = bsoncore.AppendHeader(dst, bsoncore.Type(b.Value[0]), key)
			dst = append(dst, b.Value[1:]...)
			if err := checkElement(dst[start:]); err != nil {
				return err
			}
		default:
			dst = append(dst, elem...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if top && toStored {
		for _, name := range m.s.enc.ReservedAttributes() {
			if b, ok := out[name].(*types.AttributeValueMemberB); ok {
				dst = bsoncore.AppendBinaryElement(dst, name, CiphertextSubtype, b.Value)
			}
		}
	}
	dst = append(dst, 0)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst)-int(idx))), nil
}

// checkElement checks that a decrypted element is one whole, valid BSON
// element: plaintext is authenticated, but a writer holding the keys could
// still have encrypted garbage.
func checkElement(elem []byte) error {
	e, rem, ok := bsoncore.ReadElement(elem)
	if !ok || len(rem) != 0 || e.Validate() != nil {
		return fmt.Errorf("%w: an encrypted field does not decrypt to a BSON value", itemcrypto.ErrAuthentication)
	}
	return nil
}

// encryptDoc returns the stored form of doc, which must have an _id.
func (c *Collection) encryptDoc(ctx context.Context, doc []byte) ([]byte, error) {
	if c.schema.noop {
		return doc, nil
	}
	var item search.Item
	if c.beacons != nil {
		var err error
		if doc, item, err = c.beacons.prepare(doc); err != nil {
			return nil, err
		}
	}
	m := newMapper(c.schema, doc, false)
	if _, err := m.fields(doc, "", c.schema.nodes, true); err != nil {
		return nil, err
	}
	out, err := c.enc.Encrypt(ctx, m.item)
	if err != nil {
		return nil, err
	}
	stored, err := m.rebuild(make([]byte, 0, len(doc)+256), doc, "", c.schema.nodes, true, out, true)
	clear(m.buf) // plaintext copies of the encrypted fields
	if err == nil && c.beacons != nil {
		stored, err = c.beacons.appendBeacons(ctx, stored, item, out)
	}
	return stored, err
}

// decryptDoc verifies the stored document doc and returns its plaintext.
// Every failure of authenticity matches itemcrypto.ErrAuthentication.
func (c *Collection) decryptDoc(ctx context.Context, doc []byte) (bson.Raw, error) {
	if c.schema.noop {
		return bson.Raw(doc), nil
	}
	m, err := c.storedMapper(doc)
	if err != nil {
		return nil, err
	}
	out, err := c.enc.Decrypt(ctx, m.item)
	if err != nil {
		return nil, err
	}
	plain, err := m.rebuild(make([]byte, 0, len(doc)), doc, "", c.schema.nodes, true, out, false)
	clearItem(out)
	if err != nil {
		return nil, err
	}
	return bson.Raw(plain), nil
}

// storedMapper maps the stored document doc onto the core's item. A
// document that cannot be mapped fails with an error matching
// itemcrypto.ErrAuthentication.
func (c *Collection) storedMapper(doc []byte) (*mapper, error) {
	m := newMapper(c.schema, doc, true)
	if _, err := m.fields(doc, "", c.schema.nodes, true); err != nil {
		if errors.Is(err, errMalformed) || errors.Is(err, ErrDuplicateField) || errors.Is(err, ErrDottedFieldName) {
			return nil, fmt.Errorf("%w: %v", itemcrypto.ErrAuthentication, err)
		}
		return nil, err
	}
	return m, nil
}

// StoredItem returns the item of the core's model ([itemcrypto.Item]) that
// the stored document doc maps onto: what [Collection.Encryptor] verifies
// and decrypts. The item's values may alias doc. A document that cannot be
// mapped (malformed, a reserved or encrypted field that is not a binary of
// CiphertextSubtype) fails with an error matching
// itemcrypto.ErrAuthentication.
//
// Most users won't need it: it is for tools that re-encrypt stored
// documents without decrypting them into Go values (itemcrypto rotate).
func (c *Collection) StoredItem(doc bson.Raw) (itemcrypto.Item, error) {
	if c.schema.noop {
		return nil, errors.New("mongoenc: StoredItem: the collection's policy does nothing; its documents are stored as they are")
	}
	m, err := c.storedMapper(doc)
	if err != nil {
		return nil, err
	}
	return m.item, nil
}

// StoredDocument returns the stored document doc (of a collection with
// the same actions) framed anew with the stored item next, which
// [Collection.Encryptor] encrypted from doc's plaintext: its encrypted
// fields replaced by next's ciphertexts, the reserved fields of doc
// dropped and next's appended. Every other field, and the field order, is
// kept.
//
// Most users won't need it: it is for tools that re-encrypt stored
// documents (itemcrypto rotate).
func (c *Collection) StoredDocument(doc bson.Raw, next itemcrypto.Item) (bson.Raw, error) {
	if c.schema.noop {
		return nil, errors.New("mongoenc: StoredDocument: the collection's policy does nothing; its documents are stored as they are")
	}
	m := newMapper(c.schema, doc, true)
	out, err := m.rebuild(make([]byte, 0, len(doc)+256), doc, "", c.schema.nodes, true, next, true)
	if err != nil {
		return nil, err
	}
	return bson.Raw(out), nil
}

// clearItem zeroes the values of a decrypted item (the plaintexts the core
// decrypted, now copied into the document, and the mapper's own copies of
// the signed values): hygiene, not a guarantee.
func clearItem(item itemcrypto.Item) {
	for _, v := range item {
		if b, ok := v.(*types.AttributeValueMemberB); ok {
			clear(b.Value)
		}
	}
	clear(item)
}

// marshal turns a document the caller passed (bson.D, bson.Raw, a struct,
// bson.M, ...) into BSON, as the driver would.
func (c *Collection) marshal(v any) (bsoncore.Document, error) {
	switch d := v.(type) {
	case nil:
		return nil, mongo.ErrNilDocument
	case bson.Raw:
		return validDoc(d)
	case []byte:
		return validDoc(d)
	case bsoncore.Document:
		return validDoc(d)
	}
	if c.reg == nil {
		b, err := bson.Marshal(v) // pooled buffers
		if err != nil {
			return nil, mongo.MarshalError{Value: v, Err: err}
		}
		return b, nil
	}
	var buf bytes.Buffer
	enc := bson.NewEncoder(bson.NewDocumentWriter(&buf))
	enc.SetRegistry(c.reg)
	if err := enc.Encode(v); err != nil {
		return nil, mongo.MarshalError{Value: v, Err: err}
	}
	return buf.Bytes(), nil
}

func validDoc(b []byte) (bsoncore.Document, error) {
	if err := bsoncore.Document(b).Validate(); err != nil {
		return nil, fmt.Errorf("mongoenc: invalid BSON document: %w", err)
	}
	return bsoncore.Document(b), nil
}

// withID returns doc with an _id: as it is when it has one, else with a new
// ObjectID (or id, when id.Type is set) as its first field, as the driver
// does.
func withID(doc bsoncore.Document, id bsoncore.Value) (bsoncore.Document, bsoncore.Value, error) {
	if v, err := doc.LookupErr(IDField); err == nil {
		return doc, v, nil
	}
	if id.Type == 0 {
		oid := bson.NewObjectID()
		id = bsoncore.Value{Type: bsoncore.TypeObjectID, Data: oid[:]}
	}
	out := make([]byte, 0, len(doc)+len(id.Data)+8)
	idx, out := bsoncore.ReserveLength(out)
	out = bsoncore.AppendValueElement(out, IDField, id)
	out = append(out, doc[4:]...)
	return bsoncore.UpdateLength(out, idx, int32(len(out))), id, nil
}

// idOf returns the _id of a document, or the zero value.
func idOf(doc []byte) bson.RawValue {
	v, err := bsoncore.Document(doc).LookupErr(IDField)
	if err != nil {
		return bson.RawValue{}
	}
	return bson.RawValue{Type: bson.Type(v.Type), Value: bytes.Clone(v.Data)} // the driver reuses its buffers
}
