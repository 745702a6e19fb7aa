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
	idx, out := bsoncore.ReserveLength(make([]byte, 0, len(stored)+64*(1+c.beaconCount())))
	err := forEach(stored, func(elem bsoncore.Element, key string, _ bsoncore.Value) error {
		if !isBeaconField(key) {
			out = append(out, elem...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mongoenc: WithBeacons: %w", err)
	}
	out = append(out, 0)
	out = bsoncore.UpdateLength(out, idx, int32(len(out)))
	if c.beacons == nil {
		return bson.Raw(out), nil
	}
	m, err := c.storedMapper(out)
	if err != nil {
		return nil, fmt.Errorf("mongoenc: WithBeacons: %w", err)
	}
	doc, err := m.rebuild(make([]byte, 0, len(out)), out, "", c.schema.nodes, true, plain, false)
	if err != nil {
		return nil, fmt.Errorf("mongoenc: WithBeacons: the plaintext does not fit the document: %w", err)
	}
	defer clear(doc)
	// Signed beacons are fields of the signed document: they can be checked
	// here, not added (that takes a new signature: re-encrypt the document).
	prepared, item, err := c.beacons.prepare(doc)
	if err != nil {
		return nil, err
	}
	if len(prepared) != len(doc) {
		return nil, fieldErr(c.beacons.signed[0], actions.SignOnly, fmt.Errorf("%w: the document lacks a signed beacon, which is part of its signature: re-encrypt it to add one", ErrBeaconField))
	}
	res, err := c.beacons.appendBeacons(ctx, out, item, m.item)
	if err != nil {
		return nil, err
	}
	return bson.Raw(res), nil
}

// beaconProbe and beaconProbes: BeaconIdentity hashes the beacons of
// beaconProbes strings, so that two beacon keys give the same identity
// with a chance of 2^-(Length*beaconProbes) only, even for 1-bit beacons.
const (
	beaconProbe  = "itemcryptobeaconidentityprobe"
	beaconProbes = 64
)

// BeaconIdentity returns a string that tells the collection's beacons
// apart: equal for two collections with the same beacons (standard,
// compound, signed and virtual; field paths, lengths and beacon key),
// different otherwise; "" without Config.Search. It is a SHA-256 over the
// configuration and the beacon values of 64 fixed probe documents: no key
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
	h := sha256.New()
	for _, r := range b.refs {
		fmt.Fprintf(h, "%q\x00%q\x00%t\x00", r.path, r.attr, r.asSet)
	}
	fmt.Fprintf(h, "%q\x00%q\x00%q\x00", b.s.BeaconAttributes(), b.signed, b.keyField)
	if b.keyField != "" {
		// Multi-tenant: each tenant's beacon key is its own; the
		// configuration is the identity.
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	for i := range beaconProbes {
		// One probe item: every field the beacons read holds a string of
		// letters and digits (no split character a configuration uses).
		probe := fmt.Sprintf("%s%d", beaconProbe, i)
		item := make(search.Item, len(b.refs))
		for _, r := range b.refs {
			if r.asSet {
				item[r.attr] = &types.AttributeValueMemberSS{Value: []string{probe}}
			} else {
				item[r.attr] = &types.AttributeValueMemberS{Value: probe}
			}
		}
		for _, name := range b.signed {
			delete(item, name)
		}
		signed, err := b.s.AddSignedBeacons(item)
		if err != nil {
			return "", fmt.Errorf("mongoenc: BeaconIdentity: %w", b.itemErr(err))
		}
		fields, err := b.s.EncryptedBeacons(ctx, signed, nil)
		if err != nil {
			return "", fmt.Errorf("mongoenc: BeaconIdentity: %w", b.itemErr(err))
		}
		for _, name := range b.stored {
			fmt.Fprintf(h, "%q=%v\x00", name, beaconString(fields[name]))
		}
		for _, name := range b.signed {
			fmt.Fprintf(h, "%q=%v\x00", name, beaconString(signed[name]))
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// beaconString shows a beacon value (a string or string set) for hashing.
func beaconString(v types.AttributeValue) string {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return "S" + x.Value
	case *types.AttributeValueMemberSS:
		return fmt.Sprintf("SS%q", x.Value)
	}
	return "-"
}

// beaconCount is the number of the collection's stored beacon fields.
func (c *Collection) beaconCount() int {
	if c.beacons == nil {
		return 0
	}
	return len(c.beacons.stored)
}
