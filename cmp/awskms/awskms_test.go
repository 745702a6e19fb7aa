package awskms_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

func isErr[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

func setup(t *testing.T, optFns ...func(*awskms.Options)) (*kmstest.Server, string, *awskms.KMS) {
	t.Helper()
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	return srv, arn, awskms.New(srv.Client(), optFns...)
}

var ec = map[string]string{"*aws-kms-table*": "t", "id": "1"}

func TestRoundTrip(t *testing.T) {
	srv, arn, k := setup(t)
	ctx := context.Background()
	plain, blob, err := k.GenerateDataKey(ctx, arn, 32, ec)
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	if len(plain) != 32 || len(blob) == 0 {
		t.Fatalf("GenerateDataKey = %d-byte key, %d-byte blob", len(plain), len(blob))
	}
	for _, keyID := range []string{"", arn} {
		got, err := k.Decrypt(ctx, keyID, blob, ec)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Decrypt(keyID %q) = %x, %v; want the data key", keyID, got, err)
		}
	}
	secret := []byte("a small key")
	ct, err := k.Encrypt(ctx, arn, secret, ec)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if got, err := k.Decrypt(ctx, "", ct, ec); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("Decrypt of Encrypt = %q, %v", got, err)
	}

	calls := srv.Calls()
	type sent struct {
		op, keyID string
		n         int32
	}
	var got []sent
	for _, c := range calls {
		got = append(got, sent{c.Op, c.KeyID, c.NumberOfBytes})
		if !reflect.DeepEqual(c.EncryptionContext, ec) || c.ErrorCode != "" {
			t.Errorf("%s: context %v, error %q; want %v and success", c.Op, c.EncryptionContext, c.ErrorCode, ec)
		}
	}
	want := []sent{
		{"GenerateDataKey", arn, 32},
		{"Decrypt", "", 0}, // no KeyId when none is given
		{"Decrypt", arn, 0},
		{"Encrypt", arn, 0},
		{"Decrypt", "", 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %+v, want %+v", got, want)
	}
}

func TestGrantTokens(t *testing.T) {
	tokens := []string{"grant-token-1", "grant-token-2"}
	srv, arn, k := setup(t, func(o *awskms.Options) { o.GrantTokens = tokens })
	ctx := context.Background()
	_, blob, err := k.GenerateDataKey(ctx, arn, 32, ec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Decrypt(ctx, arn, blob, ec); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Encrypt(ctx, arn, []byte("x"), ec); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3", len(calls))
	}
	for _, c := range calls {
		if !slices.Equal(c.GrantTokens, tokens) {
			t.Errorf("%s sent grant tokens %q, want %q", c.Op, c.GrantTokens, tokens)
		}
	}

	// Without the option, none are sent.
	srv2, arn2, k2 := setup(t)
	if _, _, err := k2.GenerateDataKey(ctx, arn2, 32, ec); err != nil {
		t.Fatal(err)
	}
	if c := srv2.Calls(); len(c) != 1 || len(c[0].GrantTokens) != 0 {
		t.Errorf("calls without the option = %+v, want no grant tokens", c)
	}
}

// TestWithGrantTokens: the derived client sends its tokens after the
// client's own on every operation, asymmetric ones included, and leaves
// the receiver as it was.
func TestWithGrantTokens(t *testing.T) {
	srv, arn, k := setup(t, func(o *awskms.Options) { o.GrantTokens = []string{"own"} })
	_, ecc := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecP256))
	ctx := context.Background()
	added := []string{"added-1", "added-2"}
	d, ok := k.WithGrantTokens(added).(*awskms.KMS)
	if !ok {
		t.Fatal("WithGrantTokens did not return a *awskms.KMS")
	}
	added[0] = "changed after the call"
	if _, _, err := d.GenerateDataKey(ctx, arn, 32, ec); err != nil {
		t.Fatal(err)
	}
	pub, _, err := d.GetPublicKey(ctx, ecc)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.DeriveSharedSecret(ctx, ecc, pub); err != nil {
		t.Fatal(err)
	}
	want := []string{"own", "added-1", "added-2"}
	for _, c := range srv.Calls() {
		if !slices.Equal(c.GrantTokens, want) {
			t.Errorf("%s sent %q, want %q", c.Op, c.GrantTokens, want)
		}
	}
	srv.ResetCalls()
	if _, _, err := k.GenerateDataKey(ctx, arn, 32, ec); err != nil {
		t.Fatal(err)
	}
	if c := srv.Calls(); len(c) != 1 || !slices.Equal(c[0].GrantTokens, []string{"own"}) {
		t.Errorf("the receiver's calls = %+v, want its own token only", c)
	}
}

// TestDecryptRefused: a ciphertext KMS refuses to decrypt is an
// authentication failure, with the SDK error still reachable.
func TestDecryptRefused(t *testing.T) {
	srv, arn, k := setup(t)
	ctx := context.Background()
	_, blob, err := k.GenerateDataKey(ctx, arn, 32, ec)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(blob)
	tampered[len(tampered)-1] ^= 1
	otherSrv := kmstest.NewServer(t)
	otherSrv.CreateKey()
	foreign := awskms.New(otherSrv.Client())
	tests := []struct {
		name string
		call func() ([]byte, error)
	}{
		{"other context", func() ([]byte, error) {
			return k.Decrypt(ctx, "", blob, map[string]string{"*aws-kms-table*": "other", "id": "1"})
		}},
		{"no context", func() ([]byte, error) { return k.Decrypt(ctx, arn, blob, nil) }},
		{"tampered blob", func() ([]byte, error) { return k.Decrypt(ctx, arn, tampered, ec) }},
		{"garbage blob", func() ([]byte, error) { return k.Decrypt(ctx, "", []byte("not a blob at all, really"), ec) }},
		{"blob of another KMS", func() ([]byte, error) { return foreign.Decrypt(ctx, "", blob, ec) }},
		{"injected", func() ([]byte, error) {
			srv.FailNext(kmstest.OpDecrypt, kmstest.CodeInvalidCiphertext, 1)
			return k.Decrypt(ctx, arn, blob, ec)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.call()
			if got != nil {
				t.Errorf("plaintext returned with the error")
			}
			if !errors.Is(err, cmp.ErrAuthentication) {
				t.Fatalf("error = %v, want a match for cmp.ErrAuthentication", err)
			}
			if isErr[*cmp.KMSError](err) {
				t.Errorf("refused ciphertext is also a *cmp.KMSError: %v", err)
			}
			if !isErr[*types.InvalidCiphertextException](err) {
				t.Errorf("SDK error not reachable from %v", err)
			}
		})
	}
	if _, err := k.Decrypt(ctx, arn, blob, ec); err != nil {
		t.Errorf("the untouched blob no longer decrypts: %v", err)
	}
}

// TestDecryptIncorrectKey: a data key of another KMS key than the one named
// matches cmp.ErrNoMaterials (another provider's item).
func TestDecryptIncorrectKey(t *testing.T) {
	srv, arn, k := setup(t)
	_, other := srv.CreateKey()
	ctx := context.Background()
	_, blob, err := k.GenerateDataKey(ctx, arn, 32, ec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Decrypt(ctx, other, blob, ec)
	if got != nil || !errors.Is(err, cmp.ErrNoMaterials) || isErr[*cmp.KMSError](err) || !isErr[*types.IncorrectKeyException](err) {
		t.Errorf("Decrypt naming another key = %x, %v; want nil and cmp.ErrNoMaterials reaching *types.IncorrectKeyException", got, err)
	}
}

// TestFailures: every other failure is a *cmp.KMSError naming the operation
// and key, whose chain reaches the SDK error.
func TestFailures(t *testing.T) {
	ops := []string{"GenerateDataKey", "Decrypt", "Encrypt"}
	tests := []struct {
		name   string
		code   string
		inject bool                    // FailNext the code; otherwise prep does the job
		keyRef func(arn string) string // the key named; default the good key
		prep   func(srv *kmstest.Server, arn string)
		typed  func(error) bool
	}{
		{name: "throttling", code: "ThrottlingException", inject: true},
		{name: "access denied", code: "AccessDeniedException", inject: true},
		{name: "internal", code: "KMSInternalException", inject: true, typed: isErr[*types.KMSInternalException]},
		{name: "InvalidCiphertext outside Decrypt is no authentication failure", code: "InvalidCiphertextException", inject: true, typed: isErr[*types.InvalidCiphertextException]},
		{name: "disabled key", code: "DisabledException", typed: isErr[*types.DisabledException],
			prep: func(srv *kmstest.Server, arn string) { srv.DisableKey(arn) }},
		{name: "pending deletion", code: "KMSInvalidStateException", typed: isErr[*types.KMSInvalidStateException],
			prep: func(srv *kmstest.Server, arn string) { srv.ScheduleKeyDeletion(arn) }},
		{name: "unknown key", code: "NotFoundException", typed: isErr[*types.NotFoundException],
			keyRef: func(string) string { return "alias/nope" }},
		{name: "too many grant tokens", code: "ValidationException"}, // set up below
	}
	for _, tc := range tests {
		for _, op := range ops {
			if tc.code == "InvalidCiphertextException" && op == "Decrypt" {
				continue // TestDecryptRefused
			}
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				var opts []func(*awskms.Options)
				if tc.code == "ValidationException" {
					opts = append(opts, func(o *awskms.Options) { o.GrantTokens = make([]string, 11) })
				}
				srv, arn, k := setup(t, opts...)
				ctx := context.Background()
				good := awskms.New(srv.Client())
				_, blob, err := good.GenerateDataKey(ctx, arn, 32, ec)
				if err != nil {
					t.Fatal(err)
				}
				keyRef := arn
				if tc.keyRef != nil {
					keyRef = tc.keyRef(arn)
				}
				if tc.prep != nil {
					tc.prep(srv, arn)
				}
				if tc.inject {
					srv.FailNext(op, tc.code, 1)
				}
				var out []byte
				switch op {
				case "GenerateDataKey":
					var c []byte
					out, c, err = k.GenerateDataKey(ctx, keyRef, 32, ec)
					if c != nil {
						t.Errorf("ciphertext returned with the error")
					}
				case "Decrypt":
					out, err = k.Decrypt(ctx, keyRef, blob, ec)
				case "Encrypt":
					out, err = k.Encrypt(ctx, keyRef, []byte("x"), ec)
				}
				if out != nil {
					t.Errorf("result returned with the error")
				}
				var kerr *cmp.KMSError
				if !errors.As(err, &kerr) {
					t.Fatalf("error %v (%T) is not a *cmp.KMSError", err, err)
				}
				if kerr.Op != op || kerr.KeyID != keyRef {
					t.Errorf("KMSError{Op: %q, KeyID: %q}, want %q %q", kerr.Op, kerr.KeyID, op, keyRef)
				}
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
					t.Errorf("error %v does not reach a smithy.APIError %s", err, tc.code)
				}
				if tc.typed != nil && !tc.typed(err) {
					t.Errorf("error %v does not reach the typed SDK error", err)
				}
				if errors.Is(err, cmp.ErrAuthentication) || errors.Is(err, cmp.ErrNoMaterials) {
					t.Errorf("KMS failure %v matches ErrAuthentication or ErrNoMaterials", err)
				}
				if msg := err.Error(); !strings.Contains(msg, op) || !strings.Contains(msg, keyRef) || !strings.Contains(msg, tc.code) {
					t.Errorf("message %q does not name the operation, key and code", msg)
				}
			})
		}
	}
}

func TestContextCanceled(t *testing.T) {
	_, arn, k := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := k.GenerateDataKey(ctx, arn, 32, ec)
	if !errors.Is(err, context.Canceled) || !isErr[*cmp.KMSError](err) {
		t.Errorf("GenerateDataKey with a canceled context = %v; want a *cmp.KMSError matching context.Canceled", err)
	}
}
