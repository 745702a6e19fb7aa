package mongoenc

import (
	"bytes"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// TestTamperMemory covers the structural tampering that FerretDB cannot
// store (duplicate field names, dotted names: it drops the connection or
// refuses them, MongoDB accepts them), and malformed BSON, with no server.
func TestTamperMemory(t *testing.T) {
	c := offlineColl(t, testConfig())
	ctx := ctxT(t)
	stored, err := c.encryptDoc(ctx, rawOf(t, tamperDoc("v")))
	if err != nil {
		t.Fatal(err)
	}
	var sd bson.D
	if err := bson.Unmarshal(stored, &sd); err != nil {
		t.Fatal(err)
	}
	base := func() bson.D { return getD(t, sd) }
	profileOf := func(doc bson.D) bson.D { return field(doc, "profile").(bson.D) }
	for _, tc := range []struct {
		name string
		doc  func() []byte
	}{
		{"duplicate signed field", func() []byte { return rawOf(t, append(base(), bson.E{Key: "email", Value: "evil"})) }},
		{"duplicate encrypted field", func() []byte { return rawOf(t, append(base(), bson.E{Key: "card", Value: field(sd, "card")})) }},
		{"duplicate signature", func() []byte {
			return rawOf(t, append(base(), bson.E{Key: "*amzn-ddb-map-sig*", Value: field(sd, "*amzn-ddb-map-sig*")}))
		}},
		{"duplicate nested encrypted field", func() []byte {
			v := base()
			p := profileOf(v)
			return rawOf(t, setField(v, "profile", append(p, bson.E{Key: "ssn", Value: field(p, "ssn")})))
		}},
		{"nested encrypted field moved to a dotted top-level name", func() []byte {
			v := base()
			p := profileOf(v)
			ssn := field(p, "ssn")
			return rawOf(t, append(setField(v, "profile", delField(p, "ssn")), bson.E{Key: "profile.ssn", Value: ssn}))
		}},
		{"parent document wrapped in an array", func() []byte {
			v := base()
			return rawOf(t, setField(v, "profile", bson.A{profileOf(v)}))
		}},
		{"signature of the wrong type", func() []byte {
			return rawOf(t, setField(base(), "*amzn-ddb-map-sig*", "not binary"))
		}},
		{"truncated document", func() []byte { return stored[:len(stored)-3] }},
		{"bad length", func() []byte {
			b := bytes.Clone(stored)
			b[0]++
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.decryptDoc(ctx, tc.doc())
			if !errors.Is(err, itemcrypto.ErrAuthentication) || got != nil {
				t.Errorf("decryptDoc = %v, %v; want ErrAuthentication", got, err)
			}
		})
	}
	if got, err := c.decryptDoc(ctx, stored); err != nil || !bytes.Equal(got, rawOf(t, tamperDoc("v"))) {
		t.Errorf("untouched document: %v", err)
	}
}

// TestNestedPaths checks the decomposition of nested paths: deep paths,
// siblings, a parent that is absent, null or a scalar, and field order.
func TestNestedPaths(t *testing.T) {
	cfg := testConfig()
	cfg.Default = actions.SignOnly
	cfg.Overrides = map[string]actions.Action{
		"a.b.c":   actions.EncryptAndSign,
		"a.b.d":   actions.DoNothing,
		"a.x":     actions.EncryptAndSign,
		"a.b":     actions.SignOnly,
		"keep":    actions.DoNothing,
		"keep.in": actions.EncryptAndSign,
	}
	c := offlineColl(t, cfg)
	ctx := ctxT(t)
	for _, doc := range []bson.D{
		d("_id", 1, "a", d("z", 1, "b", d("c", "secret", "y", 2, "d", 3), "x", bson.A{1, 2}, "w", 4)),
		d("_id", 2, "a", d("b", d())),
		d("_id", 3, "a", nil),
		d("_id", 4, "a", "scalar", "keep", 5),
		d("_id", 5),
		d("_id", 6, "keep", d("in", d("deep", true), "out", 1)),
	} {
		want := rawOf(t, doc)
		stored, err := c.encryptDoc(ctx, want)
		if err != nil {
			t.Fatalf("%v: %v", doc, err)
		}
		if v, err := bson.Raw(stored).LookupErr("a", "b", "c"); err == nil {
			if sub, _, ok := v.BinaryOK(); !ok || sub != 0 {
				t.Errorf("a.b.c stored as %s", v.Type)
			}
		}
		if v, err := bson.Raw(stored).LookupErr("keep", "in"); err == nil && v.Type != bson.TypeBinary {
			t.Errorf("keep.in stored as %s", v.Type)
		}
		got, err := c.decryptDoc(ctx, stored)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v: round trip %s, %v", doc, got, err)
		}
	}
	// An array on a configured path is refused when writing.
	_, err := c.encryptDoc(ctx, rawOf(t, d("_id", 7, "a", d("b", bson.A{d("c", 1)}))))
	var ae *itemcrypto.AttributeError
	if !errors.Is(err, ErrArrayOnPath) || !errors.As(err, &ae) || ae.Name != "a.b" {
		t.Errorf("array on a configured path: %v", err)
	}
}

// TestNoOpPolicy: a policy that does nothing stores documents as they are
// and lets every query through.
func TestNoOpPolicy(t *testing.T) {
	cfg := testConfig()
	cfg.Default = actions.DoNothing
	cfg.Overrides = nil
	c := offlineColl(t, cfg)
	ctx := ctxT(t)
	doc := rawOf(t, d("_id", 1, "card", "x"))
	stored, err := c.encryptDoc(ctx, doc)
	if err != nil || !bytes.Equal(stored, doc) {
		t.Errorf("encryptDoc = %v, %v", bson.Raw(stored), err)
	}
	g := c.guard("Find")
	if err := g.filter("filter", []byte(rawOf(t, d("card", "x", "$where", "1")))); err != nil {
		t.Errorf("filter refused: %v", err)
	}
	if _, err := g.update(bson.A{d("$set", d("a", 1))}, c); err != nil {
		t.Errorf("pipeline update refused: %v", err)
	}
}
