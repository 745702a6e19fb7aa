package mongoenc

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
)

type tProfile struct {
	Email string `itemcrypto:"sign"`                 // profile.email
	Card  string `bson:"card" itemcrypto:"encrypt"`  // profile.card
	Notes string `bson:"notes" itemcrypto:"nothing"` // profile.notes
}

type tAudit struct {
	CreatedBy string `bson:"created_by" itemcrypto:"sign"`
}

// tPatient is the typed document of the tests: bson names from tags, from
// lower-cased Go names, an inline struct and a nested one.
type tPatient struct {
	ID      int      `bson:"_id" itemcrypto:"partition"`
	Name    string   // "name"
	SSN     string   `itemcrypto:"encrypt"` // "ssn"
	Visits  int      `bson:"visits" itemcrypto:"nothing"`
	Profile tProfile `bson:"profile"`
	Audit   tAudit   `bson:",inline"`
	Skipped string   `bson:"-"`
}

// tPatientConfig is tPatient's configuration: Default SignOnly with the
// overrides its tags need.
func tPatientConfig() Config {
	return Config{
		Provider: cmptest.NewFakeProvider("typed-test"),
		Default:  actions.SignOnly,
		Overrides: map[string]actions.Action{
			"ssn":           actions.EncryptAndSign,
			"visits":        actions.DoNothing,
			"profile.card":  actions.EncryptAndSign,
			"profile.notes": actions.DoNothing,
			"SSN":           actions.DoNothing, // outside the signature: see the folded-name check
			"profile.Notes": actions.DoNothing, // likewise, nested
		},
	}
}

func wantTagErr(t *testing.T, err, class error, field string) {
	t.Helper()
	var te *mapenc.TagError
	if !errors.Is(err, class) || !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *mapenc.TagError matching %v", err, class)
	}
	if te.Field != field {
		t.Errorf("TagError.Field = %q, want %q (%v)", te.Field, field, err)
	}
}

// The bson names of a struct: the driver's own, and the walk's.
func TestBSONFieldNamesMatchDriver(t *testing.T) {
	v := tPatient{ID: 1, Name: "n", SSN: "s", Visits: 2, Profile: tProfile{Email: "e", Card: "c", Notes: "x"}, Audit: tAudit{CreatedBy: "a"}, Skipped: "k"}
	var driver []string
	var walk func(prefix string, doc bson.Raw)
	walk = func(prefix string, doc bson.Raw) {
		elems, err := doc.Elements()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range elems {
			driver = append(driver, prefix+e.Key())
			if sub, ok := e.Value().DocumentOK(); ok {
				walk(prefix+e.Key()+".", sub)
			}
		}
	}
	walk("", rawOf(t, v))
	fields, err := bsonFields(reflect.TypeFor[tPatient]())
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, f := range fields {
		ours = append(ours, f.path)
	}
	slices.Sort(driver)
	slices.Sort(ours)
	if !slices.Equal(driver, ours) {
		t.Fatalf("the driver writes %q, the walk names %q", driver, ours)
	}

	// Why mongoenc walks the fields itself: mapenc names them as
	// attributevalue does, where an untagged field keeps its Go name.
	o, err := mapenc.StructPolicy(reflect.TypeFor[tPatient](), actions.Options{Default: actions.SignOnly}, func(o *mapenc.Options) { o.TagKey = "bson" })
	if err == nil {
		if _, ok := o.Overrides["SSN"]; !ok {
			t.Errorf("mapenc.StructPolicy(TagKey bson) now names SSN %v: the walk may no longer be needed", o.Overrides)
		}
	}
}

func TestTypedCollectionTagChecks(t *testing.T) {
	t.Run("the reviewer's scenario", func(t *testing.T) {
		c := offlineColl(t, Config{Provider: cmptest.NewFakeProvider("p"), Default: actions.SignOnly})
		_, err := NewTypedCollection[tPatient](c)
		wantTagErr(t, err, mapenc.ErrTagConflict, "SSN")
		t.Log(err)
	})
	t.Run("the config of the tags", func(t *testing.T) {
		c := offlineColl(t, tPatientConfig())
		if _, err := NewTypedCollection[tPatient](c); err != nil {
			t.Fatal(err)
		}
		if _, err := NewTypedCollection[*tPatient](c); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a nested field", func(t *testing.T) {
		cfg := tPatientConfig()
		delete(cfg.Overrides, "profile.card")
		_, err := NewTypedCollection[tPatient](offlineColl(t, cfg))
		wantTagErr(t, err, mapenc.ErrTagConflict, "Profile.Card")
	})
	t.Run("a field of an inline struct", func(t *testing.T) {
		cfg := tPatientConfig()
		cfg.Default = actions.EncryptAndSign
		cfg.Overrides["name"] = actions.SignOnly
		cfg.Overrides["profile"] = actions.SignOnly
		cfg.Overrides["profile.email"] = actions.SignOnly
		_, err := NewTypedCollection[tPatient](offlineColl(t, cfg))
		wantTagErr(t, err, mapenc.ErrTagConflict, "Audit.CreatedBy")
	})
	c := offlineColl(t, tPatientConfig())
	t.Run("partition on another field", func(t *testing.T) {
		type doc struct {
			Key string `bson:"key" itemcrypto:"partition"`
		}
		_, err := NewTypedCollection[doc](c)
		wantTagErr(t, err, mapenc.ErrTagConflict, "Key")
	})
	t.Run("sort", func(t *testing.T) {
		type doc struct {
			N int `bson:"n" itemcrypto:"sign,sort"`
		}
		_, err := NewTypedCollection[doc](c)
		wantTagErr(t, err, mapenc.ErrTagConflict, "N")
	})
	t.Run("an encrypted _id", func(t *testing.T) {
		type doc struct {
			ID int `bson:"_id" itemcrypto:"encrypt"`
		}
		_, err := NewTypedCollection[doc](c)
		wantTagErr(t, err, mapenc.ErrTagConflict, "ID")
	})
	t.Run("an unreadable tag", func(t *testing.T) {
		type doc struct {
			SSN string `bson:"ssn" itemcrypto:"encrypted"`
		}
		_, err := NewTypedCollection[doc](c)
		wantTagErr(t, err, mapenc.ErrInvalidTag, "SSN")
	})
	t.Run("a skipped field", func(t *testing.T) {
		type doc struct {
			SSN string `bson:"-" itemcrypto:"encrypt"`
		}
		_, err := NewTypedCollection[doc](c)
		wantTagErr(t, err, mapenc.ErrInvalidTag, "SSN")
	})
	t.Run("inside a map", func(t *testing.T) {
		type doc struct {
			ByName map[string]tAudit `bson:"by_name"`
		}
		_, err := NewTypedCollection[doc](c)
		wantTagErr(t, err, mapenc.ErrInvalidTag, "ByName.CreatedBy")
	})
	t.Run("not a struct", func(t *testing.T) {
		if _, err := NewTypedCollection[bson.M](c); !errors.Is(err, mapenc.ErrUnsupportedType) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestTypedCollectionServer(t *testing.T) {
	ctx := ctxT(t)
	c, plain := serverColl(t, tPatientConfig())
	tc, err := NewTypedCollection[tPatient](c)
	if err != nil {
		t.Fatal(err)
	}
	ada := tPatient{ID: 1, Name: "Ada", SSN: "078-05-1120", Visits: 1,
		Profile: tProfile{Email: "ada@example.com", Card: "4111", Notes: "n"}, Audit: tAudit{CreatedBy: "admin"}}
	if _, err := tc.InsertOne(ctx, ada); err != nil {
		t.Fatal(err)
	}
	raw, err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"ssn", "profile.card"} {
		if v, err := raw.LookupErr(strings.Split(path, ".")...); err != nil || v.Type != bson.TypeBinary {
			t.Errorf("%s stored as %v (%v), want binary ciphertext", path, v.Type, err)
		}
	}
	if v := raw.Lookup("name"); v.StringValue() != "Ada" {
		t.Errorf("name stored as %v", v)
	}
	got, err := tc.FindOne(ctx, bson.D{{Key: "_id", Value: 1}})
	if err != nil || got != ada {
		t.Fatalf("FindOne = %+v, %v; want %+v", got, err, ada)
	}
	if _, err := tc.FindOne(ctx, bson.D{{Key: "_id", Value: 99}}); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("FindOne of nothing: %v, want mongo.ErrNoDocuments", err)
	}

	var many []tPatient
	for i := 2; i <= 21; i++ {
		many = append(many, tPatient{ID: i, Name: fmt.Sprint("p", i), SSN: fmt.Sprint("ssn-", i), Visits: i})
	}
	if _, err := tc.InsertMany(ctx, many); err != nil {
		t.Fatal(err)
	}
	all, err := tc.All(ctx, bson.D{{Key: "visits", Value: bson.D{{Key: "$gte", Value: 2}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(3))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, many) {
		t.Fatalf("Find returned %d documents, not the %d inserted", len(all), len(many))
	}
	n := 0
	for _, err := range tc.Find(ctx, bson.D{}, options.Find().SetBatchSize(2)) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	for _, err := range tc.Find(ctx, bson.D{{Key: "ssn", Value: "x"}}) {
		if !errors.Is(err, ErrUnsafeOperation) {
			t.Fatalf("a filter on an encrypted field: %v, want ErrUnsafeOperation", err)
		}
	}

	ada.Name = "Ada L."
	if _, err := tc.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, ada); err != nil {
		t.Fatal(err)
	}
	// A field outside the signature ("SSN", DoNothing) that the struct
	// codec would decode into the field of "ssn" is dropped; so is one in
	// an embedded document ("profile.Notes" beside "profile.notes").
	if _, err := plain.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "SSN", Value: "forged"}, {Key: "profile.Notes", Value: "forged"}}}}); err != nil {
		t.Fatal(err)
	}
	got, err = tc.FindOne(ctx, bson.D{{Key: "_id", Value: 1}})
	if err != nil || got != ada {
		t.Fatalf("FindOne after adding SSN = %+v, %v; want %+v", got, err, ada)
	}
	// A tampered document fails with the collection's *DocumentError.
	if _, err := plain.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "Eve"}}}}); err != nil {
		t.Fatal(err)
	}
	var de *DocumentError
	if _, err := tc.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}); !errors.As(err, &de) {
		t.Fatalf("FindOne of a tampered document: %v, want a *DocumentError", err)
	}
	if _, err := tc.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
}
