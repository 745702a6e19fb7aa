package mongoenc

import (
	"crypto/rand"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// dbesdkTestConfig is testConfig in the DB-ESDK format, its DoNothing
// fields allowed unsigned.
func dbesdkTestConfig(t testing.TB) Config {
	k := make([]byte, 32)
	rand.Read(k)
	kr, err := keyring.NewRawAES("mongoenc-test", "key-1", k)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Provider = nil
	cfg.Format = itemcrypto.FormatDBESDK
	cfg.DBESDK = &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"visits", "notes", "profile.lastSeen"}}
	return cfg
}

// TestDBESDKFerretDB writes and reads DB-ESDK documents through FerretDB:
// the stored document has aws_dbe_head and aws_dbe_foot and ciphertext in
// place of the encrypted fields; a tampered document is caught.
func TestDBESDKFerretDB(t *testing.T) {
	c, plain := serverColl(t, dbesdkTestConfig(t))
	ctx := ctxT(t)
	want := cust("d1", 4)
	if _, err := c.InsertOne(ctx, want); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	var got customer
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "d1"}}).Decode(&got); err != nil {
		t.Fatalf("FindOne: %v", err)
	}
	if got != want {
		t.Fatalf("FindOne = %+v, want %+v", got, want)
	}
	var raw bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: "d1"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"aws_dbe_head", "aws_dbe_foot", "card"} {
		if v := raw.Lookup(name); v.Type != bson.TypeBinary {
			t.Errorf("stored %s is %v, want binary", name, v.Type)
		}
	}
	if v := raw.Lookup(itemcrypto.SignatureAttribute); v.Type != 0 {
		t.Errorf("DDBEC signature on a DB-ESDK document")
	}
	// The unsigned field may change; the signed one may not.
	if _, err := plain.UpdateOne(ctx, bson.D{{Key: "_id", Value: "d1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "visits", Value: int32(9)}}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "d1"}}).Decode(&got); err != nil || got.Visits != 9 {
		t.Fatalf("after unsigned change: %+v %v", got, err)
	}
	if _, err := plain.UpdateOne(ctx, bson.D{{Key: "_id", Value: "d1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "x@example.com"}}}}); err != nil {
		t.Fatal(err)
	}
	err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "d1"}}).Decode(&got)
	wantAuthFailure(t, "tampered email", err, "d1")
	// A plaintext document carrying the reserved names is refused on write.
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "d2"}, {Key: "aws_dbe_head", Value: "x"}}); err == nil {
		t.Fatal("InsertOne with aws_dbe_head accepted")
	}
}
