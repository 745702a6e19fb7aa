package cmp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// keyringProvider is a provider of our own: it holds several versions of an
// AES key and an HMAC key, protects new items with the current version and
// records the version in the material description, so that items written
// before a key rotation stay readable.
type keyringProvider struct {
	mu      sync.RWMutex
	current string
	keys    map[string]keyVersion
}

type keyVersion struct {
	aes *cmp.AESKey
	mac *cmp.HMACKey
}

// descKeyID is our own material description entry. The description is not
// signed: the id only selects a key, and a wrong id fails authentication.
const descKeyID = "example-key-id"

func (p *keyringProvider) add(id string, aesKey, macKey []byte) error {
	a, err := cmp.NewAESKey(aesKey)
	if err != nil {
		return err
	}
	m, err := cmp.NewHMACKey("HmacSHA256", macKey)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		p.keys = map[string]keyVersion{}
	}
	p.keys[id] = keyVersion{a, m}
	p.current = id
	return nil
}

func (p *keyringProvider) EncryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	k := p.keys[p.current]
	return cmp.NewEncryptionMaterials(k.aes, k.mac, materialdesc.Description{descKeyID: p.current})
}

func (p *keyringProvider) DecryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	k, ok := p.keys[ec.MaterialDescription[descKeyID]]
	if !ok {
		return nil, cmp.ErrNoMaterials // not one of our items
	}
	return cmp.NewDecryptionMaterials(k.aes, k.mac)
}

var _ cmp.Provider = (*keyringProvider)(nil)

// A provider of your own: any type with EncryptionMaterials and
// DecryptionMaterials, building its materials with NewEncryptionMaterials and
// NewDecryptionMaterials.
func Example_customProvider() {
	// Real programs load keys from a secret store.
	keyring := &keyringProvider{}
	if err := keyring.add("v1", bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)); err != nil {
		log.Fatal(err)
	}
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: "notes", Policy: policy, Provider: keyring})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	item := func(id, text string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"id":   &types.AttributeValueMemberS{Value: id},
			"text": &types.AttributeValueMemberS{Value: text},
		}
	}
	keyID := func(stored map[string]types.AttributeValue) string {
		d, err := materialdesc.Decode(stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
		if err != nil {
			log.Fatal(err)
		}
		return d[descKeyID]
	}

	old, err := enc.Encrypt(ctx, item("n1", "written under v1"))
	if err != nil {
		log.Fatal(err)
	}
	// Rotate: new items use v2, old ones are still read with v1.
	if err := keyring.add("v2", bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 32)); err != nil {
		log.Fatal(err)
	}
	fresh, err := enc.Encrypt(ctx, item("n2", "written under v2"))
	if err != nil {
		log.Fatal(err)
	}
	for _, stored := range []map[string]types.AttributeValue{old, fresh} {
		plain, err := enc.Decrypt(ctx, stored)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %q\n", keyID(stored), plain["text"].(*types.AttributeValueMemberS).Value)
	}

	// Claiming the other key version (the description is not signed) fails.
	d, _ := materialdesc.Decode(old[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
	d[descKeyID] = "v2"
	old[itemcrypto.MaterialDescriptionAttribute] = &types.AttributeValueMemberB{Value: d.Encode()}
	_, err = enc.Decrypt(ctx, old)
	fmt.Println("wrong key version:", errors.Is(err, itemcrypto.ErrAuthentication))
	// Output:
	// v1: "written under v1"
	// v2: "written under v2"
	// wrong key version: true
}
