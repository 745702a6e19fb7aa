package kmstest

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSAES_OAEP_SHA_1 is a KMS encryption algorithm
	"crypto/sha256"
	"crypto/x509"
	"hash"
)

// Key specs of asymmetric keys, named as KMS names them.
const (
	KeySpecRSA2048 = "RSA_2048"
	KeySpecRSA3072 = "RSA_3072"
	KeySpecRSA4096 = "RSA_4096"
	KeySpecP256    = "ECC_NIST_P256"
	KeySpecP384    = "ECC_NIST_P384"
	KeySpecP521    = "ECC_NIST_P521"
)

// Key usages and algorithms of asymmetric keys.
const (
	KeyUsageEncryptDecrypt = "ENCRYPT_DECRYPT"
	KeyUsageKeyAgreement   = "KEY_AGREEMENT"
	RSAESOAEPSHA1          = "RSAES_OAEP_SHA_1"
	RSAESOAEPSHA256        = "RSAES_OAEP_SHA_256"
	KeyAgreementECDH       = "ECDH"
)

// WithKeySpec makes CreateKey create an asymmetric key: an RSA key
// (RSA_2048, RSA_3072, RSA_4096) of key usage ENCRYPT_DECRYPT, which
// GetPublicKey, Encrypt and Decrypt take with RSAES_OAEP_SHA_1 or
// RSAES_OAEP_SHA_256, or an elliptic-curve key (ECC_NIST_P256, P384,
// P521) of key usage KEY_AGREEMENT, which GetPublicKey and
// DeriveSharedSecret take. SYMMETRIC_DEFAULT is the default. The key pair
// is random unless [WithRSAKey] or [WithECCKey] gives it.
func WithKeySpec(spec string) KeyOption { return func(o *keyOptions) { o.spec = spec } }

// WithRSAKey makes CreateKey create an RSA key (of the spec of its size)
// with the given private key, which is kept, not copied.
func WithRSAKey(priv *rsa.PrivateKey) KeyOption {
	return func(o *keyOptions) {
		o.rsa = priv
		if priv != nil {
			o.spec = rsaSpec(priv.N.BitLen())
		}
	}
}

// WithECCKey makes CreateKey create a KEY_AGREEMENT key (of the spec of
// its curve) with the given private key.
func WithECCKey(priv *ecdh.PrivateKey) KeyOption {
	return func(o *keyOptions) {
		o.ecc = priv
		if priv != nil {
			o.spec = eccSpec(priv.Curve())
		}
	}
}

func rsaSpec(bits int) string {
	switch bits {
	case 2048:
		return KeySpecRSA2048
	case 3072:
		return KeySpecRSA3072
	case 4096:
		return KeySpecRSA4096
	}
	return "RSA_unsupported"
}

func eccSpec(c ecdh.Curve) string {
	switch c {
	case ecdh.P256():
		return KeySpecP256
	case ecdh.P384():
		return KeySpecP384
	case ecdh.P521():
		return KeySpecP521
	}
	return "ECC_unsupported"
}

func (s *Server) createAsymmetricKey(o *keyOptions) (keyID, arn string) {
	s.t.Helper()
	k := &key{id: o.id, arn: s.keyARN(o.id), state: o.state, spec: o.spec, rsa: o.rsa, ecc: o.ecc}
	var err error
	switch o.spec {
	case KeySpecRSA2048, KeySpecRSA3072, KeySpecRSA4096:
		if k.rsa == nil {
			bits := map[string]int{KeySpecRSA2048: 2048, KeySpecRSA3072: 3072, KeySpecRSA4096: 4096}[o.spec]
			k.rsa, err = rsa.GenerateKey(rand.Reader, bits)
		}
	case KeySpecP256, KeySpecP384, KeySpecP521:
		if k.ecc == nil {
			c := map[string]ecdh.Curve{KeySpecP256: ecdh.P256(), KeySpecP384: ecdh.P384(), KeySpecP521: ecdh.P521()}[o.spec]
			k.ecc, err = c.GenerateKey(rand.Reader)
		}
	default:
		s.t.Fatalf("kmstest: unsupported key spec %q", o.spec)
	}
	if err != nil {
		s.t.Fatalf("kmstest: %v", err)
	}
	if o.material != nil {
		s.t.Fatalf("kmstest: key material is for symmetric keys")
	}
	return s.addKey(k)
}

// usage is the key's KeyUsage.
func (k *key) usage() string {
	switch {
	case k.ecc != nil:
		return KeyUsageKeyAgreement
	}
	return KeyUsageEncryptDecrypt
}

// publicKeyDER is the key's X.509 SubjectPublicKeyInfo.
func (k *key) publicKeyDER() ([]byte, error) {
	if k.rsa != nil {
		return x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	}
	return x509.MarshalPKIXPublicKey(k.ecc.PublicKey())
}

func oaepHash(alg string) func() hash.Hash {
	switch alg {
	case RSAESOAEPSHA1:
		return sha1.New
	case RSAESOAEPSHA256:
		return sha256.New
	}
	return nil
}

type getPublicKeyResponse struct {
	KeyId                  string
	PublicKey              []byte
	KeySpec                string
	CustomerMasterKeySpec  string
	KeyUsage               string
	EncryptionAlgorithms   []string `json:",omitempty"`
	KeyAgreementAlgorithms []string `json:",omitempty"`
}

type deriveSharedSecretResponse struct {
	KeyId                 string
	SharedSecret          []byte
	KeyAgreementAlgorithm string
	KeyOrigin             string
}

func (s *Server) getPublicKey(req *request, call *Call) (any, *Failure) {
	if f := requireKeyID(req); f != nil {
		return nil, f
	}
	k, f := s.usableKey(*req.KeyId)
	if k != nil {
		call.KeyARN = k.arn
	}
	if f != nil {
		return nil, f
	}
	if k.aead != nil {
		return nil, failure(CodeUnsupportedOperation, "%s key type is not supported for GetPublicKey operation.", symmetricDefault)
	}
	der, err := k.publicKeyDER()
	if err != nil {
		return nil, failure(CodeInternal, "kmstest: %v", err)
	}
	resp := &getPublicKeyResponse{KeyId: k.arn, PublicKey: der, KeySpec: k.spec, CustomerMasterKeySpec: k.spec, KeyUsage: k.usage()}
	if k.rsa != nil {
		resp.EncryptionAlgorithms = []string{RSAESOAEPSHA1, RSAESOAEPSHA256}
	} else {
		resp.KeyAgreementAlgorithms = []string{KeyAgreementECDH}
	}
	return resp, nil
}

func (s *Server) deriveSharedSecret(req *request, call *Call) (any, *Failure) {
	if f := requireKeyID(req); f != nil {
		return nil, f
	}
	if req.KeyAgreementAlgorithm == nil || *req.KeyAgreementAlgorithm != KeyAgreementECDH {
		return nil, failure(CodeValidation, "1 validation error detected: Value at 'keyAgreementAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [ECDH]")
	}
	if len(req.PublicKey) < 1 || len(req.PublicKey) > 8192 {
		return nil, failure(CodeValidation, "1 validation error detected: Value at 'publicKey' failed to satisfy constraint: Member must have length between 1 and 8192")
	}
	k, f := s.usableKey(*req.KeyId)
	if k != nil {
		call.KeyARN = k.arn
	}
	if f != nil {
		return nil, f
	}
	if k.ecc == nil {
		return nil, failure(CodeInvalidKeyUsage, "%s key usage is %s which is not valid for DeriveSharedSecret.", k.arn, k.usage())
	}
	pub, err := x509.ParsePKIXPublicKey(req.PublicKey)
	var peer *ecdh.PublicKey
	if err == nil {
		if ep, ok := pub.(*ecdsa.PublicKey); ok {
			peer, err = ep.ECDH()
		}
	}
	if err != nil || peer == nil || peer.Curve() != k.ecc.Curve() {
		return nil, failure(CodeValidation, "The public key is not a valid %s public key.", k.spec)
	}
	if f := dryRun(req); f != nil {
		return nil, f
	}
	z, err := k.ecc.ECDH(peer)
	if err != nil {
		return nil, failure(CodeValidation, "The public key is not a valid %s public key.", k.spec)
	}
	return &deriveSharedSecretResponse{KeyId: k.arn, SharedSecret: z, KeyAgreementAlgorithm: KeyAgreementECDH, KeyOrigin: "AWS_KMS"}, nil
}

// rsaRequest checks an Encrypt or Decrypt request for an RSA key: an
// RSAES_OAEP algorithm (named, KMS has no default for RSA) and no
// encryption context. It returns the algorithm and its hash.
func rsaRequest(k *key, req *request) (string, func() hash.Hash, *Failure) {
	alg := ""
	if req.EncryptionAlgorithm != nil {
		alg = *req.EncryptionAlgorithm
	}
	h := oaepHash(alg)
	if h == nil {
		return "", nil, failure(CodeInvalidKeyUsage, "%s is not a valid encryption algorithm for %s.", orDefault(alg), k.spec)
	}
	if len(req.EncryptionContext) > 0 {
		return "", nil, failure(CodeValidation, "EncryptionContext is not supported for asymmetric KMS keys.")
	}
	return alg, h, nil
}

// rsaEncrypt is Encrypt with an RSA key.
func rsaEncrypt(k *key, req *request) (any, *Failure) {
	alg, h, f := rsaRequest(k, req)
	if f != nil {
		return nil, f
	}
	ct, err := rsa.EncryptOAEP(h(), rand.Reader, &k.rsa.PublicKey, req.Plaintext, nil)
	if err != nil {
		return nil, failure(CodeValidation, "The plaintext is too long for %s with %s.", k.spec, alg)
	}
	return &encryptResponse{CiphertextBlob: ct, KeyId: k.arn, EncryptionAlgorithm: alg}, nil
}

// rsaDecrypt is Decrypt with an RSA key, which the request must name.
func rsaDecrypt(k *key, req *request) (any, *Failure) {
	alg, h, f := rsaRequest(k, req)
	if f != nil {
		return nil, f
	}
	pt, err := rsa.DecryptOAEP(h(), nil, k.rsa, req.CiphertextBlob, nil)
	if err != nil {
		return nil, &Failure{Code: CodeInvalidCiphertext}
	}
	if f := dryRun(req); f != nil {
		clear(pt)
		return nil, f
	}
	return &decryptResponse{KeyId: k.arn, Plaintext: pt, EncryptionAlgorithm: alg}, nil
}

func orDefault(alg string) string {
	if alg == "" {
		return symmetricDefault
	}
	return alg
}
