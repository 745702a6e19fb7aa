package kmstest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// WithMultiRegion makes CreateKey create a multi-Region primary key: its
// id, unless [WithKeyID] sets one, is "mrk-" and 32 hex digits, as AWS KMS
// names multi-Region keys. [Server.ReplicateKey] copies it to the servers
// of other regions.
func WithMultiRegion() KeyOption {
	return func(o *keyOptions) {
		if o.id == "" {
			var b [16]byte
			rand.Read(b[:])
			o.id = "mrk-" + hex.EncodeToString(b[:])
		}
	}
}

// ReplicateKey creates in dst, the fake KMS of another region, a replica of
// the multi-Region key keyID (id, ARN or alias of a key of s whose id starts
// with "mrk-"): the same key id and the same key material, so that a
// ciphertext either makes decrypts with the other, as with AWS KMS
// multi-Region keys. The replica starts Enabled; its state is its own. It
// returns the replica's ARN and fails the test if the key is not a
// multi-Region key, dst serves the same region or another account, or dst already holds the id.
func (s *Server) ReplicateKey(keyID string, dst *Server) (replicaARN string) {
	s.t.Helper()
	s.mu.Lock()
	k := s.lookupLocked(keyID)
	s.mu.Unlock()
	switch {
	case k == nil:
		s.t.Fatalf("kmstest: ReplicateKey: key %q not found", keyID)
	case !strings.HasPrefix(k.id, "mrk-"):
		s.t.Fatalf("kmstest: ReplicateKey: key %q is not a multi-Region key (mrk- id)", keyID)
	case dst == nil || dst.server == s.server || dst.region == s.region || dst.accountID != s.accountID:
		s.t.Fatalf("kmstest: ReplicateKey: the replica needs a server of another region in the same account")
	}
	r := &key{id: k.id, arn: dst.keyARN(k.id), state: KeyStateEnabled, aead: k.aead, spec: k.spec, rsa: k.rsa, ecc: k.ecc} // GCM is safe for concurrent use
	dst.mu.Lock()
	defer dst.mu.Unlock()
	if _, dup := dst.keys[r.id]; dup {
		s.t.Fatalf("kmstest: ReplicateKey: key id %q already exists in %s", r.id, dst.region)
	}
	dst.keys[r.id] = r
	return r.arn
}
