package keystore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
)

// TestTamperedItems changes one thing of a stored item at a time; every
// change makes the read fail, authenticity failures as ErrAuthentication
// (KMS refuses the enc under the context the item's attributes now make),
// and no error names a key.
func TestTamperedItems(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ec := map[string]string{"department": "admin"}
	for _, id := range []string{"victim", "other"} {
		if _, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: id, EncryptionContext: ec}); err != nil {
			t.Fatal(err)
		}
	}
	good, err := e.store.GetActiveBranchKey(ctx, "victim")
	if err != nil {
		t.Fatal(err)
	}
	version := good.BranchKey.Version()
	versionType := "branch:version:" + version
	beacon, err := e.store.GetBeaconKey(ctx, "victim")
	if err != nil {
		t.Fatal(err)
	}
	otherItems := e.items(t, "other")
	otherVersionType := ""
	for typ := range otherItems {
		if strings.HasPrefix(typ, "branch:version:") {
			otherVersionType = typ
		}
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	enc := func(it map[string]types.AttributeValue) types.AttributeValue { return it["enc"] }

	type read func() error
	active := func() error { _, err := e.store.GetActiveBranchKey(ctx, "victim"); return err }
	versioned := func() error { _, err := e.store.GetBranchKeyVersion(ctx, "victim", version); return err }
	beaconRead := func() error { _, err := e.store.GetBeaconKey(ctx, "victim"); return err }
	versionKey := func() error { return e.store.VersionKey(ctx, "victim") }

	for _, tc := range []struct {
		name   string
		typ    string
		change func(it map[string]types.AttributeValue)
		read   read
		want   error
	}{
		{"active create-time", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["create-time"] = s("2020-01-01T00:00:00.000000Z") }, active, keystore.ErrAuthentication},
		{"active custom context", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["aws-crypto-ec:department"] = s("root") }, active, keystore.ErrAuthentication},
		{"active custom context removed", "branch:ACTIVE", func(it map[string]types.AttributeValue) { delete(it, "aws-crypto-ec:department") }, active, keystore.ErrAuthentication},
		{"active extra attribute", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["note"] = s("x") }, active, keystore.ErrAuthentication},
		{"active hierarchy-version", "branch:ACTIVE", func(it map[string]types.AttributeValue) {
			it["hierarchy-version"] = &types.AttributeValueMemberN{Value: "2"}
		}, active, keystore.ErrAuthentication},
		{"active version points elsewhere", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["version"] = s(otherVersionType) }, active, keystore.ErrAuthentication},
		{"active enc of the version item", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["enc"] = enc(e.rawItem(t, "victim", versionType)) }, active, keystore.ErrAuthentication},
		{"active enc of another branch key", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["enc"] = enc(otherItems["branch:ACTIVE"]) }, active, keystore.ErrAuthentication},
		{"active enc flipped", "branch:ACTIVE", func(it map[string]types.AttributeValue) {
			b := bytes.Clone(it["enc"].(*types.AttributeValueMemberB).Value)
			b[len(b)-1] ^= 1
			it["enc"] = &types.AttributeValueMemberB{Value: b}
		}, active, keystore.ErrAuthentication},
		{"version create-time", versionType, func(it map[string]types.AttributeValue) { it["create-time"] = s("x") }, versioned, keystore.ErrAuthentication},
		{"beacon custom context", "beacon:ACTIVE", func(it map[string]types.AttributeValue) { it["aws-crypto-ec:department"] = s("root") }, beaconRead, keystore.ErrAuthentication},
		{"beacon enc of the active item", "beacon:ACTIVE", func(it map[string]types.AttributeValue) { it["enc"] = enc(e.rawItem(t, "victim", "branch:ACTIVE")) }, beaconRead, keystore.ErrAuthentication},
		{"VersionKey over a tampered active item", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["create-time"] = s("x") }, versionKey, keystore.ErrAuthentication},
		{"kms-arn changed", "branch:ACTIVE", func(it map[string]types.AttributeValue) {
			it["kms-arn"] = s(strings.Replace(e.keyARN, "key/", "key/0", 1))
		}, active, keystore.ErrKMSKeyMismatch},
		{"kms-arn an alias", "branch:ACTIVE", func(it map[string]types.AttributeValue) {
			it["kms-arn"] = s("arn:aws:kms:us-west-2:111122223333:alias/x")
		}, active, keystore.ErrKMSKeyMismatch},
		{"tablename stored", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["tablename"] = s(logicalName) }, active, keystore.ErrInvalidItem},
		{"create-time a number", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["create-time"] = &types.AttributeValueMemberN{Value: "1"} }, active, keystore.ErrInvalidItem},
		{"hierarchy-version a string", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["hierarchy-version"] = s("1") }, active, keystore.ErrInvalidItem},
		{"enc a string", "branch:ACTIVE", func(it map[string]types.AttributeValue) { it["enc"] = s("x") }, active, keystore.ErrInvalidItem},
		{"enc missing", "branch:ACTIVE", func(it map[string]types.AttributeValue) { delete(it, "enc") }, active, keystore.ErrInvalidItem},
		{"active version missing", "branch:ACTIVE", func(it map[string]types.AttributeValue) { delete(it, "version") }, active, keystore.ErrInvalidItem},
		{"version on the beacon", "beacon:ACTIVE", func(it map[string]types.AttributeValue) { it["version"] = s(versionType) }, beaconRead, keystore.ErrInvalidItem},
		{"create-time missing", versionType, func(it map[string]types.AttributeValue) { delete(it, "create-time") }, versioned, keystore.ErrInvalidItem},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := e.rawItem(t, "victim", tc.typ)
			defer e.putRaw(t, orig)
			changed := maps.Clone(orig)
			tc.change(changed)
			e.putRaw(t, changed)
			err := tc.read()
			if !errors.Is(err, tc.want) {
				t.Fatalf("read after tampering: %v, want %v", err, tc.want)
			}
			var kerr *keystore.Error
			if !errors.As(err, &kerr) || kerr.BranchKeyID != "victim" {
				t.Errorf("error %v is not a *keystore.Error naming the branch key", err)
			}
			for _, secret := range [][]byte{beacon.Key()} {
				if msg := err.Error(); strings.Contains(msg, hex.EncodeToString(secret)) || strings.Contains(msg, base64.StdEncoding.EncodeToString(secret)) {
					t.Fatalf("error shows key material: %s", msg)
				}
			}
		})
	}
	// Restored: reads work again.
	if _, err := e.store.GetActiveBranchKey(ctx, "victim"); err != nil {
		t.Fatal(err)
	}
}

// TestLogicalNameBound: the logical key store name is in every key's KMS
// context, so a store configured with another name cannot use the items,
// and one with the same name over another table name can.
func TestLogicalNameBound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	other := e.newStore(t, func(o *keystore.Options) { o.LogicalName = "another-store"; o.KMS = keystore.KeyARN(e.keyARN) })
	if _, err := other.GetActiveBranchKey(ctx, id); !errors.Is(err, keystore.ErrAuthentication) {
		t.Fatalf("other logical name: %v, want ErrAuthentication", err)
	}
	if err := other.VersionKey(ctx, id); !errors.Is(err, keystore.ErrAuthentication) {
		t.Fatalf("VersionKey under another logical name: %v, want ErrAuthentication", err)
	}
	discovery := e.newStore(t, func(o *keystore.Options) { o.KMS = keystore.Discovery() })
	if _, err := discovery.GetActiveBranchKey(ctx, id); err != nil {
		t.Fatalf("discovery store: %v", err)
	}
	_, otherKey := e.kms.CreateKey()
	wrongKey := e.newStore(t, func(o *keystore.Options) { o.KMS = keystore.KeyARN(otherKey) })
	if _, err := wrongKey.GetActiveBranchKey(ctx, id); !errors.Is(err, keystore.ErrKMSKeyMismatch) {
		t.Fatalf("store of another KMS key: %v, want ErrKMSKeyMismatch", err)
	}
}
