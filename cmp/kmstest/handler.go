package kmstest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Operation names as they appear in [Call.Op] and after "TrentService." in
// the X-Amz-Target header.
const (
	OpGenerateDataKey                 = "GenerateDataKey"
	OpGenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext"
	OpEncrypt                         = "Encrypt"
	OpDecrypt                         = "Decrypt"
	OpReEncrypt                       = "ReEncrypt"
	OpGetPublicKey                    = "GetPublicKey"
	OpDeriveSharedSecret              = "DeriveSharedSecret"
)

// Error codes the server itself sends. Any code may be injected.
const (
	CodeNotFound             = "NotFoundException"
	CodeDisabled             = "DisabledException"
	CodeInvalidState         = "KMSInvalidStateException"
	CodeInvalidCiphertext    = "InvalidCiphertextException"
	CodeIncorrectKey         = "IncorrectKeyException"
	CodeInvalidKeyUsage      = "InvalidKeyUsageException"
	CodeValidation           = "ValidationException"
	CodeSerialization        = "SerializationException"
	CodeUnsupportedOperation = "UnsupportedOperationException"
	CodeUnknownOperation     = "UnknownOperationException"
	CodeDryRun               = "DryRunOperationException"
	CodeMissingAuth          = "MissingAuthenticationTokenException"
	CodeInvalidSignature     = "InvalidSignatureException"
	CodeThrottling           = "ThrottlingException"
	CodeAccessDenied         = "AccessDeniedException"
	CodeInternal             = "KMSInternalException"
)

const (
	targetPrefix     = "TrentService."
	symmetricDefault = "SYMMETRIC_DEFAULT"
	maxBodyBytes     = 1 << 20
)

// request is the union of the request members of the supported
// operations, named as in the KMS API reference.
type request struct {
	KeyId               *string
	EncryptionContext   map[string]string
	GrantTokens         []string
	NumberOfBytes       *int32
	KeySpec             *string
	Plaintext           []byte
	CiphertextBlob      []byte
	EncryptionAlgorithm *string
	DryRun              *bool
	Recipient           json.RawMessage

	// DeriveSharedSecret
	KeyAgreementAlgorithm *string
	PublicKey             []byte

	// ReEncrypt
	SourceKeyId                    *string
	SourceEncryptionContext        map[string]string
	SourceEncryptionAlgorithm      *string
	DestinationKeyId               *string
	DestinationEncryptionContext   map[string]string
	DestinationEncryptionAlgorithm *string
}

type generateDataKeyResponse struct {
	CiphertextBlob []byte
	Plaintext      []byte `json:",omitempty"`
	KeyId          string
}

type encryptResponse struct {
	CiphertextBlob      []byte
	KeyId               string
	EncryptionAlgorithm string
}

type reEncryptResponse struct {
	CiphertextBlob                 []byte
	SourceKeyId                    string
	KeyId                          string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
}

type decryptResponse struct {
	KeyId               string
	Plaintext           []byte
	EncryptionAlgorithm string
}

func failure(code, format string, args ...any) *Failure {
	return &Failure{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP implements the KMS JSON 1.1 protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, isTrent := strings.CutPrefix(target, targetPrefix)
	if !isTrent {
		op = target
	}
	call := Call{Op: op}
	resp, f := s.serve(r, &call, isTrent)
	if f != nil {
		call.ErrorCode = f.Code
	}
	s.record(call)
	if f != nil {
		writeError(w, f)
		return
	}
	body, err := json.Marshal(resp)
	clearResponse(resp)
	if err != nil {
		writeError(w, failure(CodeInternal, "kmstest: encoding response: %v", err))
		return
	}
	writeHeaders(w)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	clear(body)
}

func (s *Server) serve(r *http.Request, call *Call, isTrent bool) (any, *Failure) {
	if r.Method != http.MethodPost {
		return nil, failure(CodeUnknownOperation, "method %s not allowed", r.Method)
	}
	if f := s.checkAuth(r); f != nil {
		return nil, f
	}
	if !isTrent || call.Op == "" {
		return nil, &Failure{Code: CodeUnknownOperation}
	}
	switch call.Op {
	case OpGenerateDataKey, OpGenerateDataKeyWithoutPlaintext, OpEncrypt, OpDecrypt, OpReEncrypt, OpGetPublicKey, OpDeriveSharedSecret:
	default:
		return nil, failure(CodeUnsupportedOperation, "kmstest does not implement %s", call.Op)
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-amz-json-1.1" && ct != "application/x-amz-json-1.0" {
		return nil, failure(CodeSerialization, "unsupported Content-Type %q", r.Header.Get("Content-Type"))
	}

	var req request
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		return nil, failure(CodeSerialization, "cannot parse request body")
	}
	defer clear(req.Plaintext)
	if req.KeyId != nil {
		call.KeyID = *req.KeyId
	}
	call.EncryptionContext = req.EncryptionContext
	if call.Op == OpReEncrypt {
		if req.SourceKeyId != nil {
			call.KeyID = *req.SourceKeyId
		}
		if req.DestinationKeyId != nil {
			call.DestinationKeyID = *req.DestinationKeyId
		}
		call.EncryptionContext = req.SourceEncryptionContext
		call.DestinationEncryptionContext = req.DestinationEncryptionContext
	}
	call.GrantTokens = req.GrantTokens
	if req.NumberOfBytes != nil {
		call.NumberOfBytes = *req.NumberOfBytes
	}
	if req.KeySpec != nil {
		call.KeySpec = *req.KeySpec
	}
	call.DryRun = req.DryRun != nil && *req.DryRun

	// Best-effort resolution of the key for the call record and failure
	// functions; errors are reported by the operation itself.
	s.mu.Lock()
	if call.KeyID != "" {
		if k := s.lookupLocked(call.KeyID); k != nil {
			call.KeyARN = k.arn
		}
	} else if call.Op == OpDecrypt || call.Op == OpReEncrypt {
		if id, err := blobKeyID(req.CiphertextBlob); err == nil {
			if k := s.keys[id]; k != nil {
				call.KeyARN = k.arn
			}
		}
	}
	if call.DestinationKeyID != "" {
		if k := s.lookupLocked(call.DestinationKeyID); k != nil {
			call.DestinationKeyARN = k.arn
		}
	}
	f := s.injectedLocked(call.Op)
	failFunc := s.failFunc
	s.mu.Unlock()
	if f == nil && failFunc != nil {
		f = failFunc(call.clone())
	}
	if f != nil {
		injected := *f
		if injected.Code == "" {
			injected.Code = CodeInternal
		}
		if injected.Message == "" {
			injected.Message = "kmstest: injected " + injected.Code
		}
		return nil, &injected
	}

	if len(req.GrantTokens) > 10 {
		return nil, failure(CodeValidation, "1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	if len(req.Recipient) > 0 && string(req.Recipient) != "null" {
		return nil, failure(CodeUnsupportedOperation, "kmstest does not support Recipient")
	}
	switch call.Op {
	case OpGenerateDataKey:
		return s.generateDataKey(&req, call, true)
	case OpGenerateDataKeyWithoutPlaintext:
		return s.generateDataKey(&req, call, false)
	case OpEncrypt:
		return s.encrypt(&req, call)
	case OpReEncrypt:
		return s.reEncrypt(&req, call)
	case OpGetPublicKey:
		return s.getPublicKey(&req, call)
	case OpDeriveSharedSecret:
		return s.deriveSharedSecret(&req, call)
	default:
		return s.decrypt(&req, call)
	}
}

func (s *Server) injectedLocked(op string) *Failure {
	for i := range s.failNext {
		rule := &s.failNext[i]
		if rule.op != "" && rule.op != op {
			continue
		}
		rule.remaining--
		code := rule.code
		if rule.remaining <= 0 {
			s.failNext = append(s.failNext[:i], s.failNext[i+1:]...)
		}
		return &Failure{Code: code}
	}
	return nil
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c.clone())
}

// checkAuth requires a SigV4 Authorization header scoped to the server's
// region and the kms service. The signature is not verified.
func (s *Server) checkAuth(r *http.Request) *Failure {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return failure(CodeMissingAuth, "Missing Authentication Token")
	}
	for part := range strings.SplitSeq(rest, ",") {
		cred, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential=")
		if !ok {
			continue
		}
		// AKID/date/region/service/aws4_request
		scope := strings.Split(cred, "/")
		if len(scope) != 5 || scope[4] != "aws4_request" {
			break
		}
		if scope[2] != s.region {
			return failure(CodeInvalidSignature, "Credential should be scoped to a valid region. (kmstest serves %s, request signed for %s)", s.region, scope[2])
		}
		if scope[3] != "kms" {
			return failure(CodeInvalidSignature, "Credential should be scoped to correct service: 'kms'.")
		}
		return nil
	}
	return failure(CodeInvalidSignature, "Authorization header requires a valid Credential parameter")
}

// usableKey resolves ref and checks the key's state.
func (s *Server) usableKey(ref string) (*key, *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.lookupLocked(ref)
	if k == nil {
		if strings.HasPrefix(ref, "alias/") || strings.Contains(ref, ":alias/") {
			alias := ref
			if !strings.HasPrefix(ref, "arn:") {
				alias = s.aliasARN(ref)
			}
			return nil, failure(CodeNotFound, "Alias %s is not found.", alias)
		}
		if !strings.HasPrefix(ref, "arn:") {
			ref = s.keyARN(ref)
		}
		return nil, failure(CodeNotFound, "Key '%s' does not exist", ref)
	}
	return k, stateFailureLocked(k)
}

func stateFailureLocked(k *key) *Failure {
	switch k.state {
	case KeyStateDisabled:
		return failure(CodeDisabled, "%s is disabled.", k.arn)
	case KeyStatePendingDeletion:
		return failure(CodeInvalidState, "%s is pending deletion.", k.arn)
	}
	return nil
}

func requireKeyID(req *request) *Failure {
	if req.KeyId == nil || *req.KeyId == "" {
		return failure(CodeValidation, "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	return nil
}

func checkAlgorithm(alg *string) *Failure {
	if alg == nil {
		return nil
	}
	switch *alg {
	case symmetricDefault:
		return nil
	case "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE":
		return failure(CodeInvalidKeyUsage, "%s is not a valid encryption algorithm for a symmetric key.", *alg)
	}
	return failure(CodeValidation, "1 validation error detected: Value '%s' at 'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]", *alg)
}

func dryRun(req *request) *Failure {
	if req.DryRun != nil && *req.DryRun {
		return failure(CodeDryRun, "The request would have succeeded, but the DryRun option is set.")
	}
	return nil
}

func (s *Server) generateDataKey(req *request, call *Call, withPlaintext bool) (any, *Failure) {
	if f := requireKeyID(req); f != nil {
		return nil, f
	}
	var n int32
	switch {
	case (req.NumberOfBytes == nil) == (req.KeySpec == nil):
		return nil, failure(CodeValidation, "Please specify either number of bytes or key spec.")
	case req.NumberOfBytes != nil:
		n = *req.NumberOfBytes
		if n < 1 || n > 1024 {
			return nil, failure(CodeValidation, "1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024", n)
		}
	case *req.KeySpec == "AES_256":
		n = 32
	case *req.KeySpec == "AES_128":
		n = 16
	default:
		return nil, failure(CodeValidation, "1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", *req.KeySpec)
	}
	k, f := s.usableKey(*req.KeyId)
	if k != nil {
		call.KeyARN = k.arn
	}
	if f != nil {
		return nil, f
	}
	if k.aead == nil {
		return nil, failure(CodeInvalidKeyUsage, "%s key usage is %s which is not valid for %s.", k.arn, k.usage(), call.Op)
	}
	if f := dryRun(req); f != nil {
		return nil, f
	}
	plaintext := make([]byte, n)
	rand.Read(plaintext)
	resp := &generateDataKeyResponse{CiphertextBlob: sealBlob(k, plaintext, req.EncryptionContext), KeyId: k.arn}
	if withPlaintext {
		resp.Plaintext = plaintext
	} else {
		clear(plaintext)
	}
	return resp, nil
}

func (s *Server) encrypt(req *request, call *Call) (any, *Failure) {
	if f := requireKeyID(req); f != nil {
		return nil, f
	}
	if len(req.Plaintext) < 1 || len(req.Plaintext) > 4096 {
		return nil, failure(CodeValidation, "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and 4096")
	}
	k, f := s.usableKey(*req.KeyId)
	if k != nil {
		call.KeyARN = k.arn
	}
	if f != nil {
		return nil, f
	}
	switch {
	case k.rsa != nil:
		if f := dryRun(req); f != nil {
			return nil, f
		}
		return rsaEncrypt(k, req)
	case k.aead == nil:
		return nil, failure(CodeInvalidKeyUsage, "%s key usage is %s which is not valid for Encrypt.", k.arn, k.usage())
	}
	if f := checkAlgorithm(req.EncryptionAlgorithm); f != nil {
		return nil, f
	}
	if f := dryRun(req); f != nil {
		return nil, f
	}
	return &encryptResponse{
		CiphertextBlob:      sealBlob(k, req.Plaintext, req.EncryptionContext),
		KeyId:               k.arn,
		EncryptionAlgorithm: symmetricDefault,
	}, nil
}

func (s *Server) decrypt(req *request, call *Call) (any, *Failure) {
	if req.KeyId != nil && *req.KeyId != "" {
		s.mu.Lock()
		k := s.lookupLocked(*req.KeyId)
		s.mu.Unlock()
		if k != nil && k.aead == nil {
			k, f := s.usableKey(*req.KeyId)
			call.KeyARN = k.arn
			if f != nil {
				return nil, f
			}
			if k.rsa == nil {
				return nil, failure(CodeInvalidKeyUsage, "%s key usage is %s which is not valid for Decrypt.", k.arn, k.usage())
			}
			if len(req.CiphertextBlob) < 1 || len(req.CiphertextBlob) > 6144 {
				return nil, failure(CodeValidation, "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length between 1 and 6144")
			}
			return rsaDecrypt(k, req)
		}
	}
	if f := checkAlgorithm(req.EncryptionAlgorithm); f != nil {
		return nil, f
	}
	k, plaintext, f := s.open(req.CiphertextBlob, req.KeyId, req.EncryptionContext, call)
	if f != nil {
		return nil, f
	}
	if f := dryRun(req); f != nil {
		clear(plaintext)
		return nil, f
	}
	return &decryptResponse{KeyId: k.arn, Plaintext: plaintext, EncryptionAlgorithm: symmetricDefault}, nil
}

// open decrypts a ciphertext blob under ec, as Decrypt and the source half
// of ReEncrypt do. keyRef, when set, must name the blob's key. It sets
// call.KeyARN to the key used.
func (s *Server) open(blob []byte, keyRef *string, ec map[string]string, call *Call) (*key, []byte, *Failure) {
	if len(blob) < 1 || len(blob) > 6144 {
		return nil, nil, failure(CodeValidation, "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length between 1 and 6144")
	}
	blobID, err := blobKeyID(blob)
	if err != nil {
		return nil, nil, &Failure{Code: CodeInvalidCiphertext}
	}
	var k *key
	if keyRef != nil && *keyRef != "" {
		var f *Failure
		k, f = s.usableKey(*keyRef)
		if k != nil && k.id != blobID {
			return nil, nil, failure(CodeIncorrectKey, "The key ID in the request does not identify a KMS key that can perform this operation.")
		}
		if k != nil {
			call.KeyARN = k.arn
		}
		if f != nil {
			return nil, nil, f
		}
	} else {
		s.mu.Lock()
		k = s.keys[blobID]
		var f *Failure
		if k != nil {
			call.KeyARN = k.arn
			f = stateFailureLocked(k)
		}
		s.mu.Unlock()
		if k == nil {
			// The blob names a key this server does not have (another
			// Server's, or a deleted one): undecryptable here.
			return nil, nil, &Failure{Code: CodeInvalidCiphertext}
		}
		if f != nil {
			return nil, nil, f
		}
	}
	if k.aead == nil {
		return nil, nil, failure(CodeInvalidKeyUsage, "%s key usage is %s which is not valid for %s.", k.arn, k.usage(), call.Op)
	}
	plaintext, err := openBlob(k, blob, ec)
	if err != nil {
		return nil, nil, &Failure{Code: CodeInvalidCiphertext}
	}
	return k, plaintext, nil
}

// reEncrypt decrypts under the source key and context and encrypts the
// plaintext, which never leaves the server, under the destination key and
// context.
func (s *Server) reEncrypt(req *request, call *Call) (any, *Failure) {
	if req.DestinationKeyId == nil || *req.DestinationKeyId == "" {
		return nil, failure(CodeValidation, "1 validation error detected: Value null at 'destinationKeyId' failed to satisfy constraint: Member must not be null")
	}
	if f := checkAlgorithm(req.SourceEncryptionAlgorithm); f != nil {
		return nil, f
	}
	if f := checkAlgorithm(req.DestinationEncryptionAlgorithm); f != nil {
		return nil, f
	}
	src, plaintext, f := s.open(req.CiphertextBlob, req.SourceKeyId, req.SourceEncryptionContext, call)
	if f != nil {
		return nil, f
	}
	defer clear(plaintext)
	dst, f := s.usableKey(*req.DestinationKeyId)
	if dst != nil {
		call.DestinationKeyARN = dst.arn
	}
	if f != nil {
		return nil, f
	}
	if dst.aead == nil {
		return nil, failure(CodeUnsupportedOperation, "kmstest does not ReEncrypt to asymmetric keys")
	}
	if f := dryRun(req); f != nil {
		return nil, f
	}
	return &reEncryptResponse{
		CiphertextBlob:                 sealBlob(dst, plaintext, req.DestinationEncryptionContext),
		SourceKeyId:                    src.arn,
		KeyId:                          dst.arn,
		SourceEncryptionAlgorithm:      symmetricDefault,
		DestinationEncryptionAlgorithm: symmetricDefault,
	}, nil
}

func clearResponse(resp any) {
	switch r := resp.(type) {
	case *generateDataKeyResponse:
		clear(r.Plaintext)
	case *decryptResponse:
		clear(r.Plaintext)
	case *deriveSharedSecretResponse:
		clear(r.SharedSecret)
	}
}

func writeHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Requestid", newUUID())
}

func defaultStatus(code string) int {
	switch code {
	case CodeInternal, "InternalFailure", "KeyUnavailableException":
		return http.StatusInternalServerError
	case "DependencyTimeoutException", "ServiceUnavailable", "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	case CodeDryRun:
		return http.StatusPreconditionFailed
	}
	return http.StatusBadRequest
}

func writeError(w http.ResponseWriter, f *Failure) {
	status := f.StatusCode
	if status == 0 {
		status = defaultStatus(f.Code)
	}
	body := struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{f.Code, f.Message}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(body)
	writeHeaders(w)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
