package kmskeyring_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// tamper rewrites the responses kmstest sent, inside the real SDK client
// (an Initialize-step middleware, after deserialization), as a broken or
// hostile KMS might answer: the next n responses of one operation.
type tamper struct {
	mu     sync.Mutex
	op     string // "Decrypt", "DeriveSharedSecret" or "GenerateDataKey"
	n      int
	keyID  string // when not "", the KeyId to report
	length int    // when not 0, the length of the plaintext or shared secret
	leaked [][]byte
}

func (tp *tamper) next(op string, n int, keyID string, length int) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.op, tp.n, tp.keyID, tp.length = op, n, keyID, length
}

func (tp *tamper) bend(op string, keyID **string, secret *[]byte) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.op != op || tp.n == 0 {
		return
	}
	tp.n--
	if tp.keyID != "" {
		*keyID = aws.String(tp.keyID)
	}
	if tp.length != 0 {
		*secret = append(*secret, *secret...)[:tp.length]
	}
	tp.leaked = append(tp.leaked, bytes.Clone(*secret))
}

func (tp *tamper) addTo(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("kmskeyringTestTamper", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		if err != nil {
			return out, md, err
		}
		switch r := out.Result.(type) {
		case *kms.DecryptOutput:
			tp.bend(kmstest.OpDecrypt, &r.KeyId, &r.Plaintext)
		case *kms.GenerateDataKeyOutput:
			tp.bend(kmstest.OpGenerateDataKey, &r.KeyId, &r.Plaintext)
		case *kms.DeriveSharedSecretOutput:
			tp.bend(kmstest.OpDeriveSharedSecret, &r.KeyId, &r.SharedSecret)
		}
		return out, md, err
	}), middleware.Before)
}

// kmsEnv is two regions of fake KMS, each reached through the real SDK
// client with a tamper middleware.
type kmsEnv struct {
	west, east       *kmstest.Server
	westKMS, eastKMS *awskms.KMS
	tamper           tamper // on westKMS
}

func newKMSEnv(t *testing.T) *kmsEnv {
	e := &kmsEnv{}
	e.west = kmstest.NewServer(t)
	e.east = kmstest.NewServer(t, func(o *kmstest.Options) { o.Region = "us-east-1" })
	e.westKMS = awskms.New(e.west.Client(func(o *kms.Options) { o.APIOptions = append(o.APIOptions, e.tamper.addTo) }))
	e.eastKMS = awskms.New(e.east.Client())
	return e
}

// keyringCase is one KMS keyring under test. Its item holds the encrypted
// data keys the decrypting keyring tries, in order, one KMS call
// (decryptOp, on env.west) each, all wrapping the same data key.
type keyringCase struct {
	name      string
	item      *keyring.EncryptionMaterials
	attempts  []string // the key each decryption attempt names (KeyId)
	decryptOp string
	// encryptOp is the KMS call of OnEncrypt, "" when the keyring does not
	// encrypt or encrypts offline; encryptKey the key it names.
	encryptOp, encryptKey string
	// build makes the keyrings under test with options setting grant
	// tokens: the decrypting one and, when it encrypts, the encrypting one.
	build func(grantTokens []string) (enc, dec keyring.Keyring, err error)
}

var failEC = map[string]string{"aws-crypto-table-name": "users", "tenant": "a"}

// multiItem encrypts one item under every keyring, the first generating.
func multiItem(t *testing.T, krs ...keyring.Keyring) *keyring.EncryptionMaterials {
	t.Helper()
	m, err := keyring.NewMulti(krs[0], krs[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return encrypt(t, m, keyring.SuiteHMAC, failEC)
}

// keyringCases builds every KMS keyring of the package over e.
func keyringCases(t *testing.T, e *kmsEnv) []keyringCase {
	var cases []keyringCase

	// The strict keyring: one attempt per item (a key is asked once).
	_, strict := e.west.CreateKey()
	cases = append(cases, keyringCase{
		name: "strict", item: multiItem(t, mustKR(kmskeyring.New(e.westKMS, strict))),
		attempts: []string{strict}, decryptOp: kmstest.OpDecrypt, encryptOp: kmstest.OpGenerateDataKey, encryptKey: strict,
		build: func(gt []string) (keyring.Keyring, keyring.Keyring, error) {
			kr, err := kmskeyring.New(e.westKMS, strict, func(o *kmskeyring.Options) { o.GrantTokens = gt })
			return kr, kr, err
		},
	})

	// The MRK-aware keyring: EDKs of the us-east-1 replica and of its own
	// key, each decrypted with its own key.
	_, mrkWest := e.west.CreateKey(kmstest.WithMultiRegion())
	mrkEast := e.west.ReplicateKey(mrkWest, e.east)
	cases = append(cases, keyringCase{
		name:     "MRK",
		item:     multiItem(t, mustKR(kmskeyring.NewMRK(e.eastKMS, mrkEast)), mustKR(kmskeyring.NewMRK(e.westKMS, mrkWest))),
		attempts: []string{mrkWest, mrkWest}, decryptOp: kmstest.OpDecrypt, encryptOp: kmstest.OpGenerateDataKey, encryptKey: mrkWest,
		build: func(gt []string) (keyring.Keyring, keyring.Keyring, error) {
			kr, err := kmskeyring.NewMRK(e.westKMS, mrkWest, func(o *kmskeyring.Options) { o.GrantTokens = gt })
			return kr, kr, err
		},
	})

	// Discovery: two keys, each EDK decrypted with the key it names.
	_, k1 := e.west.CreateKey()
	_, k2 := e.west.CreateKey()
	cases = append(cases, keyringCase{
		name:     "discovery",
		item:     multiItem(t, mustKR(kmskeyring.New(e.westKMS, k1)), mustKR(kmskeyring.New(e.westKMS, k2))),
		attempts: []string{k1, k2}, decryptOp: kmstest.OpDecrypt,
		build: func(gt []string) (keyring.Keyring, keyring.Keyring, error) {
			kr, err := kmskeyring.NewDiscovery(e.westKMS, nil, func(o *kmskeyring.DiscoveryOptions) { o.GrantTokens = gt })
			return nil, kr, err
		},
	})

	// MRK-aware discovery in us-west-2: the replica's EDK is decrypted
	// with the us-west-2 key, then a single-Region key's.
	cases = append(cases, keyringCase{
		name:     "MRK discovery",
		item:     multiItem(t, mustKR(kmskeyring.NewMRK(e.eastKMS, mrkEast)), mustKR(kmskeyring.New(e.westKMS, k1))),
		attempts: []string{mrkWest, k1}, decryptOp: kmstest.OpDecrypt,
		build: func(gt []string) (keyring.Keyring, keyring.Keyring, error) {
			kr, err := kmskeyring.NewMRKDiscovery(e.westKMS, "us-west-2", nil, func(o *kmskeyring.DiscoveryOptions) { o.GrantTokens = gt })
			return nil, kr, err
		},
	})

	// KMS RSA: a multi-Region RSA key; EDKs written offline for the
	// us-east-1 replica and the us-west-2 key.
	_, rsaWest := e.west.CreateKey(kmstest.WithMultiRegion(), kmstest.WithKeySpec(kmstest.KeySpecRSA2048))
	rsaEast := e.west.ReplicateKey(rsaWest, e.east)
	der, _, err := e.westKMS.GetPublicKey(context.Background(), rsaWest)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kmskeyring.ParseRSAPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	offline := func(arn string) keyring.Keyring {
		return mustKR(kmskeyring.NewRSA(nil, arn, kmskeyring.RSAESOAEPSHA256, func(o *kmskeyring.RSAOptions) { o.PublicKey = pub }))
	}
	cases = append(cases, keyringCase{
		name: "KMS RSA", item: multiItem(t, offline(rsaEast), offline(rsaWest)),
		attempts: []string{rsaWest, rsaWest}, decryptOp: kmstest.OpDecrypt,
		build: func(gt []string) (keyring.Keyring, keyring.Keyring, error) {
			kr, err := kmskeyring.NewRSA(e.westKMS, rsaWest, kmskeyring.RSAESOAEPSHA256, func(o *kmskeyring.RSAOptions) {
				o.PublicKey = pub
				o.GrantTokens = gt
			})
			return kr, kr, err
		},
	})

	// KMS ECDH, static: A's keyring decrypts A→B and B→A.
	ecc := func() (string, *ecdh.PublicKey) {
		priv, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		_, arn := e.west.CreateKey(kmstest.WithECCKey(priv))
		return arn, priv.PublicKey()
	}
	a, pubA := ecc()
	b, pubB := ecc()
	c, _ := ecc()
	static := func(sender string, recipient *ecdh.PublicKey) keyring.Keyring {
		return mustKR(kmskeyring.NewECDHStatic(context.Background(), e.westKMS, sender, recipient))
	}
	cases = append(cases, keyringCase{
		name: "KMS ECDH static", item: multiItem(t, static(a, pubB), static(b, pubA)),
		attempts: []string{a, a}, decryptOp: kmstest.OpDeriveSharedSecret, encryptOp: kmstest.OpDeriveSharedSecret, encryptKey: a,
		build: func(gt []string) (keyring.Keyring, keyring.Keyring, error) {
			kr, err := kmskeyring.NewECDHStatic(context.Background(), e.westKMS, a, pubB, func(o *kmskeyring.ECDHOptions) { o.GrantTokens = gt })
			return kr, kr, err
		},
	})

	// KMS ECDH, discovery: B's keyring decrypts A→B and C→B.
	cases = append(cases, keyringCase{
		name: "KMS ECDH discovery", item: multiItem(t, static(a, pubB), static(c, pubB)),
		attempts: []string{b, b}, decryptOp: kmstest.OpDeriveSharedSecret,
		build: func(gt []string) (keyring.Keyring, keyring.Keyring, error) {
			kr, err := kmskeyring.NewECDHDiscovery(context.Background(), e.westKMS, b, func(o *kmskeyring.ECDHOptions) { o.GrantTokens = gt })
			return nil, kr, err
		},
	})
	e.west.ResetCalls()
	e.east.ResetCalls()
	return cases
}

// TestGrantTokens: every KMS keyring sends its grant tokens on every KMS
// call it makes (GetPublicKey, GenerateDataKey, Decrypt,
// DeriveSharedSecret), after the client's own.
func TestGrantTokens(t *testing.T) {
	e := newKMSEnv(t)
	ctx := context.Background()
	gt := []string{"grant-token-1", "grant-token-2"}
	for _, c := range keyringCases(t, e) {
		t.Run(c.name, func(t *testing.T) {
			e.west.ResetCalls()
			tokens := slices.Clone(gt)
			enc, dec, err := c.build(tokens)
			if err != nil {
				t.Fatal(err)
			}
			tokens[0] = "changed after the keyring was made"
			if enc != nil {
				em := encrypt(t, enc, keyring.SuiteHMAC, failEC)
				if dm, err := decrypt(ctx, dec, keyring.SuiteHMAC, failEC, em.EncryptedDataKeys()); err != nil || !bytes.Equal(dm.DataKey(), em.DataKey()) {
					t.Fatalf("round trip: %v", err)
				}
			}
			dm, err := decrypt(ctx, dec, keyring.SuiteHMAC, failEC, c.item.EncryptedDataKeys())
			if err != nil || !bytes.Equal(dm.DataKey(), c.item.DataKey()) {
				t.Fatalf("OnDecrypt: %v", err)
			}
			calls := e.west.Calls()
			ops := map[string]bool{}
			for _, call := range calls {
				ops[call.Op] = true
				if !reflect.DeepEqual(call.GrantTokens, gt) {
					t.Errorf("%s sent grant tokens %q, want %q", call.Op, call.GrantTokens, gt)
				}
			}
			for _, op := range []string{c.decryptOp, c.encryptOp} {
				if op != "" && !ops[op] {
					t.Errorf("no %s call among %d", op, len(calls))
				}
			}
			if strings.HasPrefix(c.name, "KMS ECDH") && !ops[kmstest.OpGetPublicKey] {
				t.Error("no GetPublicKey call")
			}
			if len(e.east.Calls()) != 0 {
				t.Error("a call reached the other region")
			}
		})
	}
	t.Run("after the client's own", func(t *testing.T) {
		_, arn := e.west.CreateKey()
		client := awskms.New(e.west.Client(), func(o *awskms.Options) { o.GrantTokens = []string{"client-token"} })
		kr, err := kmskeyring.New(client, arn, func(o *kmskeyring.Options) { o.GrantTokens = gt })
		if err != nil {
			t.Fatal(err)
		}
		e.west.ResetCalls()
		em := encrypt(t, kr, keyring.SuiteHMAC, failEC)
		if _, err := decrypt(ctx, kr, keyring.SuiteHMAC, failEC, em.EncryptedDataKeys()); err != nil {
			t.Fatal(err)
		}
		want := append([]string{"client-token"}, gt...)
		for _, call := range e.west.Calls() {
			if !reflect.DeepEqual(call.GrantTokens, want) {
				t.Errorf("%s sent %q, want %q", call.Op, call.GrantTokens, want)
			}
		}
		// The client itself is not changed.
		e.west.ResetCalls()
		encrypt(t, mustKR(kmskeyring.New(client, arn)), keyring.SuiteHMAC, failEC)
		if c := e.west.Calls(); len(c) != 1 || !reflect.DeepEqual(c[0].GrantTokens, []string{"client-token"}) {
			t.Errorf("the client's own calls: %+v", c)
		}
	})
}

// TestGrantTokensRefused: the MPL's limits, and a client that cannot send
// them, fail every constructor with a typed error that names no token.
func TestGrantTokensRefused(t *testing.T) {
	e := newKMSEnv(t)
	cases := keyringCases(t, e)
	long := strings.Repeat("s", 8193)
	for _, tc := range []struct {
		name   string
		tokens []string
		want   error
	}{
		{"eleven", strings.Split("a,b,c,d,e,f,g,h,i,j,k", ","), kmskeyring.ErrInvalidGrantTokens},
		{"empty", []string{"a", ""}, kmskeyring.ErrInvalidGrantTokens},
		{"too long", []string{long}, kmskeyring.ErrInvalidGrantTokens},
	} {
		for _, c := range cases {
			_, _, err := c.build(tc.tokens)
			if !errors.Is(err, tc.want) || strings.Contains(err.Error(), long) {
				t.Errorf("%s, %s: %v, want %v", c.name, tc.name, err, tc.want)
			}
		}
	}
	// Ten tokens of 8192 bytes are the limit, and pass.
	ten := slices.Repeat([]string{strings.Repeat("t", 8192)}, 10)
	for _, c := range cases {
		if _, _, err := c.build(ten); err != nil {
			t.Errorf("%s, ten tokens: %v", c.name, err)
		}
	}
	// A cmp.KMS that cannot send grant tokens.
	_, arn := e.west.CreateKey()
	plain := plainKMS{e.westKMS}
	for name, fn := range map[string]func() error{
		"strict": func() error {
			_, err := kmskeyring.New(plain, arn, func(o *kmskeyring.Options) { o.GrantTokens = []string{"g"} })
			return err
		},
		"MRK": func() error {
			_, err := kmskeyring.NewMRK(plain, arn, func(o *kmskeyring.Options) { o.GrantTokens = []string{"g"} })
			return err
		},
		"discovery": func() error {
			_, err := kmskeyring.NewDiscovery(plain, nil, func(o *kmskeyring.DiscoveryOptions) { o.GrantTokens = []string{"g"} })
			return err
		},
		"MRK discovery": func() error {
			_, err := kmskeyring.NewMRKDiscovery(plain, "us-west-2", nil, func(o *kmskeyring.DiscoveryOptions) { o.GrantTokens = []string{"g"} })
			return err
		},
	} {
		if err := fn(); !errors.Is(err, kmskeyring.ErrGrantTokensUnsupported) {
			t.Errorf("%s over a client without grant tokens: %v", name, err)
		}
	}
}

// failureMode is one way a KMS call fails.
type failureMode struct {
	name string
	// inject makes the next n calls of op fail on e.west; keys are the
	// keys of those calls (the disabled key needs them).
	inject func(e *kmsEnv, op string, n int, keys []string)
	// is reports whether one attempt's error is this failure's.
	is func(c keyringCase, err error) bool
	// perKey: the failure is a key's state, so it fails every call naming
	// that key, not the next n calls.
	perKey bool
}

var otherKeyARN = "arn:aws:kms:us-west-2:" + kmstest.DefaultAccountID + ":key/00000000-0000-0000-0000-000000000000"

func apiCode(code string) func(keyringCase, error) bool {
	return func(_ keyringCase, err error) bool {
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == code
	}
}

func invalidResponse(_ keyringCase, err error) bool {
	return errors.Is(err, kmskeyring.ErrInvalidResponse) && !errors.Is(err, keyring.ErrAuthentication)
}

var failureModes = []failureMode{
	{name: "access denied", inject: func(e *kmsEnv, op string, n int, _ []string) { e.west.FailNext(op, kmstest.CodeAccessDenied, n) }, is: apiCode(kmstest.CodeAccessDenied)},
	{name: "throttling", inject: func(e *kmsEnv, op string, n int, _ []string) { e.west.FailNext(op, kmstest.CodeThrottling, n) }, is: apiCode(kmstest.CodeThrottling)},
	{name: "disabled key", perKey: true, inject: func(e *kmsEnv, _ string, _ int, keys []string) {
		for _, k := range keys {
			e.west.DisableKey(k)
		}
	}, is: func(_ keyringCase, err error) bool {
		var d *types.DisabledException
		return errors.As(err, &d)
	}},
	{name: "another KeyId in the response", inject: func(e *kmsEnv, op string, n int, _ []string) { e.tamper.next(op, n, otherKeyARN, 0) }, is: invalidResponse},
	{name: "wrong plaintext length", inject: func(e *kmsEnv, op string, n int, _ []string) { e.tamper.next(op, n, "", 16) }, is: func(c keyringCase, err error) bool {
		if c.name == "KMS RSA" {
			// Anyone with the public key can make a ciphertext of any
			// length that KMS decrypts: an authentication failure.
			return errors.Is(err, kmskeyring.ErrEncryptionContextDigest) && errors.Is(err, keyring.ErrAuthentication)
		}
		return invalidResponse(c, err)
	}},
}

// attemptErrors splits a keyring's error into its attempts' errors.
func attemptErrors(err error, n int) []error {
	if n == 1 {
		return []error{err}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok { //nolint:errorlint // the join itself
		return j.Unwrap()
	}
	return []error{err}
}

// TestFailureModes: each KMS keyring, for each way KMS fails, on
// decrypt goes on to the next encrypted data key when one fails (the MPL
// collects the error) and, when none decrypts, fails with every attempt's
// error, typed and naming its key, never key material; on encrypt fails
// typed without touching the materials.
func TestFailureModes(t *testing.T) {
	ctx := context.Background()
	for _, fm := range failureModes {
		t.Run(fm.name, func(t *testing.T) {
			e := newKMSEnv(t)
			for _, c := range keyringCases(t, e) {
				t.Run(c.name, func(t *testing.T) {
					enc, dec, err := c.build(nil)
					if err != nil {
						t.Fatal(err)
					}
					edks := c.item.EncryptedDataKeys()
					secrets := [][]byte{c.item.DataKey(), c.item.SymmetricSigningKeys()[0]}
					leaks := func() [][]byte {
						e.tamper.mu.Lock()
						defer e.tamper.mu.Unlock()
						return append(secrets, e.tamper.leaked...)
					}
					reset := func() {
						e.west.ResetCalls()
						e.tamper.next("", 0, "", 0)
						e.west.SetFailure(nil)
						for _, k := range c.attempts {
							e.west.EnableKey(k)
						}
					}

					// One attempt fails, the next decrypts.
					if len(c.attempts) > 1 && (!fm.perKey || c.attempts[0] != c.attempts[1]) {
						reset()
						fm.inject(e, c.decryptOp, 1, c.attempts[:1])
						dm, err := decrypt(ctx, dec, keyring.SuiteHMAC, failEC, edks)
						if err != nil || !bytes.Equal(dm.DataKey(), c.item.DataKey()) {
							t.Fatalf("first attempt failing: %v, want the second EDK's data key", err)
						}
						if calls := e.west.CallsFor(c.decryptOp); len(calls) != 2 {
							t.Fatalf("%d %s calls, want 2", len(calls), c.decryptOp)
						}
					}

					// Every attempt fails.
					reset()
					fm.inject(e, c.decryptOp, len(c.attempts), c.attempts)
					_, err = decrypt(ctx, dec, keyring.SuiteHMAC, failEC, edks)
					if err == nil {
						t.Fatal("OnDecrypt succeeded")
					}
					if !fm.is(c, err) || errors.Is(err, keyring.ErrNoDecryptableKey) {
						t.Fatalf("OnDecrypt = %v, want %s", err, fm.name)
					}
					if calls := e.west.CallsFor(c.decryptOp); len(calls) != len(c.attempts) {
						t.Fatalf("%d %s calls, want %d", len(calls), c.decryptOp, len(c.attempts))
					}
					parts := attemptErrors(err, len(c.attempts))
					if len(parts) != len(c.attempts) {
						t.Fatalf("OnDecrypt = %v: %d errors, want one per attempt (%d)", err, len(parts), len(c.attempts))
					}
					for i, part := range parts {
						if !fm.is(c, part) {
							t.Errorf("attempt %d: %v, want %s", i, part, fm.name)
						}
						var ke *cmp.KMSError
						switch {
						case errors.As(part, &ke):
							if ke.KeyID != c.attempts[i] || !strings.Contains(part.Error(), c.attempts[i]) {
								t.Errorf("attempt %d: %v, want it to name %s", i, part, c.attempts[i])
							}
						case !errors.Is(part, keyring.ErrAuthentication):
							t.Errorf("attempt %d: %v is neither a *cmp.KMSError nor an authentication failure", i, part)
						}
					}
					checkNoSecret(t, err, leaks()...)

					// OnEncrypt.
					if enc == nil {
						return
					}
					reset()
					if c.encryptOp == "" {
						if em := encrypt(t, enc, keyring.SuiteHMAC, failEC); len(em.EncryptedDataKeys()) != 1 {
							t.Fatal("offline OnEncrypt")
						}
						if n := len(e.west.Calls()); n != 0 {
							t.Fatalf("offline OnEncrypt made %d KMS calls", n)
						}
						return
					}
					if fm.name == "another KeyId in the response" && c.encryptOp == kmstest.OpGenerateDataKey {
						// The MPL checks only that GenerateDataKey's KeyId is
						// a key ARN (the keyring may name an alias): the EDK
						// records what KMS answered.
						fm.inject(e, c.encryptOp, 1, nil)
						em := encrypt(t, enc, keyring.SuiteHMAC, failEC)
						if got := string(em.EncryptedDataKeys()[0].ProviderInfo); got != otherKeyARN {
							t.Fatalf("provider info %s, want the ARN KMS answered with", got)
						}
						return
					}
					fm.inject(e, c.encryptOp, 1, []string{c.encryptKey})
					m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, failEC, nil)
					if err != nil {
						t.Fatal(err)
					}
					err = enc.OnEncrypt(ctx, m)
					var ke *cmp.KMSError
					if !fm.is(c, err) || !errors.As(err, &ke) || ke.KeyID != c.encryptKey || !strings.Contains(err.Error(), c.encryptKey) {
						t.Fatalf("OnEncrypt = %v, want a *cmp.KMSError naming %s: %s", err, c.encryptKey, fm.name)
					}
					if m.DataKey() != nil || len(m.EncryptedDataKeys()) != 0 {
						t.Fatal("a failed OnEncrypt modified the materials")
					}
					checkNoSecret(t, err, leaks()...)
				})
			}
		})
	}
}
