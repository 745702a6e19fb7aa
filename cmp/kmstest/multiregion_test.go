package kmstest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

func TestMultiRegionReplica(t *testing.T) {
	west := kmstest.NewServer(t)
	east := kmstest.NewServer(t, func(o *kmstest.Options) { o.Region = "us-east-1" })
	id, westARN := west.CreateKey(kmstest.WithMultiRegion())
	if !strings.HasPrefix(id, "mrk-") || len(id) != 36 {
		t.Fatalf("multi-Region key id %q", id)
	}
	eastARN := west.ReplicateKey(westARN, east)
	if eastARN != "arn:aws:kms:us-east-1:"+kmstest.DefaultAccountID+":key/"+id {
		t.Fatalf("replica ARN %s", eastARN)
	}
	ctx := context.Background()
	ec := map[string]string{"a": "b"}
	gen, err := west.Client().GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(westARN), NumberOfBytes: aws.Int32(32), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := east.Client().Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(eastARN), CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec})
	if err != nil || string(dec.Plaintext) != string(gen.Plaintext) || aws.ToString(dec.KeyId) != eastARN {
		t.Fatalf("the replica does not decrypt the primary's ciphertext: %v", err)
	}
	// The replica's state is its own.
	east.DisableKey(eastARN)
	_, err = east.Client().Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec})
	var disabled *types.DisabledException
	if !errors.As(err, &disabled) {
		t.Fatalf("disabled replica: %v", err)
	}
	if _, err := west.Client().Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec}); err != nil {
		t.Fatalf("the primary after disabling the replica: %v", err)
	}
	// The replica's ARN names another region: the primary's server does
	// not know it.
	_, err = west.Client().Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(eastARN), CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("replica ARN on the primary's server: %v", err)
	}
}

func TestReplicateKeyRefusals(t *testing.T) {
	west := kmstest.New()
	defer west.Close()
	east := kmstest.New(func(o *kmstest.Options) { o.Region = "us-east-1" })
	defer east.Close()
	other := kmstest.New(func(o *kmstest.Options) { o.Region, o.AccountID = "eu-west-1", "444455556666" })
	defer other.Close()
	_, srk := west.CreateKey()
	_, mrk := west.CreateKey(kmstest.WithMultiRegion())
	for name, fn := range map[string]func(){
		"single-Region key": func() { west.ReplicateKey(srk, east) },
		"same region":       func() { west.ReplicateKey(mrk, west) },
		"other account":     func() { west.ReplicateKey(mrk, other) },
		"unknown key":       func() { west.ReplicateKey("mrk-none", east) },
		"twice":             func() { west.ReplicateKey(mrk, east); west.ReplicateKey(mrk, east) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: ReplicateKey did not fail", name)
				}
			}()
			fn()
		}()
	}
}
