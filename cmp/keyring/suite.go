package keyring

import "fmt"

// Suite is a DB-ESDK algorithm suite, by its two-byte id.
type Suite uint16

const (
	// SuiteHMAC is ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384
	// (0x6700): AES-256-GCM per field, HKDF-SHA512 derivations with key
	// commitment, one HMAC-SHA384 tag per recipient.
	SuiteHMAC Suite = 0x6700
	// SuiteECDSAP384 is
	// ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384
	// (0x6701): SuiteHMAC plus an ECDSA P-384 signature. It is the DB-ESDK
	// default.
	SuiteECDSAP384 Suite = 0x6701
)

// KeyLength is the length of the data key, the intermediate key and every
// key derived from them under both suites.
const KeyLength = 32

// Valid reports whether s is one of the two DB-ESDK suites.
func (s Suite) Valid() bool { return s == SuiteHMAC || s == SuiteECDSAP384 }

// Signed reports whether s adds an ECDSA P-384 signature.
func (s Suite) Signed() bool { return s == SuiteECDSAP384 }

// Flavor is the header's flavor byte: the second byte of the suite id.
func (s Suite) Flavor() byte { return byte(s) }

// SuiteFromFlavor returns the suite of a header flavor byte.
func SuiteFromFlavor(b byte) (Suite, bool) {
	s := Suite(0x6700 | uint16(b))
	return s, s.Valid()
}

// String returns the DB-ESDK enum name.
func (s Suite) String() string {
	switch s {
	case SuiteHMAC:
		return "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384"
	case SuiteECDSAP384:
		return "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384"
	}
	return fmt.Sprintf("Suite(0x%04x)", uint16(s))
}

// ParseSuite accepts the enum name or the id as "0x6700"/"6700".
func ParseSuite(name string) (Suite, error) {
	for _, s := range []Suite{SuiteHMAC, SuiteECDSAP384} {
		if name == s.String() || name == fmt.Sprintf("0x%04x", uint16(s)) || name == fmt.Sprintf("%04x", uint16(s)) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: algorithm suite %q (want %s or %s)", ErrUnsupportedSuite, name, SuiteHMAC, SuiteECDSAP384)
}
