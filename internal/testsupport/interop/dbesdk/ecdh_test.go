package dbesdk

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	mpl "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygenerated"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	primtypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/primitives/awscryptographyprimitivessmithygeneratedtypes"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// splitOurs encrypts with one keyring and decrypts with another: an ECDH
// sender and its recipient as one side of the differential test.
type splitOurs struct{ enc, dec keyring.Keyring }

func (s splitOurs) OnEncrypt(ctx context.Context, m *keyring.EncryptionMaterials) error {
	return s.enc.OnEncrypt(ctx, m)
}
func (s splitOurs) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	return s.dec.OnDecrypt(ctx, m, edks)
}

// splitRef is splitOurs for the reference (a native keyring of the MPL).
type splitRef struct{ enc, dec mpltypes.IKeyring }

func (s splitRef) OnEncrypt(in mpltypes.OnEncryptInput) (*mpltypes.OnEncryptOutput, error) {
	return s.enc.OnEncrypt(in)
}
func (s splitRef) OnDecrypt(in mpltypes.OnDecryptInput) (*mpltypes.OnDecryptOutput, error) {
	return s.dec.OnDecrypt(in)
}

var (
	ecdhOnce  sync.Once
	ecdhPairs []KeyringPair
	ecdhErr   error
)

// ecdhKeyrings are raw ECDH keyrings on P-256, P-384 and P-521, each curve
// with four pairs: "static" (the sender's static keyring encrypts and
// decrypts), "static-recipient" (the sender's static keyring encrypts, the
// recipient's static keyring, its keys the other way round, decrypts),
// "static-discovery" and "ephemeral-discovery" (the recipient's discovery
// keyring decrypts). Each side's keyrings are built from the same keys.
func ecdhKeyrings(t testing.TB) []KeyringPair {
	ecdhOnce.Do(func() { ecdhPairs, ecdhErr = buildECDHKeyrings(refMPL(t)) })
	if ecdhErr != nil {
		t.Fatal(ecdhErr)
	}
	return ecdhPairs
}

type ecdhParty struct {
	priv    *ecdh.PrivateKey
	privPEM []byte
	pubDER  []byte
}

func newECDHParty(c ecdh.Curve) (ecdhParty, error) {
	priv, err := c.GenerateKey(rand.Reader)
	if err != nil {
		return ecdhParty{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return ecdhParty{}, err
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
	if err != nil {
		return ecdhParty{}, err
	}
	return ecdhParty{priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), pub}, nil
}

func buildECDHKeyrings(m *mpl.Client) ([]KeyringPair, error) {
	ctx := context.Background()
	var out []KeyringPair
	for _, spec := range []struct {
		name  string
		curve ecdh.Curve
		ref   primtypes.ECDHCurveSpec
	}{
		{"p256", ecdh.P256(), primtypes.ECDHCurveSpecEccNistP256},
		{"p384", ecdh.P384(), primtypes.ECDHCurveSpecEccNistP384},
		{"p521", ecdh.P521(), primtypes.ECDHCurveSpecEccNistP521},
	} {
		sender, err := newECDHParty(spec.curve)
		if err != nil {
			return nil, err
		}
		recipient, err := newECDHParty(spec.curve)
		if err != nil {
			return nil, err
		}
		ref := func(what string, scheme mpltypes.RawEcdhStaticConfigurations) (mpltypes.IKeyring, error) {
			k, err := m.CreateRawEcdhKeyring(ctx, mpltypes.CreateRawEcdhKeyringInput{CurveSpec: spec.ref, KeyAgreementScheme: scheme})
			if err != nil {
				return nil, fmt.Errorf("reference raw ECDH %s %s: %w", spec.name, what, err)
			}
			return k, nil
		}
		// The four keyrings of the curve, ours and the reference's.
		senderStatic, err := keyring.NewRawECDHStatic(sender.priv, recipient.priv.PublicKey())
		if err != nil {
			return nil, err
		}
		recipientStatic, err := keyring.NewRawECDHStatic(recipient.priv, sender.priv.PublicKey())
		if err != nil {
			return nil, err
		}
		ephemeral, err := keyring.NewRawECDHEphemeral(recipient.priv.PublicKey())
		if err != nil {
			return nil, err
		}
		discovery, err := keyring.NewRawECDHDiscovery(recipient.priv)
		if err != nil {
			return nil, err
		}
		refSenderStatic, err := ref("static", &mpltypes.RawEcdhStaticConfigurationsMemberRawPrivateKeyToStaticPublicKey{
			Value: mpltypes.RawPrivateKeyToStaticPublicKeyInput{SenderStaticPrivateKey: sender.privPEM, RecipientPublicKey: recipient.pubDER}})
		if err != nil {
			return nil, err
		}
		refRecipientStatic, err := ref("static (recipient)", &mpltypes.RawEcdhStaticConfigurationsMemberRawPrivateKeyToStaticPublicKey{
			Value: mpltypes.RawPrivateKeyToStaticPublicKeyInput{SenderStaticPrivateKey: recipient.privPEM, RecipientPublicKey: sender.pubDER}})
		if err != nil {
			return nil, err
		}
		refEphemeral, err := ref("ephemeral", &mpltypes.RawEcdhStaticConfigurationsMemberEphemeralPrivateKeyToStaticPublicKey{
			Value: mpltypes.EphemeralPrivateKeyToStaticPublicKeyInput{RecipientPublicKey: recipient.pubDER}})
		if err != nil {
			return nil, err
		}
		refDiscovery, err := ref("discovery", &mpltypes.RawEcdhStaticConfigurationsMemberPublicKeyDiscovery{
			Value: mpltypes.PublicKeyDiscoveryInput{RecipientStaticPrivateKey: recipient.privPEM}})
		if err != nil {
			return nil, err
		}
		out = append(out,
			KeyringPair{Name: "ecdh-" + spec.name + "-static", Ours: senderStatic, Ref: refSenderStatic},
			KeyringPair{Name: "ecdh-" + spec.name + "-static-recipient",
				Ours: splitOurs{senderStatic, recipientStatic}, Ref: splitRef{refSenderStatic, refRecipientStatic}},
			KeyringPair{Name: "ecdh-" + spec.name + "-static-discovery",
				Ours: splitOurs{senderStatic, discovery}, Ref: splitRef{refSenderStatic, refDiscovery}},
			KeyringPair{Name: "ecdh-" + spec.name + "-ephemeral-discovery",
				Ours: splitOurs{ephemeral, discovery}, Ref: splitRef{refEphemeral, refDiscovery}},
		)
	}
	return out, nil
}

// TestECDHOneWayKeyrings: the reference and ours refuse alike to encrypt
// with a discovery keyring and to decrypt with an ephemeral one, and a
// discovery keyring of another recipient finds no key of its own.
func TestECDHOneWayKeyrings(t *testing.T) {
	ctx := context.Background()
	var kp KeyringPair
	for _, p := range ecdhKeyrings(t) {
		if p.Name == "ecdh-p384-ephemeral-discovery" {
			kp = p
		}
	}
	c := &Config{Table: "table", PK: "pk", Suite: suites[1], Keyring: kp.Name,
		Actions: map[string]actions.Action{"pk": actions.SignOnly, "a": actions.EncryptAndSign}}
	it := Item{"pk": &types.AttributeValueMemberS{Value: "p"}, "a": &types.AttributeValueMemberS{Value: "secret"}}
	so, sr := kp.Ours.(splitOurs), kp.Ref.(splitRef)
	// Encrypt with the discovery keyring: both refuse.
	o, r := newSides(t, c, so.dec, sr.dec)
	if _, err := enc(ctx, o, it); err == nil {
		t.Error("ours encrypts with a discovery keyring")
	}
	if _, err := enc(ctx, r, it); err == nil {
		t.Error("the reference encrypts with a discovery keyring")
	}
	// Decrypt with the ephemeral keyring: both refuse an item of the pair.
	op, err := newOurs(c, kp.Ours)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := enc(ctx, op, it)
	if err != nil {
		t.Fatal(err)
	}
	o, _ = newOurs(c, so.enc)
	r, _ = newRef(c, sr.enc)
	if _, err := dec(ctx, o, stored); err == nil {
		t.Error("ours decrypts with an ephemeral keyring")
	}
	if _, err := dec(ctx, r, stored); err == nil {
		t.Error("the reference decrypts with an ephemeral keyring")
	}
	// Another curve's discovery keyring: no key of its own, on both sides.
	var other KeyringPair
	for _, p := range ecdhKeyrings(t) {
		if p.Name == "ecdh-p256-ephemeral-discovery" {
			other = p
		}
	}
	o, _ = newOurs(c, other.Ours.(splitOurs).dec)
	r, _ = newRef(c, other.Ref.(splitRef).dec)
	if _, err := dec(ctx, o, stored); err == nil {
		t.Error("ours decrypts another recipient's item")
	}
	if _, err := dec(ctx, r, stored); err == nil {
		t.Error("the reference decrypts another recipient's item")
	}
}

// TestECDHReferencePanicsOnInvalidSenderKey: a raw ECDH header whose sender
// key is no point of the curve. Ours refuses the item; the reference's
// discovery keyring panics (errRefDecompressPanic), which the differential
// test's header flips meet now and then.
func TestECDHReferencePanicsOnInvalidSenderKey(t *testing.T) {
	knownDivergence(t, "the reference panics on a raw ECDH EDK whose sender key is not on the curve; ours refuses the item")
	ctx := context.Background()
	var kp KeyringPair
	for _, p := range ecdhKeyrings(t) {
		if p.Name == "ecdh-p256-ephemeral-discovery" {
			kp = p
		}
	}
	c := &Config{Table: "table", PK: "pk", Suite: suites[0], Keyring: kp.Name,
		Actions: map[string]actions.Action{"pk": actions.SignOnly, "a": actions.EncryptAndSign}}
	it := Item{"pk": &types.AttributeValueMemberS{Value: "p"}, "a": &types.AttributeValueMemberS{Value: "secret"}}
	o, r := newSides(t, c, kp.Ours.(splitOurs).dec, kp.Ref.(splitRef).dec)
	w, err := newOurs(c, kp.Ours)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := enc(ctx, w, it)
	if err != nil {
		t.Fatal(err)
	}
	head := stored[headAttr].(*types.AttributeValueMemberB).Value
	at := bytes.Index(head, []byte("raw-ecdh"))
	if at < 0 {
		t.Fatal("no raw-ecdh EDK in the header")
	}
	sender := head[at+len("raw-ecdh")+2+9+33 : at+len("raw-ecdh")+2+9+66]
	for x := 0; ; x++ {
		sender[len(sender)-1] = byte(x)
		if px, _ := elliptic.UnmarshalCompressed(elliptic.P256(), sender); px == nil {
			break
		}
	}
	_, errO := dec(ctx, o, stored)
	_, errR := dec(ctx, r, stored)
	t.Logf("ours: %v", errO)
	t.Logf("reference: %v", errR)
	if errO == nil || strings.Contains(errO.Error(), "PANIC") {
		t.Errorf("ours: %v, want a refusal", errO)
	}
	if !errors.Is(errR, errRefDecompressPanic) {
		t.Errorf("the reference no longer panics (%v): drop errRefDecompressPanic from the differential test", errR)
	}
}
