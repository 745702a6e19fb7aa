package keyring_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/internal/kwtest"
)

// ecdhVectorKey is an ecc-private entry of the MPL vectors' keys file.
type ecdhVectorKey struct {
	Sender, Recipient       *ecdh.PrivateKey
	SenderPub, RecipientPub *ecdh.PublicKey
}

// vectorECDH returns the ecc-<bits>-private key pairs of the MPL vectors.
func vectorECDH(t testing.TB, bits int) ecdhVectorKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mplDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Keys map[string]struct {
			Sender       string `json:"sender-material"`
			Recipient    string `json:"recipient-material"`
			SenderPub    string `json:"sender-material-public-key"`
			RecipientPub string `json:"recipient-material-public-key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	e, ok := f.Keys[fmt.Sprintf("ecc-%d-private", bits)]
	if !ok {
		t.Fatalf("no ecc-%d-private vector key", bits)
	}
	var k ecdhVectorKey
	if k.Sender, err = keyring.ParseECDHPrivateKeyPEM([]byte(e.Sender)); err != nil {
		t.Fatal(err)
	}
	if k.Recipient, err = keyring.ParseECDHPrivateKeyPEM([]byte(e.Recipient)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		s   string
		dst **ecdh.PublicKey
	}{{e.SenderPub, &k.SenderPub}, {e.RecipientPub, &k.RecipientPub}} {
		der, err := base64.StdEncoding.DecodeString(p.s)
		if err != nil {
			t.Fatal(err)
		}
		if *p.dst, err = keyring.ParseECDHPublicKey(der); err != nil {
			t.Fatal(err)
		}
	}
	if !k.SenderPub.Equal(k.Sender.PublicKey()) || !k.RecipientPub.Equal(k.Recipient.PublicKey()) {
		t.Fatal("vector public keys are not those of the private keys")
	}
	return k
}

func mustECDH(t testing.TB) func(*keyring.RawECDH, error) *keyring.RawECDH {
	return func(k *keyring.RawECDH, err error) *keyring.RawECDH {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

// stdlibECDHUnwrap opens, as the recipient priv, the keyring part of a raw ECDH EDK with the
// standard library alone, after the specification: SP 800-108 counter
// mode over HMAC-SHA384, PRF input counter || fixed info || 0x00 || salt
// || uint32 512; the first 32 bytes the commitment key, the last 32 the
// AES-256-GCM key (zero IV, the fixed info as AAD).
func stdlibECDHUnwrap(t *testing.T, curve string, priv *ecdh.PrivateKey, edk keyring.EncryptedDataKey, ec map[string]string) []byte {
	t.Helper()
	info := edk.ProviderInfo
	n := int(binary.BigEndian.Uint32(info[1:]))
	recipient := info[5 : 5+n]
	sender := info[9+n:]
	if info[0] != 1 || int(binary.BigEndian.Uint32(info[5+n:])) != len(sender) {
		t.Fatalf("provider info %x", info)
	}
	// priv is the recipient's; the peer is the sender.
	own := priv.PublicKey().Bytes()
	if !bytes.Equal(recipient[1:], own[1:len(recipient)]) || recipient[0] != 2|own[len(own)-1]&1 {
		t.Fatal("the EDK's recipient is not the key's compressed point")
	}
	peer := sender
	x, y := elliptic.UnmarshalCompressed(ellipticOf(priv.Curve()), peer)
	if x == nil {
		t.Fatal("peer key is not a compressed point")
	}
	u := make([]byte, 1+2*(len(peer)-1))
	u[0] = 4
	x.FillBytes(u[1:len(peer)])
	y.FillBytes(u[len(peer):])
	pubKey, err := priv.Curve().NewPublicKey(u)
	if err != nil {
		t.Fatal(err)
	}
	z, err := priv.ECDH(pubKey)
	if err != nil {
		t.Fatal(err)
	}
	var ecBytes []byte
	if len(ec) > 0 {
		ecBytes, _ = keyring.AppendContext(nil, ec)
	}
	fixed := []byte("ecdh-key-derivation\x00" + curve + "\x00HMAC_SHA384\x00")
	fixed = append(fixed, sender...)
	fixed = append(fixed, recipient...)
	fixed = append(fixed, 0, 1, 0)
	fixed = append(fixed, ecBytes...)
	wrapped := edk.Ciphertext[kwtest.EncryptedPDKLength:]
	if len(wrapped) != 32+32+32+16 {
		t.Fatalf("keyring part of %d bytes", len(wrapped))
	}
	salt := wrapped[:32]
	var okm []byte
	for i := uint32(1); len(okm) < 64; i++ {
		m := hmac.New(sha512.New384, z)
		_ = binary.Write(m, binary.BigEndian, i)
		m.Write(fixed)
		m.Write([]byte{0})
		m.Write(salt)
		_ = binary.Write(m, binary.BigEndian, uint32(512))
		okm = m.Sum(okm)
	}
	if !bytes.Equal(okm[:32], wrapped[32:64]) {
		t.Fatal("commitment key differs")
	}
	b, _ := aes.NewCipher(okm[32:64])
	g, _ := cipher.NewGCM(b)
	ikm, err := g.Open(nil, make([]byte, 12), wrapped[64:], fixed)
	if err != nil {
		t.Fatalf("stdlib unwrap: %v", err)
	}
	return ikm
}

func ellipticOf(c ecdh.Curve) elliptic.Curve {
	switch c {
	case ecdh.P384():
		return elliptic.P384()
	case ecdh.P521():
		return elliptic.P521()
	}
	return elliptic.P256()
}

var ecdhCurves = []struct {
	bits     int
	name     string
	infoLen  int
	pointLen int
}{{256, "p256", 75, 33}, {384, "p384", 107, 49}, {521, "p521", 143, 67}}

// Every schema pair on every curve, both suites: the EDK's layout checked
// with the standard library, and decryption by each keyring that may.
func TestRawECDHRoundTrip(t *testing.T) {
	ec := map[string]string{"aws-crypto-table": "users", "tenant": "𐀂 7"}
	for _, c := range ecdhCurves {
		k := vectorECDH(t, c.bits)
		must := mustECDH(t)
		senderStatic := must(keyring.NewRawECDHStatic(k.Sender, k.RecipientPub))
		recipientStatic := must(keyring.NewRawECDHStatic(k.Recipient, k.SenderPub))
		ephemeral := must(keyring.NewRawECDHEphemeral(k.RecipientPub))
		discovery := must(keyring.NewRawECDHDiscovery(k.Recipient))
		senderDiscovery := must(keyring.NewRawECDHDiscovery(k.Sender))
		for _, tc := range []struct {
			name    string
			enc     *keyring.RawECDH
			dec     []*keyring.RawECDH
			notDec  []*keyring.RawECDH
			stdPriv *ecdh.PrivateKey
		}{
			{"static", senderStatic, []*keyring.RawECDH{senderStatic, recipientStatic, discovery}, []*keyring.RawECDH{senderDiscovery}, k.Recipient},
			{"static-reverse", recipientStatic, []*keyring.RawECDH{recipientStatic, senderStatic, senderDiscovery}, []*keyring.RawECDH{discovery}, k.Sender},
			{"ephemeral", ephemeral, []*keyring.RawECDH{discovery}, []*keyring.RawECDH{senderStatic, recipientStatic, senderDiscovery}, k.Recipient},
		} {
			for _, suite := range []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384} {
				t.Run(fmt.Sprintf("%s/%s/%04x", c.name, tc.name, uint16(suite)), func(t *testing.T) {
					em := encryptWith(t, tc.enc, suite, ec)
					edks := em.EncryptedDataKeys()
					if len(edks) != 1 {
						t.Fatalf("%d EDKs", len(edks))
					}
					edk := edks[0]
					if edk.ProviderID != "raw-ecdh" || len(edk.ProviderInfo) != c.infoLen ||
						len(edk.Ciphertext) != kwtest.EncryptedPDKLength+32+32+32+16 {
						t.Fatalf("EDK %q, info of %d bytes, ciphertext of %d", edk.ProviderID, len(edk.ProviderInfo), len(edk.Ciphertext))
					}
					ikm := stdlibECDHUnwrap(t, c.name, tc.stdPriv, edk, em.EncryptionContext())
					dk, mac, err := kwtest.OpenIntermediate(ikm, edk.Ciphertext, em.EncryptionContext())
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(dk, em.DataKey()) || !bytes.Equal(mac, em.SymmetricSigningKeys()[0]) {
						t.Fatal("the EDK does not hold the data key and HMAC key under the MPL layout")
					}
					for _, d := range tc.dec {
						dm, err := decryptWith(d, suite, em.EncryptionContext(), edks)
						if err != nil {
							t.Fatalf("%v: %v", d, err)
						}
						checkSameKeys(t, em, dm, 0)
					}
					for _, d := range tc.notDec {
						if _, err := decryptWith(d, suite, em.EncryptionContext(), edks); !errors.Is(err, keyring.ErrNoDecryptableKey) {
							t.Fatalf("%v: %v, want ErrNoDecryptableKey", d, err)
						}
					}
					// Another context: the key derivation and the wrap fail.
					other := map[string]string{"aws-crypto-table": "users", "tenant": "8"}
					if _, err := decryptWith(tc.dec[0], suite, other, edks); !errors.Is(err, keyring.ErrAuthentication) {
						t.Fatalf("another context: %v", err)
					}
				})
			}
		}
	}
}

// An EDK whose bytes changed fails to authenticate, or is not the
// keyring's; never a panic.
func TestRawECDHTamper(t *testing.T) {
	k := vectorECDH(t, 256)
	must := mustECDH(t)
	enc := must(keyring.NewRawECDHEphemeral(k.RecipientPub))
	static := must(keyring.NewRawECDHStatic(k.Sender, k.RecipientPub))
	discovery := must(keyring.NewRawECDHDiscovery(k.Recipient))
	for _, src := range []*keyring.RawECDH{enc, static} {
		em := encryptWith(t, src, keyring.SuiteHMAC, nil)
		orig := em.EncryptedDataKeys()
		for _, part := range []string{"info", "ciphertext"} {
			n := len(orig[0].ProviderInfo)
			if part == "ciphertext" {
				n = len(orig[0].Ciphertext)
			}
			for i := range n {
				for _, bit := range []byte{0x01, 0x80} {
					edks := cloneEDKs(orig)
					b := edks[0].ProviderInfo
					if part == "ciphertext" {
						b = edks[0].Ciphertext
					}
					b[i] ^= bit
					_, err := decryptWith(discovery, keyring.SuiteHMAC, nil, edks)
					if !errors.Is(err, keyring.ErrAuthentication) && !errors.Is(err, keyring.ErrNoDecryptableKey) {
						t.Fatalf("%s byte %d ^ %#x: %v", part, i, bit, err)
					}
				}
			}
		}
	}
}

// A sender key that is no point of the curve (the discovery keyring
// decompresses it) is an authentication failure.
func TestRawECDHInvalidSenderPoint(t *testing.T) {
	k := vectorECDH(t, 256)
	must := mustECDH(t)
	em := encryptWith(t, must(keyring.NewRawECDHEphemeral(k.RecipientPub)), keyring.SuiteHMAC, nil)
	discovery := must(keyring.NewRawECDHDiscovery(k.Recipient))
	bad := 0
	for x := range 64 {
		edks := cloneEDKs(em.EncryptedDataKeys())
		sender := edks[0].ProviderInfo[9+33:]
		sender[len(sender)-1] = byte(x)
		if px, _ := elliptic.UnmarshalCompressed(elliptic.P256(), sender); px != nil {
			continue
		}
		bad++
		if _, err := decryptWith(discovery, keyring.SuiteHMAC, nil, edks); !errors.Is(err, keyring.ErrAuthentication) {
			t.Fatalf("x ending %#x: %v", x, err)
		}
	}
	if bad == 0 {
		t.Fatal("no invalid point tried")
	}
}

func TestRawECDHOneWay(t *testing.T) {
	k := vectorECDH(t, 384)
	must := mustECDH(t)
	ephemeral := must(keyring.NewRawECDHEphemeral(k.RecipientPub))
	discovery := must(keyring.NewRawECDHDiscovery(k.Recipient))
	m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := discovery.OnEncrypt(context.Background(), m); !errors.Is(err, keyring.ErrKeyringCannotEncrypt) {
		t.Fatalf("discovery OnEncrypt: %v", err)
	}
	em := encryptWith(t, ephemeral, keyring.SuiteHMAC, nil)
	if _, err := decryptWith(ephemeral, keyring.SuiteHMAC, nil, em.EncryptedDataKeys()); !errors.Is(err, keyring.ErrKeyringCannotDecrypt) {
		t.Fatalf("ephemeral OnDecrypt: %v", err)
	}
	// Each EDK has a fresh sender key.
	em2 := encryptWith(t, ephemeral, keyring.SuiteHMAC, nil)
	if bytes.Equal(em.EncryptedDataKeys()[0].ProviderInfo, em2.EncryptedDataKeys()[0].ProviderInfo) {
		t.Fatal("two ephemeral EDKs with one sender key")
	}
	// An aws-kms-ecdh EDK of the same layout is read too (as the MPL does).
	edks := cloneEDKs(em.EncryptedDataKeys())
	edks[0].ProviderID = keyring.KMSECDHProviderID
	if _, err := decryptWith(discovery, keyring.SuiteHMAC, nil, edks); err != nil {
		t.Fatalf("aws-kms-ecdh EDK: %v", err)
	}
	edks[0].ProviderID = "raw-ecdh-other"
	if _, err := decryptWith(discovery, keyring.SuiteHMAC, nil, edks); !errors.Is(err, keyring.ErrNoDecryptableKey) {
		t.Fatalf("other provider id: %v", err)
	}
}

func TestNewRawECDHValidates(t *testing.T) {
	p256, _ := ecdh.P256().GenerateKey(rand.Reader)
	p384, _ := ecdh.P384().GenerateKey(rand.Reader)
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		fn   func() (*keyring.RawECDH, error)
		want string
	}{
		{"static nil", func() (*keyring.RawECDH, error) { return keyring.NewRawECDHStatic(nil, p256.PublicKey()) }, "needs"},
		{"static curves", func() (*keyring.RawECDH, error) { return keyring.NewRawECDHStatic(p256, p384.PublicKey()) }, "different curves"},
		{"static x25519", func() (*keyring.RawECDH, error) { return keyring.NewRawECDHStatic(x25519, x25519.PublicKey()) }, "P-256, P-384 or P-521"},
		{"ephemeral nil", func() (*keyring.RawECDH, error) { return keyring.NewRawECDHEphemeral(nil) }, "needs"},
		{"ephemeral x25519", func() (*keyring.RawECDH, error) { return keyring.NewRawECDHEphemeral(x25519.PublicKey()) }, "P-256"},
		{"discovery nil", func() (*keyring.RawECDH, error) { return keyring.NewRawECDHDiscovery(nil) }, "needs"},
		{"discovery x25519", func() (*keyring.RawECDH, error) { return keyring.NewRawECDHDiscovery(x25519) }, "P-256"},
	} {
		if _, err := tc.fn(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	kr, err := keyring.NewRawECDHStatic(p384, p384.PublicKey())
	if err != nil || kr.Curve() != ecdh.P384() || kr.Scheme() != keyring.ECDHRawPrivateKeyToStaticPublicKey {
		t.Fatalf("%v %v", kr, err)
	}
}

func TestRawECDHPrintsNoKey(t *testing.T) {
	k, _ := ecdh.P521().GenerateKey(rand.Reader)
	kr, err := keyring.NewRawECDHStatic(k, k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	d := fmt.Sprintf("%x", k.Bytes())
	for _, s := range []string{fmt.Sprint(kr), fmt.Sprintf("%#v", kr), fmt.Sprintf("%+v", *kr), fmt.Sprintf("%x", kr)} {
		if strings.Contains(s, d) || !strings.Contains(s, "RawPrivateKeyToStaticPublicKey") && !strings.Contains(s, "keyring.RawECDH") {
			t.Fatalf("printed %q", s)
		}
	}
}

func TestParseECDHKeys(t *testing.T) {
	e, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(e)
	sec1, _ := x509.MarshalECPrivateKey(e)
	spki, _ := x509.MarshalPKIXPublicKey(&e.PublicKey)
	want, _ := e.ECDH()
	for _, b := range [][]byte{pemBlock("PRIVATE KEY", pkcs8), pemBlock("EC PRIVATE KEY", sec1)} {
		k, err := keyring.ParseECDHPrivateKeyPEM(b)
		if err != nil || !k.Equal(want) {
			t.Fatalf("%v", err)
		}
	}
	for _, b := range [][]byte{spki, pemBlock("PUBLIC KEY", spki)} {
		k, err := keyring.ParseECDHPublicKey(b)
		if err != nil || !k.Equal(want.PublicKey()) {
			t.Fatalf("%v", err)
		}
	}
	x, _ := ecdh.X25519().GenerateKey(rand.Reader)
	xder, _ := x509.MarshalPKCS8PrivateKey(x)
	xpub, _ := x509.MarshalPKIXPublicKey(x.PublicKey())
	_, priv := vectorRSA(t)
	rder, _ := x509.MarshalPKCS8PrivateKey(priv)
	rpub, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	for _, b := range [][]byte{nil, []byte("junk"), pemBlock("PRIVATE KEY", xder), pemBlock("PRIVATE KEY", rder), pemBlock("RSA PRIVATE KEY", sec1), pemBlock("PRIVATE KEY", []byte{1, 2})} {
		if _, err := keyring.ParseECDHPrivateKeyPEM(b); err == nil {
			t.Errorf("private key %q parsed", b)
		}
	}
	for _, b := range [][]byte{nil, []byte("junk"), xpub, rpub, pemBlock("EC PUBLIC KEY", spki), pemBlock("PUBLIC KEY", []byte{1})} {
		if _, err := keyring.ParseECDHPublicKey(b); err == nil {
			t.Errorf("public key %x parsed", b)
		}
	}
}

// A sender encrypts to a recipient's public key with a fresh key pair;
// the recipient's discovery keyring decrypts.
func Example_rawECDH() {
	recipient, err := ecdh.P384().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	// The sender needs only the recipient's public key (here from its
	// DER SubjectPublicKeyInfo, the form the MPL takes).
	der, _ := x509.MarshalPKIXPublicKey(recipient.PublicKey())
	pub, err := keyring.ParseECDHPublicKey(der)
	if err != nil {
		panic(err)
	}
	sender, err := keyring.NewRawECDHEphemeral(pub)
	if err != nil {
		panic(err)
	}
	reader, err := keyring.NewRawECDHDiscovery(recipient)
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	ec := map[string]string{"aws-crypto-table": "orders"}
	em, _ := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, ec, nil)
	if err := sender.OnEncrypt(ctx, em); err != nil {
		panic(err)
	}
	edk := em.EncryptedDataKeys()[0]
	dm, _ := keyring.NewDecryptionMaterials(keyring.SuiteHMAC, ec)
	if err := reader.OnDecrypt(ctx, dm, em.EncryptedDataKeys()); err != nil {
		panic(err)
	}
	fmt.Println(edk.ProviderID, len(edk.ProviderInfo), len(edk.Ciphertext))
	fmt.Println(bytes.Equal(dm.DataKey(), em.DataKey()))
	fmt.Println(sender)
	// Output:
	// raw-ecdh 107 160
	// true
	// keyring.RawECDH{scheme: EphemeralPrivateKeyToStaticPublicKey, curve: p384, encrypt: true, decrypt: false}
}
