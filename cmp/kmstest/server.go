package kmstest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// Default values of [Options].
const (
	DefaultRegion    = "us-west-2"
	DefaultAccountID = "111122223333"
)

// Options configure a [Server].
type Options struct {
	// Region is the region in key ARNs and the region requests must be
	// signed for. Default [DefaultRegion].
	Region string
	// AccountID is the account in key and alias ARNs. Default
	// [DefaultAccountID].
	AccountID string
}

// KeyState is the state of a fake KMS key.
type KeyState string

// Key states, named as KMS names them.
const (
	KeyStateEnabled         KeyState = "Enabled"
	KeyStateDisabled        KeyState = "Disabled"
	KeyStatePendingDeletion KeyState = "PendingDeletion"
)

type key struct {
	id    string
	arn   string
	state KeyState
	aead  cipher.AEAD // AES-256-GCM under the key's material; the material itself is not kept
	// spec is the KeySpec: SYMMETRIC_DEFAULT (aead set), RSA_* (rsa set,
	// ENCRYPT_DECRYPT) or ECC_NIST_* (ecc set, KEY_AGREEMENT).
	spec string
	rsa  *rsa.PrivateKey
	ecc  *ecdh.PrivateKey
}

// Server is a fake KMS endpoint. Its methods are safe for concurrent use.
type Server struct {
	// The state sits behind a pointer: a Server value copies no lock, so
	// its redacting methods take it by value, and T and *T both redact.
	*server
}

type server struct {
	t         testing.TB // panicTB for New
	srv       *httptest.Server
	closeOnce sync.Once
	region    string
	accountID string

	mu       sync.Mutex
	keys     map[string]*key   // by key id
	aliases  map[string]string // alias name ("alias/x") -> key id
	calls    []Call
	failNext []failRule
	failFunc func(Call) *Failure
}

type failRule struct {
	op        string
	code      string
	remaining int
}

// NewServer starts a fake KMS server that is closed by t.Cleanup. Methods
// of the server that can fail (CreateKey, CreateAlias, SetKeyState, ...)
// report through t.Fatalf, so call them from the test goroutine.
func NewServer(t testing.TB, optFns ...func(*Options)) *Server {
	t.Helper()
	s := newServer(t, optFns)
	t.Cleanup(s.Close)
	return s
}

// New starts a fake KMS server that is not tied to a test, for examples and
// TestMain. The caller must call [Server.Close]. Its methods panic where
// those of a [NewServer] server call t.Fatalf.
func New(optFns ...func(*Options)) *Server {
	return newServer(panicTB{}, optFns)
}

func newServer(t testing.TB, optFns []func(*Options)) *Server {
	o := Options{Region: DefaultRegion, AccountID: DefaultAccountID}
	for _, fn := range optFns {
		fn(&o)
	}
	s := &Server{&server{
		t:         t,
		region:    o.Region,
		accountID: o.AccountID,
		keys:      map[string]*key{},
		aliases:   map[string]string{},
	}}
	if o.Region == "" || o.AccountID == "" {
		s.t.Fatalf("kmstest: Region and AccountID must not be empty")
	}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Start()
	return s
}

// Close shuts the server down. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(s.srv.Close)
}

// panicTB stands in for a testing.TB in servers made by New: Fatalf
// panics. Only Helper and Fatalf are ever called.
type panicTB struct{ testing.TB }

func (panicTB) Helper() {}

func (panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// URL is the server's base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.srv.URL }

// Region is the region the server serves.
func (s *Server) Region() string { return s.region }

// Client returns a real aws-sdk-go-v2 KMS client that talks to this server:
// BaseEndpoint is [Server.URL], the region is the server's, credentials are
// static dummies, and there are no retries (RetryMaxAttempts 1), so injected
// failures return at once. optFns may change any of that; a RetryMaxAttempts
// above 1 retries without backoff delay.
func (s *Server) Client(optFns ...func(*kms.Options)) *kms.Client {
	o := kms.Options{
		Region:       s.region,
		BaseEndpoint: aws.String(s.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAKMSTESTEXAMPLE", "kmstest-dummy-secret", ""),
		HTTPClient:   s.srv.Client(),
		Retryer: retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 1
			so.RateLimiter = ratelimit.None
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	}
	return kms.New(o, optFns...)
}

// KeyOption configures [Server.CreateKey].
type KeyOption func(*keyOptions)

type keyOptions struct {
	id       string
	material []byte
	state    KeyState
	spec     string
	rsa      *rsa.PrivateKey
	ecc      *ecdh.PrivateKey
}

// WithKeyID makes CreateKey use id as the key id instead of a random
// UUID. The id must be 1 to 128 characters from [A-Za-z0-9-_] and unused.
func WithKeyID(id string) KeyOption { return func(o *keyOptions) { o.id = id } }

// WithKeyMaterial makes CreateKey use a copy of the given 32-byte AES key
// instead of random material.
func WithKeyMaterial(material []byte) KeyOption {
	return func(o *keyOptions) { o.material = slices.Clone(material) }
}

// WithKeyState makes CreateKey create the key in the given state.
func WithKeyState(state KeyState) KeyOption { return func(o *keyOptions) { o.state = state } }

// CreateKey creates a symmetric encryption key (SYMMETRIC_DEFAULT, random
// 256-bit material) and returns its id and ARN
// (arn:aws:kms:<region>:<account>:key/<id>). It fails the test (t.Fatalf) on
// invalid options.
func (s *Server) CreateKey(opts ...KeyOption) (keyID, arn string) {
	s.t.Helper()
	o := keyOptions{state: KeyStateEnabled}
	for _, fn := range opts {
		fn(&o)
	}
	if o.id == "" {
		o.id = newUUID()
	} else if !validKeyID(o.id) {
		s.t.Fatalf("kmstest: invalid key id %q", o.id)
	}
	switch o.state {
	case KeyStateEnabled, KeyStateDisabled, KeyStatePendingDeletion:
	default:
		s.t.Fatalf("kmstest: unknown key state %q", o.state)
	}
	if o.spec != "" && o.spec != symmetricDefault {
		return s.createAsymmetricKey(&o)
	}
	material := o.material
	if material == nil {
		material = make([]byte, 32)
		rand.Read(material)
	} else if len(material) != 32 {
		s.t.Fatalf("kmstest: key material must be 32 bytes, got %d", len(material))
	}
	block, err := aes.NewCipher(material)
	clear(material)
	if err != nil {
		s.t.Fatalf("kmstest: %v", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		s.t.Fatalf("kmstest: %v", err)
	}
	return s.addKey(&key{id: o.id, arn: s.keyARN(o.id), state: o.state, aead: aead, spec: symmetricDefault})
}

func (s *Server) addKey(k *key) (keyID, arn string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.keys[k.id]; dup {
		s.t.Fatalf("kmstest: key id %q already exists", k.id)
	}
	s.keys[k.id] = k
	return k.id, k.arn
}

// CreateAlias points alias (which must start with "alias/" and not with
// "alias/aws/") at a key given by id, ARN, or another alias. An existing
// alias of that name is repointed. It fails the test on errors.
func (s *Server) CreateAlias(alias, keyID string) (aliasARN string) {
	s.t.Helper()
	name, ok := strings.CutPrefix(alias, "alias/")
	if !ok || name == "" || strings.HasPrefix(alias, "alias/aws/") || len(alias) > 256 {
		s.t.Fatalf("kmstest: invalid alias name %q", alias)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.lookupLocked(keyID)
	if k == nil {
		s.t.Fatalf("kmstest: CreateAlias: key %q not found", keyID)
	}
	s.aliases[alias] = k.id
	return s.aliasARN(alias)
}

// DisableKey disables a key: cryptographic operations with it then fail
// with DisabledException. It fails the test if the key does not exist.
func (s *Server) DisableKey(keyID string) {
	s.t.Helper()
	s.SetKeyState(keyID, KeyStateDisabled)
}

// EnableKey enables a key.
func (s *Server) EnableKey(keyID string) {
	s.t.Helper()
	s.SetKeyState(keyID, KeyStateEnabled)
}

// ScheduleKeyDeletion puts a key in the PendingDeletion state: cryptographic
// operations with it then fail with KMSInvalidStateException.
func (s *Server) ScheduleKeyDeletion(keyID string) {
	s.t.Helper()
	s.SetKeyState(keyID, KeyStatePendingDeletion)
}

// SetKeyState sets the state of a key given by id, ARN or alias. It fails
// the test if the key does not exist.
func (s *Server) SetKeyState(keyID string, state KeyState) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.lookupLocked(keyID)
	if k == nil {
		s.t.Fatalf("kmstest: key %q not found", keyID)
	}
	switch state {
	case KeyStateEnabled, KeyStateDisabled, KeyStatePendingDeletion:
	default:
		s.t.Fatalf("kmstest: unknown key state %q", state)
	}
	k.state = state
}

// Failure is an error response to inject. The body sent is
// {"__type":Code,"message":Message}.
type Failure struct {
	// Code is the KMS error code, e.g. "ThrottlingException".
	Code string
	// Message is the error message. Default: a message naming the code.
	Message string
	// StatusCode is the HTTP status. Default: 500 for KMSInternalException
	// and InternalFailure, 503 for DependencyTimeoutException and
	// ServiceUnavailable, 412 for DryRunOperationException, otherwise 400
	// (which is also what KMS sends for ThrottlingException).
	StatusCode int
}

// FailNext makes the next n requests for operation op (e.g.
// "GenerateDataKey"; "" for any operation) fail with the error code. Rules
// queue up: a request consumes the first matching rule that has requests
// left. Injected failures are checked before [Server.SetFailure]'s function.
func (s *Server) FailNext(op, code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > 0 {
		s.failNext = append(s.failNext, failRule{op: strings.TrimPrefix(op, targetPrefix), code: code, remaining: n})
	}
}

// SetFailure installs a function called for every request after it has been
// parsed (Call.ErrorCode is empty; Call.KeyARN is the key the request would
// use, if known). A non-nil result is sent instead of the operation's
// response. nil removes the function. The function must be safe for
// concurrent use and must not call methods of s.
func (s *Server) SetFailure(f func(c Call) *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failFunc = f
}

// Call is one request the server received. It never holds plaintext.
type Call struct {
	// Op is the operation name without the "TrentService." prefix, e.g.
	// "Decrypt".
	Op string
	// KeyID is the KeyId the request sent, verbatim ("" if none, as usual
	// for Decrypt); for ReEncrypt the SourceKeyId.
	KeyID string
	// KeyARN is the ARN of the key the request used or would have used:
	// the resolved KeyId, or for Decrypt without KeyId the key named in the
	// ciphertext blob. "" if it could not be determined.
	KeyARN string
	// EncryptionContext is the context the request sent (nil if none); for
	// ReEncrypt the SourceEncryptionContext.
	EncryptionContext map[string]string
	// DestinationKeyID, DestinationKeyARN and DestinationEncryptionContext
	// are ReEncrypt's destination: the DestinationKeyId as sent, the key it
	// resolved to, and the DestinationEncryptionContext.
	DestinationKeyID             string
	DestinationKeyARN            string
	DestinationEncryptionContext map[string]string
	// GrantTokens are the grant tokens the request sent.
	GrantTokens []string
	// NumberOfBytes and KeySpec are GenerateDataKey's size parameters as
	// sent (0 and "" if absent).
	NumberOfBytes int32
	KeySpec       string
	// DryRun reports whether the request asked for a dry run.
	DryRun bool
	// ErrorCode is the error code of the response, "" for success.
	ErrorCode string
}

func (c Call) clone() Call {
	c.EncryptionContext = maps.Clone(c.EncryptionContext)
	c.DestinationEncryptionContext = maps.Clone(c.DestinationEncryptionContext)
	c.GrantTokens = slices.Clone(c.GrantTokens)
	return c
}

// Calls returns a copy of the requests received so far, in order of
// completion.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = c.clone()
	}
	return out
}

// CallsFor returns the recorded calls of one operation.
func (s *Server) CallsFor(op string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func (s *Server) keyARN(id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.region, s.accountID, id)
}

func (s *Server) aliasARN(alias string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:%s", s.region, s.accountID, alias)
}

// lookupLocked resolves a key id, key ARN, alias name or alias ARN.
func (s *Server) lookupLocked(ref string) *key {
	if rest, ok := strings.CutPrefix(ref, "arn:"); ok {
		// arn:partition:kms:region:account:key/id or ...:alias/name
		parts := strings.SplitN(rest, ":", 5)
		if len(parts) != 5 || parts[1] != "kms" || parts[2] != s.region || parts[3] != s.accountID {
			return nil
		}
		switch {
		case strings.HasPrefix(parts[4], "key/"):
			return s.keys[strings.TrimPrefix(parts[4], "key/")]
		case strings.HasPrefix(parts[4], "alias/"):
			ref = parts[4]
		default:
			return nil
		}
	}
	if strings.HasPrefix(ref, "alias/") {
		id, ok := s.aliases[ref]
		if !ok {
			return nil
		}
		return s.keys[id]
	}
	return s.keys[ref]
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// String, GoString, Format, LogValue and MarshalJSON name the endpoint, never
// the keys' material.
func (s Server) String() string                { return s.redacted().String() }
func (s Server) GoString() string              { return s.redacted().GoString() }
func (s Server) Format(f fmt.State, verb rune) { s.redacted().Format(f, verb) }
func (s Server) LogValue() slog.Value          { return s.redacted().LogValue() }
func (s Server) MarshalJSON() ([]byte, error)  { return s.redacted().MarshalJSON() }
func (s Server) redacted() redact.Text {
	return redact.Text("kmstest.Server{" + s.url() + ", keys: [redacted]}")
}

func (s Server) url() string {
	if s.server == nil || s.srv == nil {
		return ""
	}
	return s.srv.URL
}
