package dbesdk

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
	"testing"

	mpl "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygenerated"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	refenc "github.com/aws/aws-database-encryption-sdk-dynamodb/releases/go/dynamodb-esdk/awscryptographydbencryptionsdkdynamodbitemencryptorsmithygenerated"
	refenctypes "github.com/aws/aws-database-encryption-sdk-dynamodb/releases/go/dynamodb-esdk/awscryptographydbencryptionsdkdynamodbitemencryptorsmithygeneratedtypes"
	refstypes "github.com/aws/aws-database-encryption-sdk-dynamodb/releases/go/dynamodb-esdk/awscryptographydbencryptionsdkstructuredencryptionsmithygeneratedtypes"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// A Side encrypts and decrypts items under one configuration.
type Side interface {
	Name() string
	Encrypt(ctx context.Context, it Item) (Item, error)
	Decrypt(ctx context.Context, it Item) (Item, error)
}

// KeyringPair is one keyring built on both sides from the same key material.
type KeyringPair struct {
	Name string
	Ours keyring.Keyring
	Ref  mpltypes.IKeyring
}

var (
	mplOnce   sync.Once
	mplClient *mpl.Client
	mplErr    error
)

func refMPL(t testing.TB) *mpl.Client {
	mplOnce.Do(func() { mplClient, mplErr = mpl.NewClient(mpltypes.MaterialProvidersConfig{}) })
	if mplErr != nil {
		t.Fatalf("reference MPL client: %v", mplErr)
	}
	return mplClient
}

var (
	rawOnce  sync.Once
	rawPairs []KeyringPair
	rawErr   error
)

// rawKeyrings are the keyrings that need no service: raw AES 128/192/256,
// raw RSA with each padding, and a multi-keyring of them.
func rawKeyrings(t testing.TB) []KeyringPair {
	rawOnce.Do(func() { rawPairs, rawErr = buildRawKeyrings(refMPL(t)) })
	if rawErr != nil {
		t.Fatal(rawErr)
	}
	return rawPairs
}

func buildRawKeyrings(m *mpl.Client) ([]KeyringPair, error) {
	ctx := context.Background()
	var out []KeyringPair
	byName := map[string]KeyringPair{}
	add := func(p KeyringPair) { out = append(out, p); byName[p.Name] = p }
	for _, spec := range []struct {
		bits int
		alg  mpltypes.AesWrappingAlg
	}{{128, mpltypes.AesWrappingAlgAlgAes128GcmIv12Tag16}, {192, mpltypes.AesWrappingAlgAlgAes192GcmIv12Tag16}, {256, mpltypes.AesWrappingAlgAlgAes256GcmIv12Tag16}} {
		key := bytes.Repeat([]byte{byte(spec.bits / 8)}, spec.bits/8)
		key[0] ^= 0x5a
		ns, name := "ns-aes", fmt.Sprintf("aes-%d-\u00e9\U0001F511", spec.bits)
		ours, err := keyring.NewRawAES(ns, name, key)
		if err != nil {
			return nil, err
		}
		ref, err := m.CreateRawAesKeyring(ctx, mpltypes.CreateRawAesKeyringInput{KeyNamespace: ns, KeyName: name, WrappingAlg: spec.alg, WrappingKey: key})
		if err != nil {
			return nil, fmt.Errorf("reference raw AES %d: %w", spec.bits, err)
		}
		add(KeyringPair{Name: fmt.Sprintf("aes%d", spec.bits), Ours: ours, Ref: ref})
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})
	for _, spec := range []struct {
		name string
		ours keyring.RSAPadding
		ref  mpltypes.PaddingScheme
	}{
		{"rsa-pkcs1", keyring.RSAPKCS1, mpltypes.PaddingSchemePkcs1},
		{"rsa-oaep-sha1", keyring.RSAOAEPSHA1, mpltypes.PaddingSchemeOaepSha1Mgf1},
		{"rsa-oaep-sha256", keyring.RSAOAEPSHA256, mpltypes.PaddingSchemeOaepSha256Mgf1},
		{"rsa-oaep-sha384", keyring.RSAOAEPSHA384, mpltypes.PaddingSchemeOaepSha384Mgf1},
		{"rsa-oaep-sha512", keyring.RSAOAEPSHA512, mpltypes.PaddingSchemeOaepSha512Mgf1},
	} {
		ns, name := "ns-rsa", "key-"+spec.name
		ours, err := keyring.NewRawRSA(ns, name, spec.ours, &priv.PublicKey, priv)
		if err != nil {
			return nil, err
		}
		ref, err := m.CreateRawRsaKeyring(ctx, mpltypes.CreateRawRsaKeyringInput{KeyNamespace: ns, KeyName: name, PaddingScheme: spec.ref, PublicKey: pubPEM, PrivateKey: privPEM})
		if err != nil {
			return nil, fmt.Errorf("reference raw RSA %s: %w", spec.name, err)
		}
		add(KeyringPair{Name: spec.name, Ours: ours, Ref: ref})
	}
	// multi: an AES generator and two children of other kinds.
	gen, c1, c2 := byName["aes256"], byName["rsa-oaep-sha256"], byName["aes128"]
	ours, err := keyring.NewMulti(gen.Ours, c1.Ours, c2.Ours)
	if err != nil {
		return nil, err
	}
	ref, err := m.CreateMultiKeyring(ctx, mpltypes.CreateMultiKeyringInput{Generator: gen.Ref, ChildKeyrings: []mpltypes.IKeyring{c1.Ref, c2.Ref}})
	if err != nil {
		return nil, fmt.Errorf("reference multi: %w", err)
	}
	add(KeyringPair{Name: "multi", Ours: ours, Ref: ref})
	return out, nil
}

// ours is go-itemcrypto.
type ours struct{ e *itemcrypto.Encryptor }

func (o ours) Name() string { return "ours" }
func (o ours) Encrypt(ctx context.Context, it Item) (Item, error) {
	return o.e.Encrypt(ctx, it)
}
func (o ours) Decrypt(ctx context.Context, it Item) (Item, error) {
	return o.e.Decrypt(ctx, it)
}

func newOurs(c *Config, kr keyring.Keyring) (Side, error) {
	policy, err := actions.New(actions.Options{
		Default:      actions.EncryptAndSign,
		Overrides:    c.Actions,
		PartitionKey: c.PK,
		SortKey:      c.SK,
	})
	if err != nil {
		return nil, err
	}
	e, err := itemcrypto.New(itemcrypto.Config{
		TableName: c.Table,
		Policy:    policy,
		Format:    itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{
			Keyring:               kr,
			Suite:                 c.Suite,
			AllowedUnsigned:       c.Unsigned,
			AllowedUnsignedPrefix: c.Prefix,
		},
	})
	if err != nil {
		return nil, err
	}
	return ours{e}, nil
}

// newSides builds both sides of c over a keyring each, failing the test if
// either refuses the configuration.
func newSides(t testing.TB, c *Config, o keyring.Keyring, r mpltypes.IKeyring) (ours, ref Side) {
	t.Helper()
	ours, err := newOurs(c, o)
	if err != nil {
		t.Fatal(err)
	}
	ref, err = newRef(c, r)
	if err != nil {
		t.Fatal(err)
	}
	return ours, ref
}

// ref is the DB-ESDK's item encryptor.
type ref struct{ c *refenc.Client }

func (r ref) Name() string { return "reference" }
func (r ref) Encrypt(ctx context.Context, it Item) (Item, error) {
	out, err := r.c.EncryptItem(ctx, refenctypes.EncryptItemInput{PlaintextItem: it})
	if err != nil {
		return nil, err
	}
	return out.EncryptedItem, nil
}
func (r ref) Decrypt(ctx context.Context, it Item) (Item, error) {
	out, err := r.c.DecryptItem(ctx, refenctypes.DecryptItemInput{EncryptedItem: it})
	if err != nil {
		return nil, err
	}
	return out.PlaintextItem, nil
}

var refActions = map[actions.Action]refstypes.CryptoAction{
	actions.EncryptAndSign:                    refstypes.CryptoActionEncryptAndSign,
	actions.SignOnly:                          refstypes.CryptoActionSignOnly,
	actions.SignAndIncludeInEncryptionContext: refstypes.CryptoActionSignAndIncludeInEncryptionContext,
	actions.DoNothing:                         refstypes.CryptoActionDoNothing,
}

func newRef(c *Config, kr mpltypes.IKeyring) (Side, error) {
	acts := make(map[string]refstypes.CryptoAction, len(c.Actions))
	for n, a := range c.Actions {
		acts[n] = refActions[a]
	}
	suite := mpltypes.DBEAlgorithmSuiteIdAlgAes256GcmHkdfSha512CommitKeySymsigHmacSha384
	if c.Suite == keyring.SuiteECDSAP384 {
		suite = mpltypes.DBEAlgorithmSuiteIdAlgAes256GcmHkdfSha512CommitKeyEcdsaP384SymsigHmacSha384
	}
	cfg := refenctypes.DynamoDbItemEncryptorConfig{
		LogicalTableName:          c.Table,
		PartitionKeyName:          c.PK,
		AttributeActionsOnEncrypt: acts,
		Keyring:                   kr,
		AlgorithmSuiteId:          &suite,
		AllowedUnsignedAttributes: c.Unsigned,
	}
	if c.SK != "" {
		sk := c.SK
		cfg.SortKeyName = &sk
	}
	if c.Prefix != "" {
		p := c.Prefix
		cfg.AllowedUnsignedAttributePrefix = &p
	}
	cl, err := refenc.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return ref{cl}, nil
}
