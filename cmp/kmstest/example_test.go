package kmstest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// A data key made by GenerateDataKey decrypts only with the same encryption
// context. In a test, use kmstest.NewServer(t) instead of New and Close.
func Example() {
	srv := kmstest.New()
	defer srv.Close()
	_, keyARN := srv.CreateKey()
	srv.CreateAlias("alias/items", keyARN)
	client := srv.Client() // the real aws-sdk-go-v2 KMS client
	ctx := context.Background()

	ec := map[string]string{"*aws-kms-table*": "users", "id": "42"}
	gen, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String("alias/items"),
		NumberOfBytes:     aws.Int32(32),
		EncryptionContext: ec,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("data key bytes:", len(gen.Plaintext))
	fmt.Println("KeyId is the key ARN:", aws.ToString(gen.KeyId) == keyARN)

	dec, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same data key:", bytes.Equal(dec.Plaintext, gen.Plaintext))

	_, err = client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    gen.CiphertextBlob,
		EncryptionContext: map[string]string{"*aws-kms-table*": "other", "id": "42"},
	})
	var invalid *types.InvalidCiphertextException
	fmt.Println("other context rejected:", errors.As(err, &invalid))

	for _, c := range srv.Calls() {
		fmt.Printf("%s KeyId=%q table=%q error=%q\n", c.Op, c.KeyID, c.EncryptionContext["*aws-kms-table*"], c.ErrorCode)
	}
	// Output:
	// data key bytes: 32
	// KeyId is the key ARN: true
	// same data key: true
	// other context rejected: true
	// GenerateDataKey KeyId="alias/items" table="users" error=""
	// Decrypt KeyId="" table="users" error=""
	// Decrypt KeyId="" table="other" error="InvalidCiphertextException"
}
