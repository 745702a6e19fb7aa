package kmskeyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/internal/kwtest"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

type fixture struct {
	srv    *kmstest.Server
	client *kms.Client
	kms    *awskms.KMS
	arn    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	client := srv.Client()
	return &fixture{srv: srv, client: client, kms: awskms.New(client), arn: arn}
}

func (f *fixture) keyring(t testing.TB, keyID string) *kmskeyring.Keyring {
	t.Helper()
	kr, err := kmskeyring.New(f.kms, keyID)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

var (
	encrypt   = kwtest.Encrypt
	decrypt   = kwtest.Decrypt
	cloneEDKs = kwtest.CloneEDKs
)

// checkNoSecret fails if err's text holds key in raw, hex or base64 form.
func checkNoSecret(t *testing.T, err error, keys ...[]byte) {
	t.Helper()
	msg := err.Error()
	for _, k := range keys {
		if len(k) == 0 {
			continue
		}
		for _, form := range []string{string(k), hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), base64.RawStdEncoding.EncodeToString(k)} {
			if strings.Contains(msg, form) {
				t.Fatalf("error text holds key material: %v", err)
			}
		}
	}
}

func TestRoundTripAndLayout(t *testing.T) {
	f := newFixture(t)
	kr := f.keyring(t, f.arn)
	for _, suite := range []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384} {
		t.Run(suite.String(), func(t *testing.T) {
			f.srv.ResetCalls()
			ec := map[string]string{"aws-crypto-table-name": "users", "aws-crypto-partition-name": "pk", "tenant": "𐀂"}
			em := encrypt(t, kr, suite, ec)
			calls := f.srv.Calls()
			if len(calls) != 1 || calls[0].Op != kmstest.OpGenerateDataKey {
				t.Fatalf("KMS calls %+v, want one GenerateDataKey (never Encrypt)", calls)
			}
			if c := calls[0]; c.KeyID != f.arn || c.NumberOfBytes != 32 || !maps.Equal(c.EncryptionContext, em.EncryptionContext()) {
				t.Fatalf("GenerateDataKey KeyId %q, %d bytes, context %v; want the key, 32, the materials' context %v", c.KeyID, c.NumberOfBytes, c.EncryptionContext, em.EncryptionContext())
			}
			if suite.Signed() && calls[0].EncryptionContext[keyring.PublicKeyContextKey] == "" {
				t.Fatal("the KMS context lacks the verification key of the signed suite")
			}
			edks := em.EncryptedDataKeys()
			if len(edks) != 1 || edks[0].ProviderID != "aws-kms" || string(edks[0].ProviderInfo) != f.arn {
				t.Fatalf("EDKs %+v, want one of provider aws-kms with the key ARN", edks)
			}
			// Layout: encrypted data key || KMS ciphertext blob of the
			// intermediate key, checked with the KMS client and the
			// standard library only.
			blob := edks[0].Ciphertext[kwtest.EncryptedPDKLength:]
			out, err := f.client.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: em.EncryptionContext()})
			if err != nil {
				t.Fatalf("the EDK's KMS part does not decrypt under the materials' context: %v", err)
			}
			dk, mac, err := kwtest.OpenIntermediate(out.Plaintext, edks[0].Ciphertext, em.EncryptionContext())
			if err != nil || !bytes.Equal(dk, em.DataKey()) || !bytes.Equal(mac, em.SymmetricSigningKeys()[0]) {
				t.Fatalf("the EDK does not hold the data key under the MPL layout (%v)", err)
			}

			f.srv.ResetCalls()
			dm, err := decrypt(context.Background(), kr, suite, em.EncryptionContext(), edks)
			if err != nil {
				t.Fatalf("OnDecrypt: %v", err)
			}
			if !bytes.Equal(dm.DataKey(), em.DataKey()) || !bytes.Equal(dm.SymmetricSigningKey(), em.SymmetricSigningKeys()[0]) {
				t.Fatal("decrypted keys differ")
			}
			calls = f.srv.Calls()
			if len(calls) != 1 || calls[0].Op != kmstest.OpDecrypt || calls[0].KeyID != f.arn || !maps.Equal(calls[0].EncryptionContext, em.EncryptionContext()) {
				t.Fatalf("KMS calls %+v, want one Decrypt naming the key, with the materials' context", calls)
			}
		})
	}
}

// An EDK built with the KMS client and the standard library alone
// decrypts: the decrypt direction of the layout.
func TestDecryptsForeignBuiltEDK(t *testing.T) {
	f := newFixture(t)
	ec := map[string]string{"a": "b"}
	gen, err := f.client.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(f.arn), NumberOfBytes: aws.Int32(32), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	dk := bytes.Repeat([]byte{0x5a}, 32)
	sealed, mac, err := kwtest.SealIntermediate(gen.Plaintext, dk, ec)
	if err != nil {
		t.Fatal(err)
	}
	edk := keyring.EncryptedDataKey{ProviderID: "aws-kms", ProviderInfo: []byte(f.arn), Ciphertext: append(sealed, gen.CiphertextBlob...)}
	dm, err := decrypt(context.Background(), f.keyring(t, f.arn), keyring.SuiteHMAC, ec, []keyring.EncryptedDataKey{edk})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dm.DataKey(), dk) || !bytes.Equal(dm.SymmetricSigningKey(), mac) {
		t.Fatal("the keyring recovered other keys")
	}
}

// An alias encrypts and records the key ARN; only the key ARN decrypts.
func TestAliasEncryptsOnly(t *testing.T) {
	f := newFixture(t)
	aliasARN := f.srv.CreateAlias("alias/items", f.arn)
	for _, id := range []string{"alias/items", aliasARN} {
		alias := f.keyring(t, id)
		em := encrypt(t, alias, keyring.SuiteHMAC, nil)
		if got := string(em.EncryptedDataKeys()[0].ProviderInfo); got != f.arn {
			t.Fatalf("provider info %q, want the key ARN KMS answered with", got)
		}
		if _, err := decrypt(context.Background(), alias, keyring.SuiteHMAC, nil, em.EncryptedDataKeys()); !errors.Is(err, kmskeyring.ErrCannotDecrypt) {
			t.Fatalf("alias OnDecrypt = %v, want ErrCannotDecrypt", err)
		}
		if _, err := decrypt(context.Background(), f.keyring(t, f.arn), keyring.SuiteHMAC, nil, em.EncryptedDataKeys()); err != nil {
			t.Fatalf("key ARN OnDecrypt: %v", err)
		}
	}
}

// As a multi-keyring child the keyring wraps the existing data key, still
// with GenerateDataKey (intermediate key wrapping).
func TestChildWrapsExistingDataKey(t *testing.T) {
	f := newFixture(t)
	aes, err := keyring.NewRawAES("ns", "k", bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	multi, err := keyring.NewMulti(aes, f.keyring(t, f.arn))
	if err != nil {
		t.Fatal(err)
	}
	em := encrypt(t, multi, keyring.SuiteECDSAP384, map[string]string{"t": "x"})
	if len(f.srv.CallsFor(kmstest.OpEncrypt)) != 0 || len(f.srv.CallsFor(kmstest.OpGenerateDataKey)) != 1 {
		t.Fatalf("KMS calls %+v, want one GenerateDataKey", f.srv.Calls())
	}
	dm, err := decrypt(context.Background(), f.keyring(t, f.arn), keyring.SuiteECDSAP384, em.EncryptionContext(), em.EncryptedDataKeys())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dm.DataKey(), em.DataKey()) || !bytes.Equal(dm.SymmetricSigningKey(), em.SymmetricSigningKeys()[1]) {
		t.Fatal("the KMS recipient does not read the generator's data key with its own HMAC key")
	}
}

func TestDecryptRefusals(t *testing.T) {
	f := newFixture(t)
	_, otherARN := f.srv.CreateKey()
	kr := f.keyring(t, f.arn)
	ec := map[string]string{"tenant": "a"}
	em := encrypt(t, kr, keyring.SuiteHMAC, ec)
	other := encrypt(t, f.keyring(t, otherARN), keyring.SuiteHMAC, ec)
	edks := em.EncryptedDataKeys()
	tamper := func(fn func(e *keyring.EncryptedDataKey)) []keyring.EncryptedDataKey {
		c := cloneEDKs(edks)
		fn(&c[0])
		return c
	}
	n := len(edks[0].Ciphertext)
	tests := []struct {
		name      string
		ec        map[string]string
		edks      []keyring.EncryptedDataKey
		want      error
		kmsCalled bool
	}{
		{"other context", map[string]string{"tenant": "b"}, edks, keyring.ErrAuthentication, true},
		{"KMS blob flipped", ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext[n-1] ^= 1 }), keyring.ErrAuthentication, true},
		{"encrypted data key flipped", ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext[0] ^= 1 }), keyring.ErrAuthentication, true},
		{"blob of another key under our ARN", ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext = other.EncryptedDataKeys()[0].Ciphertext }), keyring.ErrAuthentication, true},
		{"no KMS blob", ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext = e.Ciphertext[:kwtest.EncryptedPDKLength] }), keyring.ErrAuthentication, false},
		{"too short", ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext = e.Ciphertext[:10] }), keyring.ErrAuthentication, false},
		{"oversized blob", ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext = make([]byte, kwtest.EncryptedPDKLength+6145) }), keyring.ErrAuthentication, false},
		{"provider info not an ARN", ec, tamper(func(e *keyring.EncryptedDataKey) { e.ProviderInfo = []byte("alias/items") }), keyring.ErrAuthentication, false},
		{"provider info not UTF-8", ec, tamper(func(e *keyring.EncryptedDataKey) { e.ProviderInfo = []byte{0xff, 0xfe} }), keyring.ErrAuthentication, false},
		{"another key's EDK", ec, other.EncryptedDataKeys(), keyring.ErrNoDecryptableKey, false},
		{"another provider", ec, tamper(func(e *keyring.EncryptedDataKey) { e.ProviderID = "aws-kms-hierarchy" }), keyring.ErrNoDecryptableKey, false},
		{"the key id in another case", ec, tamper(func(e *keyring.EncryptedDataKey) {
			i := bytes.LastIndexByte(e.ProviderInfo, '/')
			e.ProviderInfo = append(e.ProviderInfo[:i:i], bytes.ToUpper(e.ProviderInfo[i:])...)
		}), keyring.ErrNoDecryptableKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.srv.ResetCalls()
			_, err := decrypt(context.Background(), kr, keyring.SuiteHMAC, tt.ec, tt.edks)
			if !errors.Is(err, tt.want) {
				t.Fatalf("OnDecrypt = %v, want %v", err, tt.want)
			}
			if called := len(f.srv.Calls()) > 0; called != tt.kmsCalled {
				t.Fatalf("KMS called: %t, want %t", called, tt.kmsCalled)
			}
			checkNoSecret(t, err, em.DataKey())
		})
	}
}

func TestKMSFailures(t *testing.T) {
	f := newFixture(t)
	kr := f.keyring(t, f.arn)
	ctx := context.Background()

	t.Run("GenerateDataKey throttled", func(t *testing.T) {
		f.srv.FailNext(kmstest.OpGenerateDataKey, kmstest.CodeThrottling, 1)
		m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = kr.OnEncrypt(ctx, m)
		var kmsErr *cmp.KMSError
		var apiErr smithy.APIError
		if !errors.As(err, &kmsErr) || kmsErr.Op != "GenerateDataKey" || kmsErr.KeyID != f.arn || !errors.As(err, &apiErr) || apiErr.ErrorCode() != kmstest.CodeThrottling {
			t.Fatalf("OnEncrypt = %v, want a *cmp.KMSError wrapping ThrottlingException", err)
		}
		if m.DataKey() != nil || len(m.EncryptedDataKeys()) != 0 {
			t.Fatal("a failed OnEncrypt modified the materials")
		}
	})
	em := encrypt(t, kr, keyring.SuiteHMAC, nil)
	t.Run("Decrypt throttled", func(t *testing.T) {
		f.srv.FailNext(kmstest.OpDecrypt, kmstest.CodeThrottling, 1)
		_, err := decrypt(ctx, kr, keyring.SuiteHMAC, nil, em.EncryptedDataKeys())
		var kmsErr *cmp.KMSError
		if !errors.As(err, &kmsErr) || kmsErr.Op != "Decrypt" || errors.Is(err, keyring.ErrAuthentication) || errors.Is(err, keyring.ErrNoDecryptableKey) {
			t.Fatalf("OnDecrypt = %v, want a *cmp.KMSError, neither authentication nor no-key", err)
		}
		checkNoSecret(t, err, em.DataKey())
	})
	t.Run("a second EDK of the same key is not tried", func(t *testing.T) {
		// A key is asked once per item: copies of an EDK (a forged item may
		// hold 255) would each cost a KMS call.
		multi, err := keyring.NewMulti(kr, kr)
		if err != nil {
			t.Fatal(err)
		}
		two := encrypt(t, multi, keyring.SuiteHMAC, nil)
		f.srv.ResetCalls()
		f.srv.FailNext(kmstest.OpDecrypt, kmstest.CodeInternal, 1)
		_, err = decrypt(ctx, kr, keyring.SuiteHMAC, nil, two.EncryptedDataKeys())
		var internal *types.KMSInternalException
		if !errors.As(err, &internal) {
			t.Fatalf("OnDecrypt = %v, want the KMSInternalException of the one call", err)
		}
		if n := len(f.srv.CallsFor(kmstest.OpDecrypt)); n != 1 {
			t.Fatalf("%d KMS Decrypt calls, want 1", n)
		}
		// The first tampered: ErrAuthentication, one call.
		edks := cloneEDKs(two.EncryptedDataKeys())
		edks[0].Ciphertext[len(edks[0].Ciphertext)-1] ^= 1
		f.srv.ResetCalls()
		if _, err = decrypt(ctx, kr, keyring.SuiteHMAC, nil, edks); !errors.Is(err, keyring.ErrAuthentication) {
			t.Fatalf("OnDecrypt = %v, want ErrAuthentication", err)
		}
		if n := len(f.srv.CallsFor(kmstest.OpDecrypt)); n != 1 {
			t.Fatalf("%d KMS Decrypt calls, want 1", n)
		}
		// The second tampered: the first decrypts.
		edks = cloneEDKs(two.EncryptedDataKeys())
		edks[1].Ciphertext[len(edks[1].Ciphertext)-1] ^= 1
		dm, err := decrypt(ctx, kr, keyring.SuiteHMAC, nil, edks)
		if err != nil || !bytes.Equal(dm.DataKey(), two.DataKey()) || !bytes.Equal(dm.SymmetricSigningKey(), two.SymmetricSigningKeys()[0]) {
			t.Fatalf("OnDecrypt of the first EDK: %v", err)
		}
	})
	t.Run("disabled key", func(t *testing.T) {
		f.srv.DisableKey(f.arn)
		defer f.srv.EnableKey(f.arn)
		_, err := decrypt(ctx, kr, keyring.SuiteHMAC, nil, em.EncryptedDataKeys())
		var disabled *types.DisabledException
		if !errors.As(err, &disabled) {
			t.Fatalf("OnDecrypt = %v, want DisabledException", err)
		}
		m, _ := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
		if err := kr.OnEncrypt(ctx, m); !errors.As(err, &disabled) {
			t.Fatalf("OnEncrypt = %v, want DisabledException", err)
		}
	})
	t.Run("hanging KMS and a deadline", func(t *testing.T) {
		release := make(chan struct{})
		t.Cleanup(func() { close(release) }) // before the server closes
		f.srv.SetFailure(func(kmstest.Call) *kmstest.Failure { <-release; return nil })
		t.Cleanup(func() { f.srv.SetFailure(nil) })
		for _, op := range []string{"encrypt", "decrypt"} {
			dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			var err error
			if op == "encrypt" {
				m, _ := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
				err = kr.OnEncrypt(dctx, m)
			} else {
				_, err = decrypt(dctx, kr, keyring.SuiteHMAC, nil, em.EncryptedDataKeys())
			}
			cancel()
			var kmsErr *cmp.KMSError
			if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &kmsErr) {
				t.Fatalf("%s with a hanging KMS = %v, want a *cmp.KMSError wrapping context.DeadlineExceeded", op, err)
			}
		}
	})
}

// badKMS answers with what a broken or hostile KMS might send.
type badKMS struct {
	cmp.KMSWithKeyARN
	plaintextLen int    // GenerateDataKey/Decrypt plaintext length, 0 = as is
	arn          string // reported ARN, "" = as is
	emptyBlob    bool
	leaked       [][]byte // plaintexts handed out
}

func (b *badKMS) GenerateDataKeyWithARN(ctx context.Context, keyID string, n int, ec map[string]string) ([]byte, []byte, string, error) {
	pt, ct, arn, err := b.KMSWithKeyARN.GenerateDataKeyWithARN(ctx, keyID, n, ec)
	return b.bend(pt), b.blob(ct), b.name(arn), err
}

func (b *badKMS) DecryptWithARN(ctx context.Context, keyID string, ct []byte, ec map[string]string) ([]byte, string, error) {
	pt, arn, err := b.KMSWithKeyARN.DecryptWithARN(ctx, keyID, ct, ec)
	return b.bend(pt), b.name(arn), err
}

func (b *badKMS) bend(pt []byte) []byte {
	if b.plaintextLen > 0 {
		pt = append(pt, pt...)[:b.plaintextLen]
	}
	b.leaked = append(b.leaked, bytes.Clone(pt))
	return pt
}

func (b *badKMS) blob(ct []byte) []byte {
	if b.emptyBlob {
		return nil
	}
	return ct
}

func (b *badKMS) name(arn string) string {
	if b.arn != "" {
		return b.arn
	}
	return arn
}

func TestInvalidKMSResponses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, bad := range []*badKMS{
		{plaintextLen: 16},
		{plaintextLen: 48},
		{arn: "not-an-arn"},
		{arn: "alias/items"},
		{emptyBlob: true},
	} {
		bad.KMSWithKeyARN = f.kms
		kr, err := kmskeyring.New(bad, f.arn)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
		err = kr.OnEncrypt(ctx, m)
		var kmsErr *cmp.KMSError
		if !errors.As(err, &kmsErr) || kmsErr.Op != "GenerateDataKey" {
			t.Fatalf("%+v: OnEncrypt = %v, want a *cmp.KMSError", bad, err)
		}
		if m.DataKey() != nil || len(m.EncryptedDataKeys()) != 0 {
			t.Fatal("a failed OnEncrypt modified the materials")
		}
		checkNoSecret(t, err, bad.leaked...)
	}
	em := encrypt(t, f.keyring(t, f.arn), keyring.SuiteHMAC, nil)
	for _, tt := range []struct {
		bad  *badKMS
		want func(error) bool
	}{
		{&badKMS{plaintextLen: 16}, func(err error) bool {
			var kmsErr *cmp.KMSError
			return errors.As(err, &kmsErr) && kmsErr.Op == "Decrypt" && kmsErr.KeyID == f.arn && errors.Is(err, kmskeyring.ErrInvalidResponse) && !errors.Is(err, keyring.ErrAuthentication)
		}},
		{&badKMS{arn: strings.Replace(f.arn, "111122223333", "444455556666", 1)}, func(err error) bool {
			var kmsErr *cmp.KMSError
			return errors.As(err, &kmsErr) && kmsErr.Op == "Decrypt"
		}},
	} {
		tt.bad.KMSWithKeyARN = f.kms
		kr, err := kmskeyring.New(tt.bad, f.arn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = decrypt(ctx, kr, keyring.SuiteHMAC, nil, em.EncryptedDataKeys())
		if err == nil || !tt.want(err) {
			t.Fatalf("%+v: OnDecrypt = %v", tt.bad, err)
		}
		checkNoSecret(t, err, append(tt.bad.leaked, em.DataKey())...)
	}
}

// plainKMS hides the key-ARN methods of a cmp.KMS.
type plainKMS struct{ cmp.KMS }

func TestKMSWithoutKeyARNs(t *testing.T) {
	f := newFixture(t)
	f.srv.CreateAlias("alias/items", f.arn)
	if _, err := kmskeyring.New(plainKMS{f.kms}, "alias/items"); err == nil {
		t.Fatal("an alias without a KMS that reports key ARNs was accepted")
	}
	kr, err := kmskeyring.New(plainKMS{f.kms}, f.arn)
	if err != nil {
		t.Fatal(err)
	}
	em := encrypt(t, kr, keyring.SuiteHMAC, map[string]string{"a": "b"})
	if got := string(em.EncryptedDataKeys()[0].ProviderInfo); got != f.arn {
		t.Fatalf("provider info %q, want the configured key ARN", got)
	}
	// Both forms read each other's items.
	if _, err := decrypt(context.Background(), f.keyring(t, f.arn), keyring.SuiteHMAC, em.EncryptionContext(), em.EncryptedDataKeys()); err != nil {
		t.Fatal(err)
	}
	em2 := encrypt(t, f.keyring(t, f.arn), keyring.SuiteHMAC, nil)
	if _, err := decrypt(context.Background(), kr, keyring.SuiteHMAC, nil, em2.EncryptedDataKeys()); err != nil {
		t.Fatal(err)
	}
}

func TestNewValidates(t *testing.T) {
	f := newFixture(t)
	if _, err := kmskeyring.New(nil, f.arn); err == nil {
		t.Error("nil KMS accepted")
	}
	// As the MPL's IsAwsKmsIdentifierString: 1 to 2048 ASCII characters;
	// an ARN of six ":"-separated parts; a raw resource that is an alias;
	// a key id is anything else without "/" (interop/dbesdk
	// TestKMSMultiConstruction checks the table against the reference).
	for _, id := range []string{"", "arn:aws:s3:::bucket", "arn:aws:kms:us-west-2:111122223333:grant/x", "arn:aws:kms::111122223333:key/x", "arn:aws:kms:us-west-2:111122223333:key/", "alias/", "arn:aws:kms:us-west-2:111122223333:key/a:b", "key/x", "other/x", "/x", "cl\u00e9", strings.Repeat("k", 2049)} {
		if _, err := kmskeyring.New(f.kms, id); err == nil {
			t.Errorf("New(%.40q) accepted", id)
		}
	}
	for _, id := range []string{"1234abcd-12ab-34cd-56ef-1234567890ab", "mrk-4321abcd12ab34cd56ef1234567890ab", "alias/x", "alias/x/y", "arn:aws:kms:us-west-2:111122223333:alias/x", f.arn, "key with space", "a:b", strings.Repeat("k", 2048)} {
		if _, err := kmskeyring.New(f.kms, id); err != nil {
			t.Errorf("New(%q) = %v", id, err)
		}
	}
}

func TestParseARN(t *testing.T) {
	a, err := kmskeyring.ParseARN("arn:aws-cn:kms:cn-north-1:2222:key/mrk-1/with/slash")
	if err != nil {
		t.Fatal(err)
	}
	want := kmskeyring.ARN{Partition: "aws-cn", Region: "cn-north-1", Account: "2222", ResourceType: "key", ResourceID: "mrk-1/with/slash"}
	if a != want || a.String() != "arn:aws-cn:kms:cn-north-1:2222:key/mrk-1/with/slash" {
		t.Fatalf("ParseARN = %+v (%s)", a, a)
	}
	for _, s := range []string{"arn::kms:r:a:key/x", "arn:aws:kms:r::key/x", "arn:aws:kms:r:a:key", "arn:aws:kms:r:a:keys/x", "arx:aws:kms:r:a:key/x", "arn:aws:kms:r:a", "arn:aws:kms:r:a:key/x:y"} {
		if _, err := kmskeyring.ParseARN(s); err == nil {
			t.Errorf("ParseARN(%q) accepted", s)
		}
	}
}
