package cmptest

import (
	"crypto/hkdf"
	"crypto/sha256"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// FakeDescriptionKey is the material description entry in which a fake
// provider records its name.
const FakeDescriptionKey = "cmptest-fake"

// NewFakeProvider returns a provider for tests whose keys are derived from
// name: a [cmp.Wrapped] provider (a fresh AES-256 content key per item,
// wrapped with AES key wrap, items signed with HMAC-SHA256) that writes
// FakeDescriptionKey = name into every material description and serves only
// items that carry it. Fakes of one name read each other's items, in any
// process; a fake of another name refuses them with an error matching
// [cmp.ErrNoMaterials].
//
// Its keys are public knowledge: never protect real data with it.
func NewFakeProvider(name string) cmp.Provider {
	kek := derive(name, "cmptest fake key-encryption key")
	mac := derive(name, "cmptest fake signing key")
	defer clear(kek)
	defer clear(mac)
	aesKey, err := cmp.NewAESKey(kek)
	if err != nil {
		panic(err)
	}
	hmacKey, err := cmp.NewHMACKey("HmacSHA256", mac)
	if err != nil {
		panic(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{
		WrappingKey: aesKey, UnwrappingKey: aesKey, SigningKey: hmacKey,
		Description: materialdesc.Description{FakeDescriptionKey: name},
	})
	if err != nil {
		panic(err)
	}
	return p
}

func derive(name, label string) []byte {
	k, err := hkdf.Key(sha256.New, []byte(name), nil, label, 32)
	if err != nil {
		panic(err)
	}
	return k
}
