package dbesdk

import (
	"context"
	"encoding/pem"
	"fmt"
	"sync"
	"testing"

	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	primtypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/primitives/awscryptographyprimitivessmithygeneratedtypes"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

var (
	kmsAsymOnce  sync.Once
	kmsAsymPairs []KeyringPair
	kmsAsymErr   error
)

// kmsAsymKeyrings are the KMS RSA keyring (both algorithms, one RSA_2048
// key) and the KMS ECDH keyring on each curve (a sender's static keyring
// encrypts; "static" decrypts with it too, "discovery" with the
// recipient's discovery keyring), on both sides, over the process's fake
// KMS: the reference's own KMS client talks to it.
func kmsAsymKeyrings(t testing.TB) []KeyringPair {
	kmsAsymOnce.Do(func() { kmsAsymPairs, kmsAsymErr = buildKMSAsym(t) })
	if kmsAsymErr != nil {
		t.Fatal(kmsAsymErr)
	}
	return kmsAsymPairs
}

func buildKMSAsym(t testing.TB) ([]KeyringPair, error) {
	ctx := context.Background()
	srv, _ := fakeKMS()
	m := refMPL(t)
	ours := awskms.New(srv.Client())
	var out []KeyringPair

	_, rsaARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecRSA2048))
	der, _, err := ours.GetPublicKey(ctx, rsaARN)
	if err != nil {
		return nil, err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pub, err := kmskeyring.ParseRSAPublicKey(pubPEM)
	if err != nil {
		return nil, err
	}
	for _, alg := range []string{kmskeyring.RSAESOAEPSHA1, kmskeyring.RSAESOAEPSHA256} {
		o, err := kmskeyring.NewRSA(ours, rsaARN, alg, func(o *kmskeyring.RSAOptions) { o.PublicKey = pub })
		if err != nil {
			return nil, err
		}
		r, err := m.CreateAwsKmsRsaKeyring(ctx, mpltypes.CreateAwsKmsRsaKeyringInput{
			EncryptionAlgorithm: kmstypes.EncryptionAlgorithmSpec(alg), KmsKeyId: rsaARN, KmsClient: srv.Client(), PublicKey: pubPEM})
		if err != nil {
			return nil, fmt.Errorf("reference KMS RSA keyring: %w", err)
		}
		out = append(out, KeyringPair{Name: "kms-rsa-" + alg, Ours: o, Ref: r})
	}

	for _, c := range []struct {
		name, spec string
		ref        primtypes.ECDHCurveSpec
	}{
		{"p256", kmstest.KeySpecP256, primtypes.ECDHCurveSpecEccNistP256},
		{"p384", kmstest.KeySpecP384, primtypes.ECDHCurveSpecEccNistP384},
		{"p521", kmstest.KeySpecP521, primtypes.ECDHCurveSpecEccNistP521},
	} {
		_, senderARN := srv.CreateKey(kmstest.WithKeySpec(c.spec))
		_, recipientARN := srv.CreateKey(kmstest.WithKeySpec(c.spec))
		recipientPub, _, err := ours.GetPublicKey(ctx, recipientARN)
		if err != nil {
			return nil, err
		}
		recipient, err := keyring.ParseECDHPublicKey(recipientPub)
		if err != nil {
			return nil, err
		}
		static, err := kmskeyring.NewECDHStatic(ctx, ours, senderARN, recipient)
		if err != nil {
			return nil, err
		}
		discovery, err := kmskeyring.NewECDHDiscovery(ctx, ours, recipientARN)
		if err != nil {
			return nil, err
		}
		refStatic, err := m.CreateAwsKmsEcdhKeyring(ctx, mpltypes.CreateAwsKmsEcdhKeyringInput{
			CurveSpec: c.ref, KmsClient: srv.Client(),
			KeyAgreementScheme: &mpltypes.KmsEcdhStaticConfigurationsMemberKmsPrivateKeyToStaticPublicKey{
				Value: mpltypes.KmsPrivateKeyToStaticPublicKeyInput{SenderKmsIdentifier: senderARN, RecipientPublicKey: recipientPub}}})
		if err != nil {
			return nil, fmt.Errorf("reference KMS ECDH static %s: %w", c.name, err)
		}
		refDiscovery, err := m.CreateAwsKmsEcdhKeyring(ctx, mpltypes.CreateAwsKmsEcdhKeyringInput{
			CurveSpec: c.ref, KmsClient: srv.Client(),
			KeyAgreementScheme: &mpltypes.KmsEcdhStaticConfigurationsMemberKmsPublicKeyDiscovery{
				Value: mpltypes.KmsPublicKeyDiscoveryInput{RecipientKmsIdentifier: recipientARN}}})
		if err != nil {
			return nil, fmt.Errorf("reference KMS ECDH discovery %s: %w", c.name, err)
		}
		out = append(out,
			KeyringPair{Name: "kms-ecdh-" + c.name + "-static", Ours: static, Ref: refStatic},
			KeyringPair{Name: "kms-ecdh-" + c.name + "-discovery", Ours: splitOurs{static, discovery}, Ref: splitRef{refStatic, refDiscovery}},
		)
	}
	return out, nil
}
