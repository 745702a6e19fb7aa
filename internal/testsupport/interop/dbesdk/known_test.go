package dbesdk

import (
	"context"
	"flag"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// flagKnown runs the checks of the divergences these tests found (all fixed
// since, and kept as regression tests); -dbesdk.known=false skips them.
var flagKnown = flag.Bool("dbesdk.known", true, "run the checks of the divergences found (fixed since; regression tests)")

func knownDivergence(t *testing.T, what string) {
	t.Helper()
	if !*flagKnown {
		t.Skipf("divergence check skipped (-dbesdk.known=false): %s", what)
	}
}

func pairNamed(t *testing.T, name string) KeyringPair {
	for _, p := range rawKeyrings(t) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no keyring %s", name)
	return KeyringPair{}
}

// The reference refuses to encrypt an item without every attribute
// configured SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT ("Attribute x was
// configured with SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT but was not present
// in item to be encrypted.").
func TestMissingContextAttribute(t *testing.T) {
	knownDivergence(t, "ours encrypts an item that lacks a SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT attribute; the reference refuses it")
	ctx := context.Background()
	kp := pairNamed(t, "aes256")
	c := &Config{Table: "t", PK: "pk", Suite: suites[0], Keyring: kp.Name,
		Actions: map[string]actions.Action{"pk": actions.SignAndIncludeInEncryptionContext, "ctx": actions.SignAndIncludeInEncryptionContext, "a": actions.EncryptAndSign}}
	it := Item{"pk": &types.AttributeValueMemberS{Value: "p"}, "a": &types.AttributeValueMemberS{Value: "x"}}
	o, r := newSides(t, c, kp.Ours, kp.Ref)
	_, errR := enc(ctx, r, it)
	eo, errO := enc(ctx, o, it)
	t.Logf("reference encrypt: %v", errR)
	t.Logf("ours encrypt: %v", errO)
	if errO == nil {
		_, err := dec(ctx, r, eo)
		t.Logf("reference decrypt of ours' item: %v", err)
	}
	if (errO == nil) != (errR == nil) {
		t.Errorf("ours encrypt error %v, reference %v", errO, errR)
	}
}
