package bench

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// dbesdkKeyring returns the raw AES keyring and suite of a dbesdk-*
// configuration name.
func dbesdkKeyring(tb testing.TB, name string) (keyring.Keyring, keyring.Suite, bool) {
	var suite keyring.Suite
	switch name {
	case "dbesdk-aes":
		suite = keyring.SuiteHMAC
	case "dbesdk-aes-ecdsa":
		suite = keyring.SuiteECDSAP384
	default:
		return nil, 0, false
	}
	kr, err := keyring.NewRawAES("bench", "bench-key", randBytes(tb, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return kr, suite, true
}

// dbeFloor is the DB-ESDK cryptography of one workload item by hand with
// the standard library, the cost the library should stay close to: a fresh
// data key and intermediate key; HKDF-SHA512 of the intermediate key's MAC
// key and key-encryption key; AES-256-GCM of the data key under that, and of
// the intermediate key under the keyring's wrapping key; HKDF-SHA512 of the
// commit key and field root key; the HMAC-SHA512 header commitment; the
// AES-CTR field key; AES-256-GCM of the field; SHA-384 of the canonical
// record (header, context, fields); HMAC-SHA384 of the recipient tag; for
// the signing suite a fresh P-384 key pair (the format requires one per
// item) and one signature, or on decrypt the public key's decompression and
// one verification.
type dbeFloor struct {
	payload []byte // the serialized field value
	signed  []byte // the other signed fields' canonical bytes
	header  []byte // a header-sized stand-in (~200 bytes, as ours)
	ec      []byte // a serialized context-sized stand-in
	wrap    cipher.AEAD
	signing bool
}

func newDBEFloor(tb testing.TB, n int, signing bool) *dbeFloor {
	block, err := aes.NewCipher(randBytes(tb, 32))
	if err != nil {
		tb.Fatal(err)
	}
	wrap, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	hdr := 190
	if signing {
		hdr += 95 // the public key entry
	}
	return &dbeFloor{
		payload: randBytes(tb, n+18), signed: make([]byte, 180), header: randBytes(tb, hdr),
		ec: randBytes(tb, 120), wrap: wrap, signing: signing,
	}
}

func gcmOf(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return a
}

type dbeCiphertext struct {
	edk, ct, tag, sig []byte
	pub               *ecdsa.PublicKey
	iv                [12]byte
}

// keys derives what both directions derive from the data key and the
// intermediate key.
func (f *dbeFloor) keys(dataKey, ikm []byte) (mac, kek, commit, root []byte) {
	prk, _ := hkdf.Extract(sha512.New, ikm, nil)
	mac, _ = hkdf.Expand(sha512.New, prk, "AWS_MPL_INTERMEDIATE_KEYWRAP_MAC", 32)
	kek, _ = hkdf.Expand(sha512.New, prk, "AWS_MPL_INTERMEDIATE_KEYWRAP_ENC", 32)
	commit, _ = hkdf.Key(sha512.New, dataKey, nil, "AWS_DBE_COMMIT_KEY"+string(f.header[2:34]), 32)
	root, _ = hkdf.Key(sha512.New, dataKey, nil, "AWS_DBE_DERIVE_KEY"+string(f.header[2:34]), 32)
	return
}

func fieldKey(root []byte) (key, nonce []byte) {
	b, _ := aes.NewCipher(root)
	var iv [16]byte
	copy(iv[:], "AwsDbeField")
	iv[11] = 44
	out := make([]byte, 48)
	cipher.NewCTR(b, iv[:]).XORKeyStream(out, out)
	return out[:32], out[32:44]
}

func (f *dbeFloor) hash(ct []byte) [48]byte {
	h := sha512.New384()
	h.Write(f.header)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(f.ec)))
	h.Write(n[:])
	h.Write(f.ec)
	h.Write(f.signed)
	h.Write(ct)
	var sum [48]byte
	h.Sum(sum[:0])
	return sum
}

func (f *dbeFloor) encrypt() *dbeCiphertext {
	dataKey, ikm := make([]byte, 32), make([]byte, 32)
	rand.Read(dataKey)
	rand.Read(ikm)
	var c dbeCiphertext
	mac, kek, commit, root := f.keys(dataKey, ikm)
	var zero [12]byte
	c.edk = gcmOf(kek).Seal(nil, zero[:], dataKey, f.ec)
	rand.Read(c.iv[:])
	c.edk = f.wrap.Seal(c.edk, c.iv[:], ikm, f.ec)
	cm := hmac.New(sha512.New, commit)
	cm.Write(f.header)
	cm.Sum(nil)
	key, nonce := fieldKey(root)
	c.ct = gcmOf(key).Seal(nil, nonce, f.payload, f.header[:40])
	sum := f.hash(c.ct)
	t := hmac.New(sha512.New384, mac)
	t.Write(sum[:])
	c.tag = t.Sum(nil)
	if f.signing {
		priv, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		c.pub = &priv.PublicKey
		d := sha512.Sum384(sum[:])
		c.sig, _ = ecdsa.SignASN1(rand.Reader, priv, d[:])
	}
	return &c
}

var errDBEFloor = errors.New("dbe floor: authentication failed")

func (f *dbeFloor) decrypt(c *dbeCiphertext) ([]byte, error) {
	ikm, err := f.wrap.Open(nil, c.iv[:], c.edk[48:], f.ec)
	if err != nil {
		return nil, errDBEFloor
	}
	prk, _ := hkdf.Extract(sha512.New, ikm, nil)
	mac, _ := hkdf.Expand(sha512.New, prk, "AWS_MPL_INTERMEDIATE_KEYWRAP_MAC", 32)
	kek, _ := hkdf.Expand(sha512.New, prk, "AWS_MPL_INTERMEDIATE_KEYWRAP_ENC", 32)
	var zero [12]byte
	dataKey, err := gcmOf(kek).Open(nil, zero[:], c.edk[:48], f.ec)
	if err != nil {
		return nil, errDBEFloor
	}
	_, _, commit, root := f.keys(dataKey, ikm)
	cm := hmac.New(sha512.New, commit)
	cm.Write(f.header)
	cm.Sum(nil)
	sum := f.hash(c.ct)
	t := hmac.New(sha512.New384, mac)
	t.Write(sum[:])
	if !hmac.Equal(t.Sum(nil), c.tag) {
		return nil, errDBEFloor
	}
	if f.signing {
		//lint:ignore SA1019 the DB-ESDK stores compressed points, which crypto/ecdsa cannot write or read without the coordinates
		comp := elliptic.MarshalCompressed(elliptic.P384(), c.pub.X, c.pub.Y)
		x, y := elliptic.UnmarshalCompressed(elliptic.P384(), comp)
		d := sha512.Sum384(sum[:])
		//lint:ignore SA1019 the key is rebuilt from its compressed point, as a reader of the item does
		if !ecdsa.VerifyASN1(&ecdsa.PublicKey{Curve: elliptic.P384(), X: x, Y: y}, d[:], c.sig) {
			return nil, errDBEFloor
		}
	}
	key, nonce := fieldKey(root)
	return gcmOf(key).Open(nil, nonce, c.ct, f.header[:40])
}

func TestDBEFloorRoundTrip(t *testing.T) {
	for _, signing := range []bool{false, true} {
		f := newDBEFloor(t, 1<<10, signing)
		c := f.encrypt()
		if pt, err := f.decrypt(c); err != nil || string(pt) != string(f.payload) {
			t.Fatalf("signing=%v: floor round trip: %v", signing, err)
		}
		c.tag[0] ^= 1
		if _, err := f.decrypt(c); err == nil {
			t.Fatalf("signing=%v: floor accepted a bad tag", signing)
		}
	}
}

func BenchmarkFloorDBESDK(b *testing.B) {
	for _, variant := range []struct {
		name    string
		signing bool
	}{{"dbesdk-aes", false}, {"dbesdk-aes-ecdsa", true}} {
		for _, dir := range []string{"encrypt", "decrypt"} {
			for _, kb := range sizes {
				b.Run(variant.name+"/"+dir+"/"+sizeName(kb), func(b *testing.B) {
					f := newDBEFloor(b, kb<<10, variant.signing)
					c := f.encrypt()
					b.SetBytes(int64(kb << 10))
					b.ReportAllocs()
					defer measureCPU(b)()
					for b.Loop() {
						if dir == "encrypt" {
							f.encrypt()
						} else if _, err := f.decrypt(c); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
