package kmstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

var arnRE = regexp.MustCompile(`^arn:aws:kms:us-west-2:111122223333:key/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func ddbContext() map[string]string {
	return map[string]string{
		"*amzn-ddb-env-alg*": "AES/256",
		"*amzn-ddb-sig-alg*": "HmacSHA256/256",
		"*aws-kms-table*":    "users",
		"id":                 "42",
	}
}

func generate(t *testing.T, c *kms.Client, keyID string, ec map[string]string) *kms.GenerateDataKeyOutput {
	t.Helper()
	out, err := c.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{
		KeyId:             aws.String(keyID),
		NumberOfBytes:     aws.Int32(32),
		EncryptionContext: ec,
	})
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	return out
}

func wantErr[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("error = %v (%T), want %T", err, err, target)
	}
	return target
}

func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v (%T), want smithy.APIError %s", err, err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("ErrorCode = %q (%v), want %q", apiErr.ErrorCode(), err, code)
	}
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) {
		t.Fatalf("error %v carries no *awshttp.ResponseError", err)
	}
	if got := respErr.HTTPStatusCode(); got != status {
		t.Errorf("HTTP status = %d, want %d", got, status)
	}
	if respErr.ServiceRequestID() == "" {
		t.Errorf("no request id in %v", err)
	}
}

func TestGenerateDataKeyDecrypt(t *testing.T) {
	srv := kmstest.NewServer(t)
	keyID, arn := srv.CreateKey()
	if !arnRE.MatchString(arn) || !strings.HasSuffix(arn, "/"+keyID) {
		t.Fatalf("CreateKey = %q, %q", keyID, arn)
	}
	c := srv.Client()
	ctx := context.Background()

	gen := generate(t, c, arn, ddbContext())
	if len(gen.Plaintext) != 32 {
		t.Fatalf("len(Plaintext) = %d, want 32", len(gen.Plaintext))
	}
	if aws.ToString(gen.KeyId) != arn {
		t.Errorf("GenerateDataKey KeyId = %q, want %q", aws.ToString(gen.KeyId), arn)
	}
	if bytes.Contains(gen.CiphertextBlob, gen.Plaintext) {
		t.Fatal("ciphertext blob contains the plaintext data key")
	}

	// As the DynamoDB Encryption Client does: no KeyId on Decrypt.
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ddbContext()})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(dec.Plaintext, gen.Plaintext) {
		t.Error("Decrypt returned a different plaintext")
	}
	if aws.ToString(dec.KeyId) != arn {
		t.Errorf("Decrypt KeyId = %q, want %q", aws.ToString(dec.KeyId), arn)
	}
	if dec.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("EncryptionAlgorithm = %q", dec.EncryptionAlgorithm)
	}

	// With a matching KeyId (given as the bare id) it works too.
	dec, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ddbContext(), KeyId: aws.String(keyID)})
	if err != nil || !bytes.Equal(dec.Plaintext, gen.Plaintext) {
		t.Fatalf("Decrypt with KeyId: %v", err)
	}

	// Two data keys differ.
	if bytes.Equal(generate(t, c, arn, ddbContext()).Plaintext, gen.Plaintext) {
		t.Error("two GenerateDataKey calls returned the same data key")
	}
}

func TestGenerateDataKeySizes(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	c := srv.Client()
	ctx := context.Background()

	for _, tc := range []struct {
		in   kms.GenerateDataKeyInput
		want int
	}{
		{kms.GenerateDataKeyInput{KeySpec: types.DataKeySpecAes256}, 32},
		{kms.GenerateDataKeyInput{KeySpec: types.DataKeySpecAes128}, 16},
		{kms.GenerateDataKeyInput{NumberOfBytes: aws.Int32(1)}, 1},
		{kms.GenerateDataKeyInput{NumberOfBytes: aws.Int32(1024)}, 1024},
	} {
		tc.in.KeyId = aws.String(arn)
		out, err := c.GenerateDataKey(ctx, &tc.in)
		if err != nil {
			t.Fatalf("GenerateDataKey(%+v): %v", tc.in, err)
		}
		if len(out.Plaintext) != tc.want {
			t.Errorf("len(Plaintext) = %d, want %d", len(out.Plaintext), tc.want)
		}
	}

	for name, in := range map[string]*kms.GenerateDataKeyInput{
		"neither":  {KeyId: aws.String(arn)},
		"both":     {KeyId: aws.String(arn), NumberOfBytes: aws.Int32(32), KeySpec: types.DataKeySpecAes256},
		"zero":     {KeyId: aws.String(arn), NumberOfBytes: aws.Int32(0)},
		"too many": {KeyId: aws.String(arn), NumberOfBytes: aws.Int32(1025)},
		"bad spec": {KeyId: aws.String(arn), KeySpec: "AES_512"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.GenerateDataKey(ctx, in)
			wantCode(t, err, "ValidationException", 400)
		})
	}

	// The SDK validates the required KeyId before sending anything.
	if _, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{NumberOfBytes: aws.Int32(32)}); err == nil {
		t.Error("GenerateDataKey without KeyId succeeded")
	}

	wo, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{
		KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256, EncryptionContext: ddbContext(),
	})
	if err != nil {
		t.Fatalf("GenerateDataKeyWithoutPlaintext: %v", err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wo.CiphertextBlob, EncryptionContext: ddbContext()})
	if err != nil || len(dec.Plaintext) != 32 {
		t.Fatalf("Decrypt of GenerateDataKeyWithoutPlaintext blob: %v", err)
	}
}

func TestDecryptContextMismatch(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	c := srv.Client()
	ctx := context.Background()
	gen := generate(t, c, arn, ddbContext())

	changed := ddbContext()
	changed["*aws-kms-table*"] = "other-table"
	extra := ddbContext()
	extra["extra"] = ""
	missing := ddbContext()
	delete(missing, "id")
	swapped := ddbContext()
	swapped["id"], swapped["*aws-kms-table*"] = swapped["*aws-kms-table*"], swapped["id"]
	tampered := bytes.Clone(gen.CiphertextBlob)
	tampered[len(tampered)-1] ^= 1

	for name, in := range map[string]*kms.DecryptInput{
		"changed value":  {CiphertextBlob: gen.CiphertextBlob, EncryptionContext: changed},
		"extra pair":     {CiphertextBlob: gen.CiphertextBlob, EncryptionContext: extra},
		"missing pair":   {CiphertextBlob: gen.CiphertextBlob, EncryptionContext: missing},
		"swapped values": {CiphertextBlob: gen.CiphertextBlob, EncryptionContext: swapped},
		"no context":     {CiphertextBlob: gen.CiphertextBlob},
		"tampered blob":  {CiphertextBlob: tampered, EncryptionContext: ddbContext()},
		"garbage blob":   {CiphertextBlob: []byte("not a kms ciphertext"), EncryptionContext: ddbContext()},
		"truncated blob": {CiphertextBlob: gen.CiphertextBlob[:20], EncryptionContext: ddbContext()},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Decrypt(ctx, in)
			wantErr[*types.InvalidCiphertextException](t, err)
			wantCode(t, err, "InvalidCiphertextException", 400)
		})
	}

	// A nil and an empty context are the same, as in KMS.
	gen = generate(t, c, arn, nil)
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: map[string]string{}}); err != nil {
		t.Fatalf("Decrypt with empty context of a blob made without one: %v", err)
	}

	// A blob from another server (another key set) does not decrypt here.
	other := kmstest.NewServer(t)
	_, otherARN := other.CreateKey()
	foreign := generate(t, other.Client(), otherARN, ddbContext())
	_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: foreign.CiphertextBlob, EncryptionContext: ddbContext()})
	wantErr[*types.InvalidCiphertextException](t, err)
}

func TestEncryptDecrypt(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	c := srv.Client()
	ctx := context.Background()
	msg := []byte("attack at dawn")

	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: msg, EncryptionContext: ddbContext()})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if aws.ToString(enc.KeyId) != arn || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("Encrypt KeyId = %q, EncryptionAlgorithm = %q", aws.ToString(enc.KeyId), enc.EncryptionAlgorithm)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:      enc.CiphertextBlob,
		EncryptionContext:   ddbContext(),
		EncryptionAlgorithm: types.EncryptionAlgorithmSpecSymmetricDefault,
	})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(dec.Plaintext, msg) || aws.ToString(dec.KeyId) != arn {
		t.Errorf("Decrypt = %q, %q", dec.Plaintext, aws.ToString(dec.KeyId))
	}

	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ddbContext(), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	wantErr[*types.InvalidKeyUsageException](t, err)

	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: make([]byte, 4097)})
	wantCode(t, err, "ValidationException", 400)

	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: msg, DryRun: aws.Bool(true)})
	wantErr[*types.DryRunOperationException](t, err)
	wantCode(t, err, "DryRunOperationException", 412)
}

func TestKeyReferences(t *testing.T) {
	srv := kmstest.NewServer(t)
	keyID, arn := srv.CreateKey()
	otherID, otherARN := srv.CreateKey()
	aliasARN := srv.CreateAlias("alias/ddb-items", keyID)
	if aliasARN != "arn:aws:kms:us-west-2:111122223333:alias/ddb-items" {
		t.Fatalf("CreateAlias = %q", aliasARN)
	}
	c := srv.Client()
	ctx := context.Background()

	for _, ref := range []string{keyID, arn, "alias/ddb-items", aliasARN} {
		gen := generate(t, c, ref, nil)
		if aws.ToString(gen.KeyId) != arn {
			t.Errorf("GenerateDataKey(%q) KeyId = %q, want %q", ref, aws.ToString(gen.KeyId), arn)
		}
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, KeyId: aws.String(ref)})
		if err != nil || aws.ToString(dec.KeyId) != arn {
			t.Errorf("Decrypt with KeyId %q: %v", ref, err)
		}
	}

	for _, ref := range []string{
		"0f0e0d0c-0000-4000-8000-000000000000",
		"arn:aws:kms:us-west-2:111122223333:key/0f0e0d0c-0000-4000-8000-000000000000",
		"arn:aws:kms:eu-west-1:111122223333:key/" + keyID, // wrong region
		"arn:aws:kms:us-west-2:444455556666:key/" + keyID, // wrong account
		"alias/nope",
		"arn:aws:kms:us-west-2:111122223333:alias/nope",
	} {
		_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(ref), NumberOfBytes: aws.Int32(32)})
		wantErr[*types.NotFoundException](t, err)
	}

	// Decrypt with a KeyId naming another key: IncorrectKeyException.
	gen := generate(t, c, arn, nil)
	for _, ref := range []string{otherID, otherARN} {
		_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, KeyId: aws.String(ref)})
		wantErr[*types.IncorrectKeyException](t, err)
	}

	// Repointing an alias.
	srv.CreateAlias("alias/ddb-items", otherARN)
	if got := aws.ToString(generate(t, c, "alias/ddb-items", nil).KeyId); got != otherARN {
		t.Errorf("after repointing, alias resolves to %q, want %q", got, otherARN)
	}
}

func TestOptionsAndKeyOptions(t *testing.T) {
	srv := kmstest.NewServer(t, func(o *kmstest.Options) {
		o.Region = "eu-central-1"
		o.AccountID = "999988887777"
	})
	keyID, arn := srv.CreateKey(kmstest.WithKeyID("my-key"), kmstest.WithKeyMaterial(bytes.Repeat([]byte{7}, 32)))
	if keyID != "my-key" || arn != "arn:aws:kms:eu-central-1:999988887777:key/my-key" {
		t.Fatalf("CreateKey = %q, %q", keyID, arn)
	}
	c := srv.Client()
	gen := generate(t, c, "my-key", nil)
	if aws.ToString(gen.KeyId) != arn {
		t.Errorf("KeyId = %q", aws.ToString(gen.KeyId))
	}

	// A client signing for another region is refused, as KMS does.
	wrong := srv.Client(func(o *kms.Options) { o.Region = "us-east-1" })
	_, err := wrong.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(arn), NumberOfBytes: aws.Int32(32)})
	wantCode(t, err, "InvalidSignatureException", 400)
}

func TestKeyStates(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	srv.CreateAlias("alias/k", arn)
	c := srv.Client()
	ctx := context.Background()
	gen := generate(t, c, arn, ddbContext())
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}

	all := func(check func(t *testing.T, err error)) {
		t.Helper()
		_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String("alias/k"), NumberOfBytes: aws.Int32(32)})
		check(t, err)
		_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("x")})
		check(t, err)
		_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ddbContext()})
		check(t, err)
		_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyId: aws.String(arn)})
		check(t, err)
	}

	srv.DisableKey("alias/k")
	all(func(t *testing.T, err error) {
		t.Helper()
		e := wantErr[*types.DisabledException](t, err)
		if !strings.Contains(e.ErrorMessage(), arn) {
			t.Errorf("message %q does not name the key", e.ErrorMessage())
		}
	})
	srv.ScheduleKeyDeletion(arn)
	all(func(t *testing.T, err error) {
		t.Helper()
		wantErr[*types.KMSInvalidStateException](t, err)
	})
	srv.EnableKey(arn)
	all(func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("after EnableKey: %v", err)
		}
	})

	_, disabledARN := srv.CreateKey(kmstest.WithKeyState(kmstest.KeyStateDisabled))
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(disabledARN), Plaintext: []byte("x")})
	wantErr[*types.DisabledException](t, err)
}

func TestThrottling(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	c := srv.Client()
	ctx := context.Background()

	srv.FailNext(kmstest.OpGenerateDataKey, "ThrottlingException", 1)
	start := time.Now()
	_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), NumberOfBytes: aws.Int32(32)})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("throttled call took %v", d)
	}
	wantCode(t, err, "ThrottlingException", 400)
	if calls := srv.Calls(); len(calls) != 1 || calls[0].ErrorCode != "ThrottlingException" {
		t.Fatalf("calls = %+v, want one throttled call (no retries)", calls)
	}
	// Only one failure was queued.
	generate(t, c, arn, nil)

	// FailNext for one operation leaves the others alone.
	srv.FailNext(kmstest.OpDecrypt, "ThrottlingException", 1)
	gen := generate(t, c, arn, nil)
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob})
	wantCode(t, err, "ThrottlingException", 400)

	// A client that retries does so without backoff delays.
	srv.ResetCalls()
	retrying := srv.Client(func(o *kms.Options) { o.RetryMaxAttempts = 3 })
	srv.FailNext("", "ThrottlingException", 2)
	start = time.Now()
	if _, err := retrying.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt with retries: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("retried call took %v", d)
	}
	var codes []string
	for _, c := range srv.Calls() {
		codes = append(codes, c.ErrorCode)
	}
	if fmt.Sprint(codes) != "[ThrottlingException ThrottlingException ]" {
		t.Errorf("attempts = %q", codes)
	}

	// Server faults get a 5xx status.
	srv.FailNext("", "KMSInternalException", 1)
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob})
	wantErr[*types.KMSInternalException](t, err)
	wantCode(t, err, "KMSInternalException", 500)
}

func TestSetFailure(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, allowed := srv.CreateKey()
	_, denied := srv.CreateKey()
	c := srv.Client()
	ctx := context.Background()
	genAllowed := generate(t, c, allowed, nil)
	genDenied := generate(t, c, denied, nil)

	srv.SetFailure(func(call kmstest.Call) *kmstest.Failure {
		if call.Op == kmstest.OpDecrypt && call.KeyARN == denied {
			return &kmstest.Failure{Code: "AccessDeniedException", Message: "User: arn:aws:iam::111122223333:user/test is not authorized to perform: kms:Decrypt"}
		}
		return nil
	})
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: genAllowed.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt with allowed key: %v", err)
	}
	_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: genDenied.CiphertextBlob})
	wantCode(t, err, "AccessDeniedException", 400)
	var apiErr smithy.APIError
	errors.As(err, &apiErr)
	if !strings.Contains(apiErr.ErrorMessage(), "not authorized") {
		t.Errorf("message = %q", apiErr.ErrorMessage())
	}

	srv.SetFailure(nil)
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: genDenied.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt after SetFailure(nil): %v", err)
	}

	// Any code can be injected; modeled ones come back typed.
	srv.FailNext("", "DependencyTimeoutException", 1)
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: genDenied.CiphertextBlob})
	wantErr[*types.DependencyTimeoutException](t, err)
	wantCode(t, err, "DependencyTimeoutException", 503)
}

func TestUnsupportedOperation(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, err := srv.Client().ListKeys(context.Background(), &kms.ListKeysInput{})
	wantErr[*types.UnsupportedOperationException](t, err)
	wantCode(t, err, "UnsupportedOperationException", 400)
	if calls := srv.Calls(); len(calls) != 1 || calls[0].Op != "ListKeys" {
		t.Errorf("calls = %+v", calls)
	}
}

// rawPost sends a hand-made request; the Authorization header only has to
// look like SigV4 for the right region and service.
func rawPost(t *testing.T, srv *kmstest.Server, target string, auth bool, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if auth {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-west-2/kms/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type = %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("response body %q: %v", raw, err)
	}
	return resp, m
}

func TestWireFormat(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()

	resp, m := rawPost(t, srv, "TrentService.GenerateDataKey", true,
		`{"KeyId":"`+arn+`","NumberOfBytes":32,"EncryptionContext":{"a":"b"},"GrantTokens":["g1"]}`)
	if resp.StatusCode != 200 || m["KeyId"] != arn || len(m) != 3 {
		t.Fatalf("GenerateDataKey: %d %v", resp.StatusCode, keysOf(m))
	}
	blob, _ := m["CiphertextBlob"].(string)
	resp, m = rawPost(t, srv, "TrentService.Decrypt", true, `{"CiphertextBlob":"`+blob+`","EncryptionContext":{"a":"b"}}`)
	if resp.StatusCode != 200 || fmt.Sprint(keysOf(m)) != "[EncryptionAlgorithm KeyId Plaintext]" || m["EncryptionAlgorithm"] != "SYMMETRIC_DEFAULT" {
		t.Fatalf("Decrypt: %d %v", resp.StatusCode, m)
	}

	for _, tc := range []struct {
		target string
		auth   bool
		body   string
		code   string
	}{
		{"TrentService.Decrypt", true, `{"CiphertextBlob":"` + blob + `"}`, "InvalidCiphertextException"},
		{"TrentService.Decrypt", true, `{"CiphertextBlob":`, "SerializationException"},
		{"TrentService.GenerateDataKey", true, `{"NumberOfBytes":32}`, "ValidationException"},
		{"TrentService.GenerateDataKey", false, `{}`, "MissingAuthenticationTokenException"},
		{"TrentService.CreateKey", true, `{}`, "UnsupportedOperationException"},
		{"OtherService.Decrypt", true, `{}`, "UnknownOperationException"},
		{"", true, `{}`, "UnknownOperationException"},
	} {
		resp, m := rawPost(t, srv, tc.target, tc.auth, tc.body)
		if resp.StatusCode != 400 || m["__type"] != tc.code {
			t.Errorf("%s %s: %d %v, want 400 %s", tc.target, tc.body, resp.StatusCode, m, tc.code)
		}
		for k := range m {
			if k != "__type" && k != "message" {
				t.Errorf("unexpected error body member %q", k)
			}
		}
	}
}

func keysOf(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func TestCalls(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	srv.CreateAlias("alias/items", arn)
	c := srv.Client()
	ctx := context.Background()

	out, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String("alias/items"),
		NumberOfBytes:     aws.Int32(32),
		EncryptionContext: ddbContext(),
		GrantTokens:       []string{"grant-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := ddbContext()
	bad["id"] = "43"
	c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: bad})

	calls := srv.Calls()
	want := []kmstest.Call{
		{Op: "GenerateDataKey", KeyID: "alias/items", KeyARN: arn, EncryptionContext: ddbContext(), GrantTokens: []string{"grant-1"}, NumberOfBytes: 32},
		{Op: "Decrypt", KeyARN: arn, EncryptionContext: bad, ErrorCode: "InvalidCiphertextException"},
	}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("Calls() =\n%+v\nwant\n%+v", calls, want)
	}
	if got := srv.CallsFor(kmstest.OpDecrypt); len(got) != 1 {
		t.Errorf("CallsFor(Decrypt) = %+v", got)
	}

	// The returned calls are copies.
	calls[0].EncryptionContext["id"] = "mutated"
	if srv.Calls()[0].EncryptionContext["id"] != "42" {
		t.Error("Calls() shares maps with the server")
	}

	// A Call has no room for key material.
	for f := range reflect.TypeFor[kmstest.Call]().Fields() {
		if f.Type == reflect.TypeFor[[]byte]() {
			t.Errorf("Call.%s is a []byte", f.Name)
		}
	}

	srv.ResetCalls()
	if len(srv.Calls()) != 0 {
		t.Error("ResetCalls left calls")
	}
}

func TestConcurrent(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	c := srv.Client()
	ctx := context.Background()

	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				ec := map[string]string{"worker": fmt.Sprint(w), "round": fmt.Sprint(i)}
				gen, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), NumberOfBytes: aws.Int32(32), EncryptionContext: ec})
				if err != nil {
					errs <- err
					continue
				}
				dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec})
				if err != nil {
					errs <- err
					continue
				}
				if !bytes.Equal(dec.Plaintext, gen.Plaintext) {
					errs <- errors.New("plaintext mismatch")
				}
				_ = srv.Calls()
			}
		})
	}
	// Server-side changes while requests are in flight.
	wg.Go(func() {
		for i := range rounds {
			id, _ := srv.CreateKey()
			srv.CreateAlias(fmt.Sprintf("alias/k%d", i), id)
			srv.DisableKey(id)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(srv.Calls()); n != 2*workers*rounds {
		t.Errorf("%d calls recorded, want %d", n, 2*workers*rounds)
	}
}

func TestNewAndClose(t *testing.T) {
	srv := kmstest.New()
	_, arn := srv.CreateKey()
	generate(t, srv.Client(), arn, nil)
	srv.Close()
	srv.Close()
	if _, err := srv.Client().GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(arn), NumberOfBytes: aws.Int32(32)}); err == nil {
		t.Error("request to a closed server succeeded")
	}

	defer func() {
		if recover() == nil {
			t.Error("CreateAlias of an unknown key did not panic on a New server")
		}
	}()
	srv.CreateAlias("alias/x", "no-such-key")
}

func TestReEncrypt(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	_, arn2 := srv.CreateKey()
	c := srv.Client()
	ctx := context.Background()
	gen := generate(t, c, arn, ddbContext())
	dstEC := map[string]string{"type": "branch:ACTIVE"}

	out, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{
		CiphertextBlob:               gen.CiphertextBlob,
		SourceKeyId:                  aws.String(arn),
		SourceEncryptionContext:      ddbContext(),
		DestinationKeyId:             aws.String(arn2),
		DestinationEncryptionContext: dstEC,
		GrantTokens:                  []string{"g"},
	})
	if err != nil {
		t.Fatalf("ReEncrypt: %v", err)
	}
	if aws.ToString(out.SourceKeyId) != arn || aws.ToString(out.KeyId) != arn2 ||
		out.SourceEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault ||
		out.DestinationEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Fatalf("ReEncrypt output = %+v", out)
	}
	if bytes.Equal(out.CiphertextBlob, gen.CiphertextBlob) {
		t.Fatal("ReEncrypt returned the source blob")
	}
	// The new blob holds the same key, under the destination key and context only.
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: dstEC})
	if err != nil {
		t.Fatalf("Decrypt of the re-encrypted blob: %v", err)
	}
	if !bytes.Equal(dec.Plaintext, gen.Plaintext) || aws.ToString(dec.KeyId) != arn2 {
		t.Fatal("re-encrypted blob does not hold the data key under the destination key")
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ddbContext()})
	wantErr[*types.InvalidCiphertextException](t, err)

	calls := srv.CallsFor(kmstest.OpReEncrypt)
	want := kmstest.Call{
		Op: "ReEncrypt", KeyID: arn, KeyARN: arn, EncryptionContext: ddbContext(),
		DestinationKeyID: arn2, DestinationKeyARN: arn2, DestinationEncryptionContext: dstEC,
		GrantTokens: []string{"g"},
	}
	if len(calls) != 1 || !reflect.DeepEqual(calls[0], want) {
		t.Fatalf("calls = %+v, want %+v", calls, want)
	}

	changed := ddbContext()
	changed["id"] = "43"
	tampered := bytes.Clone(gen.CiphertextBlob)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		in   *kms.ReEncryptInput
		code string
	}{
		"source context changed": {&kms.ReEncryptInput{CiphertextBlob: gen.CiphertextBlob, SourceEncryptionContext: changed, DestinationKeyId: aws.String(arn)}, kmstest.CodeInvalidCiphertext},
		"source context missing": {&kms.ReEncryptInput{CiphertextBlob: gen.CiphertextBlob, DestinationKeyId: aws.String(arn)}, kmstest.CodeInvalidCiphertext},
		"tampered blob":          {&kms.ReEncryptInput{CiphertextBlob: tampered, SourceEncryptionContext: ddbContext(), DestinationKeyId: aws.String(arn)}, kmstest.CodeInvalidCiphertext},
		"wrong source key":       {&kms.ReEncryptInput{CiphertextBlob: gen.CiphertextBlob, SourceKeyId: aws.String(arn2), SourceEncryptionContext: ddbContext(), DestinationKeyId: aws.String(arn)}, kmstest.CodeIncorrectKey},
		"unknown destination":    {&kms.ReEncryptInput{CiphertextBlob: gen.CiphertextBlob, SourceEncryptionContext: ddbContext(), DestinationKeyId: aws.String("alias/none")}, kmstest.CodeNotFound},
		"bad algorithm":          {&kms.ReEncryptInput{CiphertextBlob: gen.CiphertextBlob, SourceEncryptionContext: ddbContext(), DestinationKeyId: aws.String(arn), DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_1"}, kmstest.CodeInvalidKeyUsage},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.ReEncrypt(ctx, tc.in)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
				t.Fatalf("ReEncrypt error = %v, want %s", err, tc.code)
			}
		})
	}

	// A disabled destination key refuses.
	srv.DisableKey(arn2)
	_, err = c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: gen.CiphertextBlob, SourceEncryptionContext: ddbContext(), DestinationKeyId: aws.String(arn2)})
	wantErr[*types.DisabledException](t, err)
}
