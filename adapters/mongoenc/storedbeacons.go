package mongoenc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// WithBeacons returns the stored document stored with exactly the
// collection's beacons: every top-level beacon field it holds
// (aws_dbe_b_<name> and the version tag aws_dbe_v_1, whichever
// configuration wrote them) removed, and the beacons Config.Search computes
// for its plaintext appended, as InsertOne writes them. Without
// Config.Search the result has no beacon field. Every other field, and the
// field order, is kept; beacons are outside the signature, so the result
// verifies exactly as stored does.
//
// plain is the document's plaintext in the core's model: the item that
// [Collection.Encryptor] decrypted from stored's [Collection.StoredItem],
// or the item it encrypted into stored (the plaintext of any collection
// with the same actions maps onto the same attributes). WithBeacons does
// not verify stored: a plain that does not match its encrypted fields
// yields beacons of plain. A beaconed field holding a value that is not a
// string fails as on InsertOne (an error matching [ErrBeaconValue], naming
// the field); the plaintext copy made to compute the beacons is cleared
// before WithBeacons returns.
//
// Most users won't need it: it is for tools that rewrite stored documents
// (itemcrypto rotate gives every rotated document the target's beacons,
// and adds them to documents written before the collection had any).
func (c *Collection) WithBeacons(ctx context.Context, stored bson.Raw, plain itemcrypto.Item) (bson.Raw, error) {
	if c.schema.noop {
		return nil, errors.New("mongoenc: WithBeacons: the collection's policy does nothing; its documents are stored as they are")
	}
	out, _, item, encrypted, err := c.beaconInput("WithBeacons", stored, plain)
	if err != nil || c.beacons == nil {
		return bson.Raw(out), err
	}
	res, err := c.beacons.appendBeacons(ctx, out, item, encrypted)
	if err != nil {
		return nil, err
	}
	return bson.Raw(res), nil
}

// BeaconsCurrent reports whether the stored document already carries
// exactly the beacon fields [Collection.WithBeacons] would give it for
// plain (in any one beacon partition, when the beacons have partitions
// and no selector: a partition is then picked at random on write). It
// fails as WithBeacons does. A rotation uses it to leave such documents
// alone.
func (c *Collection) BeaconsCurrent(ctx context.Context, stored bson.Raw, plain itemcrypto.Item) (bool, error) {
	if c.schema.noop {
		return false, errors.New("mongoenc: BeaconsCurrent: the collection's policy does nothing; its documents are stored as they are")
	}
	_, have, item, encrypted, err := c.beaconInput("BeaconsCurrent", stored, plain)
	if err != nil {
		return false, err
	}
	if c.beacons == nil {
		return len(have) == 0, nil
	}
	ok, err := c.beacons.s.BeaconsCurrent(ctx, item, encrypted, have)
	if err != nil {
		return false, c.beacons.itemErr(err)
	}
	return ok, nil
}

// beaconInput splits stored into the document without its beacon fields
// (out) and those fields (have, strings and arrays of strings as the
// search package's values); with Config.Search it also returns the item the
// beacons hash, from plain, and the encrypted item. A document that lacks
// a signed beacon the configuration builds is refused: the beacon is part
// of its signature.
func (c *Collection) beaconInput(op string, stored bson.Raw, plain itemcrypto.Item) (out []byte, have, item search.Item, encrypted itemcrypto.Item, err error) {
	idx, out := bsoncore.ReserveLength(make([]byte, 0, len(stored)+64*(1+c.beaconCount())))
	have = search.Item{}
	err = forEach(stored, func(elem bsoncore.Element, key string, v bsoncore.Value) error {
		if !isBeaconField(key) {
			out = append(out, elem...)
			return nil
		}
		have[key] = storedBeaconValue(v)
		return nil
	})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("mongoenc: %s: %w", op, err)
	}
	out = append(out, 0)
	out = bsoncore.UpdateLength(out, idx, int32(len(out)))
	if c.beacons == nil {
		return out, have, nil, nil, nil
	}
	m, err := c.storedMapper(out)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("mongoenc: %s: %w", op, err)
	}
	doc, err := m.rebuild(make([]byte, 0, len(out)), out, "", c.schema.nodes, true, plain, false)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("mongoenc: %s: the plaintext does not fit the document: %w", op, err)
	}
	defer clear(doc)
	// Signed beacons are fields of the signed document: they can be checked
	// here, not added (that takes a new signature: re-encrypt the document).
	prepared, item, err := c.beacons.prepare(doc)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if len(prepared) != len(doc) {
		return nil, nil, nil, nil, fieldErr(c.beacons.signed[0], actions.SignOnly, fmt.Errorf("%w: the document lacks a signed beacon, which is part of its signature: re-encrypt it to add one", ErrBeaconField))
	}
	return out, have, item, m.item, nil
}

// storedBeaconValue is a stored beacon field as the search package's value:
// a string, or an array of strings as a string set; anything else as NULL,
// which equals no beacon.
func storedBeaconValue(v bsoncore.Value) types.AttributeValue {
	if s, ok := v.StringValueOK(); ok {
		return &types.AttributeValueMemberS{Value: s}
	}
	if arr, ok := v.ArrayOK(); ok {
		vals, err := arr.Values()
		set := make([]string, 0, len(vals))
		for _, e := range vals {
			s, ok := e.StringValueOK()
			if !ok {
				err = errors.New("not a string")
			}
			set = append(set, s)
		}
		if err == nil {
			return &types.AttributeValueMemberSS{Value: set}
		}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}

// BeaconIdentity returns a string that tells the collection's beacons
// apart: equal for two collections with the same beacons (standard,
// compound, signed and virtual; field paths, lengths and beacon key),
// different otherwise; "" without Config.Search. It is a SHA-256 over the
// field paths the beacons read and search.Search.BeaconIdentity (the
// configuration and the beacon values of fixed probe strings): no key
// material, and nothing about any document. With a multi-tenant key source
// (a key per tenant) it covers the configuration only. It may reach the
// beacon key store, as a query does.
//
// Most users won't need it: itemcrypto rotate binds it into the identity
// of a rotation, so that a checkpoint of a rotation to other beacons is
// not resumed.
func (c *Collection) BeaconIdentity(ctx context.Context) (string, error) {
	if c.beacons == nil {
		return "", nil
	}
	b := c.beacons
	id, err := b.s.BeaconIdentity(ctx)
	if err != nil {
		return "", fmt.Errorf("mongoenc: BeaconIdentity: %w", err)
	}
	h := sha256.New()
	for _, r := range b.refs {
		fmt.Fprintf(h, "%q\x00%q\x00%t\x00", r.path, r.attr, r.asSet)
	}
	fmt.Fprintf(h, "%q\x00%q\x00%s", b.signed, b.keyField, id)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// beaconCount is the number of the collection's stored beacon fields.
func (c *Collection) beaconCount() int {
	if c.beacons == nil {
		return 0
	}
	return len(c.beacons.stored)
}
