package mongoenc

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
)

// tamperDoc is a document with two encrypted fields, signed ones, a signed
// parent with an encrypted and a do-nothing child, and do-nothing fields.
func tamperDoc(id string) bson.D {
	return d("_id", id, "email", id+"@example.com", "name", "name-"+id, "card", "card-"+id, "secret", "secret-"+id,
		"n", int32(7), "visits", int32(1),
		"profile", d("city", "Paris", "ssn", "ssn-"+id, "lastSeen", int64(5)))
}

func getD(t *testing.T, v any) bson.D {
	t.Helper()
	var out bson.D
	if err := bson.Unmarshal(rawOf(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func field(doc bson.D, key string) any {
	for _, e := range doc {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

func setField(doc bson.D, key string, v any) bson.D {
	for i, e := range doc {
		if e.Key == key {
			doc[i].Value = v
			return doc
		}
	}
	return append(doc, bson.E{Key: key, Value: v})
}

func delField(doc bson.D, key string) bson.D {
	return slices.DeleteFunc(doc, func(e bson.E) bool { return e.Key == key })
}

// TestTamper alters stored documents through the plain driver; every change
// to a signed or encrypted field, to _id, to the reserved fields, or a move
// to another collection fails verification with a DocumentError that names
// the document's _id; changes to DoNothing fields and to the field order do
// not (by design).
func TestTamper(t *testing.T) {
	c, plain := serverColl(t, testConfig())
	ctx := ctxT(t)
	stored := map[string]bson.D{}
	for _, id := range []string{"victim", "other"} {
		if _, err := c.InsertOne(ctx, tamperDoc(id)); err != nil {
			t.Fatal(err)
		}
		var raw bson.D
		if err := plain.FindOne(ctx, d("_id", id)).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		stored[id] = raw
	}
	victim := func() bson.D { return getD(t, stored["victim"]) } // a fresh deep copy
	other := stored["other"]
	profileOf := func(doc bson.D) bson.D { return field(doc, "profile").(bson.D) }

	cases := []struct {
		name   string
		mutate func() bson.D
		caught bool
	}{
		{"swap two encrypted fields", func() bson.D {
			v := victim()
			card, secret := field(v, "card"), field(v, "secret")
			return setField(setField(v, "card", secret), "secret", card)
		}, true},
		{"swap two signed fields", func() bson.D {
			v := victim()
			email, name := field(v, "email"), field(v, "name")
			return setField(setField(v, "email", name), "name", email)
		}, true},
		{"copy an encrypted field from another document", func() bson.D {
			return setField(victim(), "card", field(other, "card"))
		}, true},
		{"copy a nested encrypted field from another document", func() bson.D {
			v := victim()
			return setField(v, "profile", setField(profileOf(v), "ssn", field(profileOf(other), "ssn")))
		}, true},
		{"move a nested encrypted field to the top level", func() bson.D {
			v := victim()
			ssn := field(profileOf(v), "ssn")
			return setField(setField(v, "profile", delField(profileOf(v), "ssn")), "ssn", ssn)
		}, true},
		{"rename an encrypted field", func() bson.D {
			v := victim()
			card := field(v, "card")
			return setField(delField(v, "card"), "cardx", card)
		}, true},
		{"alter a signed field", func() bson.D { return setField(victim(), "email", "evil@example.com") }, true},
		{"alter a signed nested field", func() bson.D {
			v := victim()
			return setField(v, "profile", setField(profileOf(v), "city", "Berlin"))
		}, true},
		{"change a signed int32 to the same int64", func() bson.D { return setField(victim(), "n", int64(7)) }, true},
		{"flip a ciphertext byte", func() bson.D {
			v := victim()
			b := field(v, "card").(bson.Binary)
			b.Data = slices.Clone(b.Data)
			b.Data[len(b.Data)-1] ^= 1
			return setField(v, "card", b)
		}, true},
		{"change the ciphertext's binary subtype", func() bson.D {
			v := victim()
			b := field(v, "card").(bson.Binary)
			b.Subtype = 0x80
			return setField(v, "card", b)
		}, true},
		{"store an encrypted field in plaintext", func() bson.D { return setField(victim(), "card", "card-victim") }, true},
		{"drop an encrypted field", func() bson.D { return delField(victim(), "card") }, true},
		{"add a signed field", func() bson.D { return setField(victim(), "admin", true) }, true},
		{"drop the signature", func() bson.D { return delField(victim(), "*amzn-ddb-map-sig*") }, true},
		{"drop the material description", func() bson.D { return delField(victim(), "*amzn-ddb-map-desc*") }, true},
		{"signature of another document", func() bson.D {
			return setField(victim(), "*amzn-ddb-map-sig*", field(other, "*amzn-ddb-map-sig*"))
		}, true},
		{"description and signature of another document", func() bson.D {
			v := setField(victim(), "*amzn-ddb-map-sig*", field(other, "*amzn-ddb-map-sig*"))
			return setField(v, "*amzn-ddb-map-desc*", field(other, "*amzn-ddb-map-desc*"))
		}, true},
		{"alter a do-nothing field", func() bson.D { return setField(victim(), "visits", int32(1000)) }, false},
		{"add a do-nothing field", func() bson.D { return setField(victim(), "notes", "hello") }, false},
		{"alter a nested do-nothing field", func() bson.D {
			v := victim()
			return setField(v, "profile", setField(profileOf(v), "lastSeen", int64(99)))
		}, false},
		{"reorder the top-level fields", func() bson.D {
			v := victim()
			slices.Reverse(v[1:])
			return v
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Delete and insert: FerretDB skips a ReplaceOne whose document
			// compares equal (int32 7 == int64 7).
			put := func(doc bson.D) {
				t.Helper()
				if _, err := plain.DeleteOne(ctx, d("_id", "victim")); err != nil {
					t.Fatal(err)
				}
				if _, err := plain.InsertOne(ctx, doc); err != nil {
					t.Fatal(err)
				}
			}
			put(tc.mutate())
			defer put(stored["victim"])
			var got bson.D
			err := c.FindOne(ctx, d("_id", "victim")).Decode(&got)
			if !tc.caught {
				if err != nil {
					t.Fatalf("FindOne: %v, want it to verify (the change is outside the signature)", err)
				}
				return
			}
			if got != nil {
				t.Errorf("FindOne decoded %v", got)
			}
			wantAuthFailure(t, "FindOne", err, "victim")
			_, err = c.ReplaceOne(ctx, d("_id", "nothing"), tamperDoc("nothing")) // the collection still works
			if err != nil {
				t.Fatal(err)
			}
		})
	}

	// A copy of a document under another _id.
	t.Run("change _id", func(t *testing.T) {
		v := setField(victim(), "_id", "victim2")
		if _, err := plain.InsertOne(ctx, v); err != nil {
			t.Fatal(err)
		}
		wantAuthFailure(t, "FindOne", c.FindOne(ctx, d("_id", "victim2")).Err(), "victim2")
		wantAuthFailure(t, "FindOneAndDelete", c.FindOneAndDelete(ctx, d("_id", "victim2")).Err(), "victim2")
		var de *DocumentError
		if err := c.FindOne(ctx, d("_id", "victim2")).Err(); err != mongo.ErrNoDocuments { //nolint:errorlint
			t.Errorf("after FindOneAndDelete: %v (%v)", err, errors.As(err, &de))
		}
	})

	// A copy of the document in another collection.
	t.Run("move to another collection", func(t *testing.T) {
		otherColl := mongotest.Collection(t, mongotest.Client(t))
		if _, err := otherColl.InsertOne(ctx, stored["victim"]); err != nil {
			t.Fatal(err)
		}
		c2, err := NewCollection(otherColl, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		wantAuthFailure(t, "FindOne in the other collection", c2.FindOne(ctx, d("_id", "victim")).Err(), "victim")
		// With the signing name of the original collection, it reads.
		cfg := testConfig()
		cfg.SigningName = c.ns
		c3, err := NewCollection(otherColl, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := c3.FindOne(ctx, d("_id", "victim")).Err(); err != nil {
			t.Errorf("FindOne with SigningName of the original collection: %v", err)
		}
	})

	// Another reader's keys or actions.
	t.Run("other keys or actions", func(t *testing.T) {
		cfg := testConfig()
		cfg.Overrides["visits"] = cfg.Default // visits now signed
		c2, err := NewCollection(plain, cfg)
		if err != nil {
			t.Fatal(err)
		}
		wantAuthFailure(t, "other actions", c2.FindOne(ctx, d("_id", "victim")).Err(), "victim")
		cfg = testConfig()
		cfg.Provider = cmptestProvider("another key")
		c3, err := NewCollection(plain, cfg)
		if err != nil {
			t.Fatal(err)
		}
		wantAuthFailure(t, "other keys", c3.FindOne(ctx, d("_id", "victim")).Err(), "victim")
	})

	// A document written without encryption.
	t.Run("unencrypted document", func(t *testing.T) {
		if _, err := plain.InsertOne(ctx, tamperDoc("plain")); err != nil {
			t.Fatal(err)
		}
		wantAuthFailure(t, "FindOne", c.FindOne(ctx, d("_id", "plain")).Err(), "plain")
		if _, err := plain.DeleteOne(ctx, d("_id", "plain")); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTamperFind: a Find over several documents fails the Next of the
// tampered one, with a DocumentError naming its _id and position, after
// returning the documents before it; never a silent skip. All fails
// likewise.
func TestTamperFind(t *testing.T) {
	c, plain := serverColl(t, testConfig())
	ctx := ctxT(t)
	var ids []any
	for i := range 5 {
		oid := bson.NewObjectID()
		ids = append(ids, oid)
		doc := tamperDoc(fmt.Sprint(i))
		doc[0].Value = oid
		doc = setField(doc, "i", int32(i))
		if _, err := c.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	// Copy the card of document 1 into document 2.
	var one bson.D
	if err := plain.FindOne(ctx, d("_id", ids[1])).Decode(&one); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.UpdateOne(ctx, d("_id", ids[2]), d("$set", d("card", field(one, "card")))); err != nil {
		t.Fatal(err)
	}
	cur, err := c.Find(ctx, d(), optsSortByI())
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var got []int32
	for cur.Next(ctx) {
		got = append(got, cur.Current.Lookup("i").Int32())
	}
	if !slices.Equal(got, []int32{0, 1}) {
		t.Errorf("Next returned documents %v before failing, want [0 1]", got)
	}
	err = cur.Err()
	wantAuthFailure(t, "cursor", err, ids[2])
	var de *DocumentError
	if errors.As(err, &de) && de.Index != 2 {
		t.Errorf("DocumentError.Index = %d, want 2", de.Index)
	}
	if want := fmt.Sprintf(`(_id {"$oid":%q})`, ids[2].(bson.ObjectID).Hex()); err != nil && !containsStr(err.Error(), want) {
		t.Errorf("error %q does not name the _id %s", err, want)
	}
	if cur.Next(ctx) {
		t.Error("Next after a failed document returned true")
	}

	cur, err = c.Find(ctx, d(), optsSortByI())
	if err != nil {
		t.Fatal(err)
	}
	var all []bson.Raw
	wantAuthFailure(t, "All", cur.All(ctx, &all), ids[2])
	if all != nil {
		t.Errorf("All filled results despite the failure: %d documents", len(all))
	}
}
