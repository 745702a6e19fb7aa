package cmptest_test

import (
	"context"
	"crypto/hkdf"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// saltedProvider is a provider of our own, as a user of the library might
// write one: it derives each item's content and signing keys with HKDF from
// a master key (one per key id) and a random salt stored in the item's
// material description, so that every item gets its own keys.
type saltedProvider struct {
	current string
	masters map[string][]byte // key id -> master key; read-only after construction
}

var _ cmp.Provider = (*saltedProvider)(nil)

// Our own material description entries. The description is not signed:
// a changed entry only selects other keys, and then the item fails to
// authenticate.
const (
	descKeyID = "example-key-id"
	descSalt  = "example-salt"
)

func (p *saltedProvider) keys(id string, salt []byte) (*cmp.AESKey, *cmp.HMACKey, error) {
	master, ok := p.masters[id]
	if !ok {
		return nil, nil, cmp.ErrNoMaterials // not one of our key ids
	}
	enc, err := hkdf.Key(sha256.New, master, salt, "example encryption", 32)
	if err != nil {
		return nil, nil, err
	}
	defer clear(enc)
	mac, err := hkdf.Key(sha256.New, master, salt, "example signing", 32)
	if err != nil {
		return nil, nil, err
	}
	defer clear(mac)
	aesKey, err := cmp.NewAESKey(enc)
	if err != nil {
		return nil, nil, err
	}
	hmacKey, err := cmp.NewHMACKey("HmacSHA256", mac)
	return aesKey, hmacKey, err
}

func (p *saltedProvider) EncryptionMaterials(_ context.Context, _ cmp.EncryptionContext) (*cmp.EncryptionMaterials, error) {
	salt := make([]byte, 16)
	if _, err := crand.Read(salt); err != nil {
		return nil, err
	}
	aesKey, hmacKey, err := p.keys(p.current, salt)
	if err != nil {
		return nil, err
	}
	return cmp.NewEncryptionMaterials(aesKey, hmacKey, materialdesc.Description{
		descKeyID: p.current,
		descSalt:  base64.StdEncoding.EncodeToString(salt),
	})
}

func (p *saltedProvider) DecryptionMaterials(_ context.Context, ec cmp.EncryptionContext) (*cmp.DecryptionMaterials, error) {
	id, ok1 := ec.MaterialDescription[descKeyID]
	s, ok2 := ec.MaterialDescription[descSalt]
	if !ok1 || !ok2 {
		return nil, cmp.ErrNoMaterials // another provider's item
	}
	salt, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(salt) != 16 {
		return nil, cmp.ErrAuthentication // ours, but damaged
	}
	aesKey, hmacKey, err := p.keys(id, salt)
	if err != nil {
		return nil, err
	}
	return cmp.NewDecryptionMaterials(aesKey, hmacKey)
}

// TestSaltedProviderConformance runs the conformance suite on our own
// provider. The constructor closes over fixed master keys, so that every
// instance reads the others' items.
func TestSaltedProviderConformance(t *testing.T) {
	masters := map[string][]byte{"2024": make([]byte, 32), "2025": make([]byte, 32)}
	for _, k := range masters {
		crand.Read(k)
	}
	newProvider := func(current string) func(t *testing.T) cmp.Provider {
		return func(*testing.T) cmp.Provider { return &saltedProvider{current: current, masters: masters} }
	}
	cmptest.Run(t, newProvider("2025"), func(o *cmptest.Options) {
		o.FreshKeyPerItem = true
		// Items of the same kind of provider under other master keys.
		o.Other = func(*testing.T) cmp.Provider {
			other := map[string][]byte{"2025": make([]byte, 32)}
			crand.Read(other["2025"])
			return &saltedProvider{current: "2025", masters: other}
		}
	})
}

// A plain Example cannot take a *testing.T; this one shows the test you
// write, in a _test.go file of your provider's package.
func ExampleRun() {
	testConformance := func(t *testing.T) {
		master := make([]byte, 32) // fixed for the whole test: every instance shares it
		crand.Read(master)
		cmptest.Run(t, func(t *testing.T) cmp.Provider {
			return &saltedProvider{current: "v1", masters: map[string][]byte{"v1": master}}
		}, func(o *cmptest.Options) {
			o.FreshKeyPerItem = true // a new salt, so new keys, per item
		})
	}
	fmt.Printf("%T\n", testConformance)
	// Output: func(*testing.T)
}
