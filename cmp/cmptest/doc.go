// Package cmptest is a conformance suite for cryptographic materials
// providers ([cmp.Provider]), and a deterministic fake provider for the tests
// of code that needs one.
//
// Every built-in provider runs the suite; a provider of your own should too.
// Call [Run] from a test, with a constructor that returns a new instance of
// the provider over fixed keys:
//
//	func TestConformance(t *testing.T) {
//		kek := make([]byte, 32) // one key for the whole test, shared by every instance
//		rand.Read(kek)
//		cmptest.Run(t, func(t *testing.T) cmp.Provider {
//			p, err := myprovider.New(kek)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return p
//		}, func(o *cmptest.Options) {
//			o.FreshKeyPerItem = true // myprovider makes a new content key per item
//		})
//	}
//
// Run it with -race: one subtest drives a single instance from several
// goroutines. The constructor is called many times, once or more per
// subtest. Every instance it returns must share key material (closures over
// the same key bytes, the same KMS key, the same provider store), because
// one subtest encrypts with one instance and decrypts with another. To test a
// single instance as it is, pass [Fixed](p); the suite then cannot tell
// whether a new instance finds its keys from the material description alone.
//
// # What the suite checks
//
// Subtests have stable names, so a failure says which rule broke:
//
//   - RoundTrip: an item with every attribute type, EncryptAndSign, SignOnly
//     and DoNothing attributes and an S partition key and N sort key (and a
//     table with a partition key only) decrypts to exactly the input.
//   - NewInstance: 20 items written by one instance are read by another,
//     and the other way round, and by a third that has written nothing.
//   - FreshKeyPerItem (with [Options].FreshKeyPerItem): 20 items get 20
//     different content keys and, when the description carries one, 20
//     different amzn-ddb-env-key values, and each decrypts.
//   - ForeignItems: items of a differently keyed provider ([Options].Other,
//     and a Wrapped and a Static provider with random keys that the suite
//     makes) fail to decrypt with an error matching [cmp.ErrNoMaterials] or
//     [itemcrypto.ErrAuthentication], and the other provider refuses the
//     provider's own items the same way.
//   - Concurrent: 8 goroutines each encrypt and decrypt 50 items with one
//     instance.
//   - Context: with a cancelled or expired context, the provider either
//     succeeds (a provider that does no I/O) or fails with an error matching
//     [context.Canceled] or [context.DeadlineExceeded].
//   - Materials: encryption materials carry a signing key, a content key
//     exactly when [Options].Encrypts is set, and a description that
//     survives encoding; decryption materials carry a verification key; an
//     empty description yields materials or [cmp.ErrNoMaterials].
//   - MutatedDescription: with any entry of the (unsigned) material
//     description deleted, emptied, replaced or altered, an item either
//     decrypts to exactly its plaintext or fails with
//     [itemcrypto.ErrAuthentication].
//   - Tamper: a changed ciphertext, signed attribute, partition key or
//     signature, and a copy under another table name, fail with
//     [itemcrypto.ErrAuthentication].
//
// Throughout, every call to the provider is checked: it must never return
// materials together with an error, nor neither; never panic; never modify
// the [cmp.EncryptionContext] it is given; and its materials must hold a
// signing (or verification) key.
//
// # Fake provider
//
// [NewFakeProvider] returns a provider whose keys are derived from a name,
// as Tink's fakekms derives keys from a key URI: two fakes of one name read
// each other's items, fakes of different names refuse them. It is for tests
// only; anyone who knows the name can read what it protects.
package cmptest
