package mongoenc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// testConfig: card and profile.ssn encrypted, email signed, visits and
// profile.lastSeen do-nothing, everything else signed.
func testConfig() Config {
	return Config{
		Provider: cmptest.NewFakeProvider("mongoenc-test"),
		Default:  actions.SignOnly,
		Overrides: map[string]actions.Action{
			"card":             actions.EncryptAndSign,
			"secret":           actions.EncryptAndSign,
			"visits":           actions.DoNothing,
			"notes":            actions.DoNothing,
			"profile.ssn":      actions.EncryptAndSign,
			"profile.lastSeen": actions.DoNothing,
		},
	}
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// serverColl returns a protected collection on the test server and the
// driver's collection underneath (for tampering).
func serverColl(t testing.TB, cfg Config) (*Collection, *mongo.Collection) {
	t.Helper()
	client := mongotest.Client(t)
	plain := mongotest.Collection(t, client)
	c, err := NewCollection(plain, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, plain
}

// offlineColl returns a protected collection whose client points at a port
// where nothing listens: any request fails after 200 ms with a server
// selection error, so an error of another kind proves nothing was sent.
func offlineColl(t testing.TB, cfg Config) *Collection {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/").
		SetServerSelectionTimeout(200 * time.Millisecond).SetConnectTimeout(200 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	c, err := NewCollection(client.Database("db").Collection("coll"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawOf marshals v.
func rawOf(t testing.TB, v any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantAuthFailure checks that err is a DocumentError matching
// ErrAuthentication and naming id.
func wantAuthFailure(t *testing.T, what string, err error, id any) {
	t.Helper()
	if !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("%s: err = %v, want ErrAuthentication", what, err)
		return
	}
	var de *DocumentError
	if !errors.As(err, &de) {
		t.Errorf("%s: err = %v (%T), want a *DocumentError", what, err, err)
		return
	}
	if id != nil {
		want := bson.RawValue{}
		_, data, err := bson.MarshalValue(id)
		if err != nil {
			t.Fatal(err)
		}
		want.Value = data
		if !bytesEqual(de.ID.Value, want.Value) {
			t.Errorf("%s: DocumentError.ID = %v, want %v", what, de.ID, id)
		}
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }

func cmptestProvider(name string) cmp.Provider { return cmptest.NewFakeProvider(name) }

func optsSortByI() options.Lister[options.FindOptions] {
	return options.Find().SetSort(bson.D{{Key: "i", Value: 1}})
}

// wantUnsafe checks that err is an UnsafeOperationError (about field, when
// field is not "").
func wantUnsafe(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ue *UnsafeOperationError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnsafeOperation) {
		t.Errorf("%s: err = %v (%T), want an *UnsafeOperationError", what, err, err)
		return
	}
	if field != "" && ue.Field != field {
		t.Errorf("%s: UnsafeOperationError.Field = %q, want %q (%v)", what, ue.Field, field, err)
	}
}
