package ddbec

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// TestPythonNumberLimits pins what happens to the numbers DynamoDB accepts
// and the Python client cannot serialize (pythonCannotWrite, kept out of the
// random items): a coefficient of more than 38 digits as spelt (trailing
// zeros count) or a last digit below 1E-165 (Etiny of Python's context).
// Python refuses to write them, signed or encrypted; our FormPython writer
// refuses them signed (ErrInvalidNumber), as Python could not verify them
// (the second case was a divergence, found here: we wrote it); encrypted, our
// ciphertext holds the canonical form, which Python decrypts.
func TestPythonNumberLimits(t *testing.T) {
	t.Parallel()
	seed, _ := runConfig(t)
	py := startOracle(t)
	specs := providers(t, seed)
	spec := specs[0]
	if _, err := py.call(spec.req); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []string{
		"100000000000000000000000000000000000000",      // 1E38, 39 digits spelt
		"99.92999999999999210896999979995999992900e-1", // 38 significant digits, 40 spelt
		"1.2345678901234567890123456789012345678E-130", // below Python's Etiny
		"1.2345678901234567890123456789012345678E-129", // last digit at 1E-166
	} {
		if !pythonCannotWrite(n) {
			t.Errorf("pythonCannotWrite(%s) = false", n)
		}
		for _, act := range []actions.Action{actions.SignOnly, actions.EncryptAndSign} {
			tc := &testCase{table: "T", pk: "pk", def: act, over: map[string]actions.Action{"pk": actions.SignOnly},
				item: itemcrypto.Item{"pk": &types.AttributeValueMemberS{Value: "k"}, "n": &types.AttributeValueMemberN{Value: n}}}
			if _, err := py.item("encrypt", spec.name, tc); err == nil {
				t.Errorf("%s (%v): Python wrote it", n, act)
			} else {
				t.Logf("%s (%v): Python encrypt: %v", n, act, err)
			}
			enc, err := (&harness{}).encryptor(tc, spec, itemcrypto.WithWriteForm(itemcrypto.FormPython))
			if err != nil {
				t.Fatal(err)
			}
			ct, err := enc.Encrypt(ctx, tc.item)
			if act == actions.SignOnly {
				if !errors.Is(err, itemcrypto.ErrInvalidNumber) {
					t.Errorf("%s signed: our FormPython Encrypt: %v, want ErrInvalidNumber", n, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s encrypted: our FormPython Encrypt: %v", n, err)
				continue
			}
			pt, err := py.item("decrypt", spec.name, tc.withItem(ct))
			if err != nil {
				t.Errorf("%s encrypted: Python decrypt: %v", n, err)
				continue
			}
			if err := sameItem(tc, tc.item, pt, pythonReads); err != nil {
				t.Errorf("%s encrypted: %v", n, err)
			}
		}
	}
}
