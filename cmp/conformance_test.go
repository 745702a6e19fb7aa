package cmp_test

import (
	crand "crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
	"time"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
)

// TestConformance runs the cmptest suite on every built-in provider. Each
// constructor closes over fixed key material, so that every instance it
// makes reads the others' items.
func TestConformance(t *testing.T) {
	t.Run("Static", func(t *testing.T) {
		enc, mac := confKey(t, 32), confKey(t, 32)
		newStatic := func(enc, mac []byte) func(t *testing.T) cmp.Provider {
			return func(t *testing.T) cmp.Provider {
				return confMust(cmp.NewStatic(cmp.StaticConfig{EncryptionKey: confAES(t, enc), SigningKey: confHMAC(t, mac)}))
			}
		}
		cmptest.Run(t, newStatic(enc, mac), func(o *cmptest.Options) {
			o.Other = newStatic(confKey(t, 32), confKey(t, 32))
		})
	})

	t.Run("StaticSignOnly", func(t *testing.T) {
		mac := confKey(t, 32)
		cmptest.Run(t, func(t *testing.T) cmp.Provider {
			return confMust(cmp.NewStatic(cmp.StaticConfig{SigningKey: confHMAC(t, mac)}))
		}, func(o *cmptest.Options) { o.Encrypts = false })
	})

	t.Run("WrappedAES", func(t *testing.T) {
		newWrapped := func(kek, mac []byte) func(t *testing.T) cmp.Provider {
			return func(t *testing.T) cmp.Provider {
				k := confAES(t, kek)
				return confMust(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: k, UnwrappingKey: k, SigningKey: confHMAC(t, mac)}))
			}
		}
		cmptest.Run(t, newWrapped(confKey(t, 32), confKey(t, 32)), func(o *cmptest.Options) {
			o.FreshKeyPerItem = true
			o.Other = confWrappedRSA(confRSAKeys()[1])
		})
	})

	t.Run("WrappedAES128", func(t *testing.T) {
		kek, mac := confKey(t, 16), confKey(t, 32)
		cmptest.Run(t, func(t *testing.T) cmp.Provider {
			k := confAES(t, kek)
			return confMust(cmp.NewWrapped(cmp.WrappedConfig{
				WrappingKey: k, UnwrappingKey: k, SigningKey: confHMAC(t, mac), ContentKeyAlgorithm: "AES/128",
			}))
		}, func(o *cmptest.Options) { o.FreshKeyPerItem = true })
	})

	t.Run("WrappedRSA", func(t *testing.T) {
		keys := confRSAKeys()
		cmptest.Run(t, confWrappedRSA(keys[0]), func(o *cmptest.Options) {
			o.FreshKeyPerItem = true
			o.Other = confWrappedRSA(keys[1])
		})
	})

	t.Run("DirectKMS", func(t *testing.T) {
		srv := kmstest.NewServer(t)
		_, keyARN := srv.CreateKey()
		_, otherARN := srv.CreateKey()
		newDirect := func(keyID string) func(t *testing.T) cmp.Provider {
			return func(t *testing.T) cmp.Provider {
				return confMust(cmp.NewDirectKMS(cmp.DirectKMSConfig{KMS: awskms.New(srv.Client()), KeyID: keyID}))
			}
		}
		cmptest.Run(t, newDirect(keyARN), func(o *cmptest.Options) {
			o.FreshKeyPerItem = true
			o.Other = newDirect(otherARN) // the same KMS, another key
		})
	})

	// Caching wrappers with small bounds, so that the suite's items
	// outlive cached materials.
	t.Run("CachingWrappedAES", func(t *testing.T) {
		kek, mac := confKey(t, 32), confKey(t, 32)
		cmptest.Run(t, func(t *testing.T) cmp.Provider {
			k := confAES(t, kek)
			inner := confMust(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: k, UnwrappingKey: k, SigningKey: confHMAC(t, mac)}))
			return confMust(cmp.NewCaching(inner, cmp.CachingConfig{MaxAge: time.Minute, MaxItems: 5, PartitionBy: cmp.PartitionByTable}))
		})
	})
	t.Run("CachingStatic", func(t *testing.T) {
		enc, mac := confKey(t, 32), confKey(t, 32)
		cmptest.Run(t, func(t *testing.T) cmp.Provider {
			inner := confMust(cmp.NewStatic(cmp.StaticConfig{EncryptionKey: confAES(t, enc), SigningKey: confHMAC(t, mac)}))
			return confMust(cmp.NewCaching(inner, cmp.CachingConfig{MaxAge: time.Minute, MaxItems: 5, PartitionBy: cmp.PartitionByTable}))
		})
	})
	t.Run("CachingDirectKMS", func(t *testing.T) {
		srv := kmstest.NewServer(t)
		_, keyARN := srv.CreateKey()
		cmptest.Run(t, func(t *testing.T) cmp.Provider {
			inner := confMust(cmp.NewDirectKMS(cmp.DirectKMSConfig{KMS: awskms.New(srv.Client()), KeyID: keyARN}))
			return confMust(cmp.NewCaching(inner, cmp.CachingConfig{MaxAge: time.Minute, MaxItems: 5}))
		})
	})

	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{
		{"MostRecent", time.Minute},
		// A TTL this short makes the concurrent subtest refresh the newest
		// version over and over, through the grace-period path.
		{"MostRecentShortTTL", time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := confMemoryStore(t)
			otherStore := confMemoryStore(t)
			newMostRecent := func(store cmp.ProviderStore) func(t *testing.T) cmp.Provider {
				return func(t *testing.T) cmp.Provider {
					return confMust(cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: "items", TTL: tc.ttl}))
				}
			}
			cmptest.Run(t, newMostRecent(store), func(o *cmptest.Options) {
				o.FreshKeyPerItem = true
				// Another store (other meta keys) with the same material
				// name: both write amzn-ddb-meta-id "items#0".
				o.Other = newMostRecent(otherStore)
			})
		})
	}
}

// confRSAKeys are generated once: 2048-bit generation is slow.
var confRSAKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(crand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// confWrappedRSA wraps content keys with RSA-OAEP and signs with
// SHA256withRSA, both under priv: the DDBEC AsymmetricStaticProvider.
func confWrappedRSA(priv *rsa.PrivateKey) func(t *testing.T) cmp.Provider {
	return func(t *testing.T) cmp.Provider {
		wrap := confMust(cmp.NewRSAWrappingKey(&priv.PublicKey))
		unwrap := confMust(cmp.NewRSAUnwrappingKey(priv))
		sign := confMust(cmp.NewRSASigningKey(priv, "SHA256withRSA"))
		return confMust(cmp.NewWrapped(cmp.WrappedConfig{
			WrappingKey: wrap, UnwrappingKey: unwrap, SigningKey: sign, VerificationKey: sign.Public(),
		}))
	}
}

// confMemoryStore is an in-memory meta store protected by a Wrapped
// provider with random keys.
func confMemoryStore(t *testing.T) *metastore.Memory {
	kek := confAES(t, confKey(t, 32))
	meta := confMust(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: confHMAC(t, confKey(t, 32))}))
	return confMust(metastore.NewMemory("meta", meta))
}

func confKey(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := crand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func confAES(t *testing.T, key []byte) *cmp.AESKey {
	t.Helper()
	return confMust(cmp.NewAESKey(key))
}

func confHMAC(t *testing.T, key []byte) *cmp.HMACKey {
	t.Helper()
	return confMust(cmp.NewHMACKey("HmacSHA256", key))
}

// confMust returns v, and panics on error: the constructors here fail only
// on a bug of this file.
func confMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
