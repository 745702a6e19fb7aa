package kmskeyring_test

import (
	"context"
	"fmt"

	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// exampleItem encrypts a data key with kr and returns its materials.
func exampleItem(kr keyring.Keyring, ec map[string]string) (*keyring.EncryptionMaterials, error) {
	em, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, ec, nil)
	if err != nil {
		return nil, err
	}
	return em, kr.OnEncrypt(context.Background(), em)
}

func exampleDecrypt(kr keyring.Keyring, em *keyring.EncryptionMaterials) error {
	dm, err := keyring.NewDecryptionMaterials(keyring.SuiteHMAC, em.EncryptionContext())
	if err != nil {
		return err
	}
	return kr.OnDecrypt(context.Background(), dm, em.EncryptedDataKeys())
}

// A multi-Region key written in us-west-2 is read in us-east-1 with its
// replica there. The fake KMS (cmp/kmstest) stands in for AWS KMS; with
// AWS, pass awskms.New(kms.NewFromConfig(cfg)) for each region.
func ExampleNewMRK() {
	west := kmstest.New()
	defer west.Close()
	east := kmstest.New(func(o *kmstest.Options) { o.Region = "us-east-1" })
	defer east.Close()
	_, westARN := west.CreateKey(kmstest.WithMultiRegion())
	eastARN := west.ReplicateKey(westARN, east)

	writer, err := kmskeyring.NewMRK(awskms.New(west.Client()), westARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	reader, err := kmskeyring.NewMRK(awskms.New(east.Client()), eastARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(writer, map[string]string{"tenant": "a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("decrypted in us-east-1:", exampleDecrypt(reader, em) == nil)
	// Output: decrypted in us-east-1: true
}

// A discovery keyring decrypts with whatever key the item names, within
// its filter's partition and accounts; it cannot encrypt.
func ExampleNewDiscovery() {
	srv := kmstest.New()
	defer srv.Close()
	_, keyARN := srv.CreateKey()
	client := awskms.New(srv.Client())
	writer, err := kmskeyring.New(client, keyARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(writer, map[string]string{"tenant": "a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ours, err := kmskeyring.NewDiscovery(client, &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{kmstest.DefaultAccountID}})
	if err != nil {
		fmt.Println(err)
		return
	}
	theirs, err := kmskeyring.NewDiscovery(client, &kmskeyring.DiscoveryFilter{Partition: "aws", AccountIDs: []string{"444455556666"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("our accounts:", exampleDecrypt(ours, em))
	fmt.Println("another account:", exampleDecrypt(theirs, em))
	// Output:
	// our accounts: <nil>
	// another account: keyring: no encrypted data key this keyring can decrypt
}

// An MRK-aware discovery keyring of us-east-1 decrypts an item written
// with a multi-Region key in us-west-2, asking its replica in us-east-1.
func ExampleNewMRKDiscovery() {
	west := kmstest.New()
	defer west.Close()
	east := kmstest.New(func(o *kmstest.Options) { o.Region = "us-east-1" })
	defer east.Close()
	_, westARN := west.CreateKey(kmstest.WithMultiRegion())
	west.ReplicateKey(westARN, east)

	writer, err := kmskeyring.NewMRK(awskms.New(west.Client()), westARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(writer, map[string]string{"tenant": "a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	reader, err := kmskeyring.NewMRKDiscovery(awskms.New(east.Client()), "us-east-1", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("decrypted in us-east-1:", exampleDecrypt(reader, em) == nil)
	fmt.Println("KMS calls in us-east-1:", len(east.CallsFor(kmstest.OpDecrypt)))
	// Output:
	// decrypted in us-east-1: true
	// KMS calls in us-east-1: 1
}
