package mongoenc

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// commands records the commands a client started, by name.
type commands struct {
	mu    sync.Mutex
	names []string
}

func (c *commands) started(_ context.Context, e *event.CommandStartedEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.names = append(c.names, e.CommandName)
}

func (c *commands) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.names)
}

func (c *commands) since(n int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names[n:]...)
}

// monitoredColl is serverColl with a client whose command monitor records
// every command sent.
func monitoredColl(t *testing.T, cfg Config) (*Collection, *mongo.Collection, *commands) {
	t.Helper()
	uri := testenv.MongoURI(t)
	cmds := &commands{}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second).
		SetMonitor(&event.CommandMonitor{Started: cmds.started}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	plain := mongotest.Collection(t, client)
	c, err := NewCollection(plain, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, plain, cmds
}

// aggColl is a beacon collection (1-bit beacons: about half of the other
// documents collide) holding bdocs(20), on a monitored client.
func aggColl(t *testing.T) (*Collection, *mongo.Collection, *commands) {
	t.Helper()
	c, plain, cmds := monitoredColl(t, beaconConfig(t, 1))
	docs := bdocs(20)
	in := make([]any, len(docs))
	for i := range docs {
		in[i] = docs[i]
	}
	if _, err := c.InsertMany(ctxT(t), in); err != nil {
		t.Fatal(err)
	}
	return c, plain, cmds
}

// TestAggregatePlaintext: pipelines over signed fields run on the server
// and give the right answers; a stage that builds documents of its own
// renames fields, so later stages may use names of encrypted fields.
func TestAggregatePlaintext(t *testing.T) {
	c, _, cmds := aggColl(t)
	ctx := ctxT(t)
	run := func(pipeline any) []bson.M {
		t.Helper()
		before := cmds.count()
		cur, err := c.Aggregate(ctx, pipeline)
		if err != nil {
			t.Fatalf("Aggregate: %v", err)
		}
		var out []bson.M
		if err := cur.All(ctx, &out); err != nil {
			t.Fatal(err)
		}
		if sent := cmds.since(before); len(sent) == 0 || sent[0] != "aggregate" {
			t.Errorf("commands sent: %v, want an aggregate", sent)
		}
		return out
	}
	// status alternates a (even i) and b (odd i); i is 0..19.
	got := run(mongo.Pipeline{
		// (FerretDB v1 sums "$i" as 0 beside a second $sum: one
		// accumulator per group here.)
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "total", Value: bson.D{{Key: "$sum", Value: "$i"}}}}}},
		{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
	})
	want := []struct {
		id    string
		total int
	}{{"a", 90}, {"b", 100}}
	if len(got) != len(want) {
		t.Fatalf("groups: %v", got)
	}
	for i, w := range want {
		if got[i]["_id"] != w.id || toInt(got[i]["total"]) != w.total {
			t.Errorf("group %d = %v, want %+v", i, got[i], w)
		}
	}
	got = run(bson.A{d("$match", d("i", d("$gte", 4), "email", d("$exists", true))), d("$count", "n")})
	if len(got) != 1 || toInt(got[0]["n"]) != 16 {
		t.Errorf("$count = %v, want n 16", got)
	}
	// An inclusion $project of signed fields.
	got = run(bson.A{d("$match", d("_id", d("$in", bson.A{3, 4}))), d("$sort", d("_id", 1)), d("$project", d("status", 1))})
	if len(got) != 2 || toInt(got[0]["_id"]) != 3 || got[0]["status"] != "b" || len(got[0]) != 2 {
		t.Errorf("$project = %v, want {_id: 3, status: b}, {_id: 4, status: a}", got)
	}
	// After $group the field names are the pipeline's: one named like an
	// encrypted field may be matched.
	got = run(bson.A{d("$group", d("_id", "$status", "email", d("$sum", "$i"))), d("$match", d("email", 90))})
	if len(got) != 1 || got[0]["_id"] != "a" {
		t.Errorf("$match after $group = %v, want group a", got)
	}
}

func toInt(v any) int {
	switch n := v.(type) {
	case int32:
		return int(n)
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return -1
}

// TestAggregateRefused: every pipeline that reads ciphertext, a beacon or
// the format's fields, writes, runs code, or uses a stage the client does
// not check is refused with a *PipelineError naming the stage, operator and
// field, and nothing is sent.
func TestAggregateRefused(t *testing.T) {
	c, _, cmds := aggColl(t)
	ctx := ctxT(t)
	other := c.Name() + "_other"
	match := d("$match", d("status", "a"))
	cases := []struct {
		name     string
		pipeline bson.A
		stage    int
		where    string
		operator string
		field    string
	}{
		{"group by encrypted", bson.A{d("$group", d("_id", "$email"))}, 0, "", "$group", "email"},
		{"beacon equality", bson.A{d("$match", d("email", "ann@example.com")), d("$count", "n")}, 0, "", "$match", "email"},
		{"range on encrypted", bson.A{d("$match", d("card", d("$gt", "card-1"))), d("$count", "n")}, 0, "", "$match", "card"},
		{"sort on encrypted", bson.A{match, d("$sort", d("email", 1)), d("$count", "n")}, 1, "", "$sort", "email"},
		{"project nested encrypted", bson.A{d("$project", d("profile.ssn", 1))}, 0, "", "$project", "profile.ssn"},
		{"project parent of encrypted", bson.A{d("$project", d("profile", 1))}, 0, "", "$project", "profile"},
		{"expression on encrypted", bson.A{d("$project", d("x", d("$concat", bson.A{"$card", "!"})))}, 0, "", "$concat", "card"},
		{"$expr on nested encrypted", bson.A{d("$match", d("$expr", d("$eq", bson.A{"$profile.ssn", "x"}))), d("$count", "n")}, 0, "", "$eq", "profile.ssn"},
		{"inside encrypted", bson.A{d("$group", d("_id", "$card.number"))}, 0, "", "$group", "card.number"},
		{"$$ROOT path", bson.A{d("$group", d("_id", "$$ROOT.email"))}, 0, "", "$group", "email"},
		{"group by beacon", bson.A{d("$group", d("_id", "$aws_dbe_b_email"))}, 0, "", "$group", "aws_dbe_b_email"},
		{"match beacon", bson.A{d("$match", d("aws_dbe_b_email", "0")), d("$count", "n")}, 0, "", "$match", "aws_dbe_b_email"},
		{"version tag", bson.A{d("$project", d("v", "$aws_dbe_v_1"))}, 0, "", "$project", "aws_dbe_v_1"},
		{"footer exists", bson.A{d("$match", d("aws_dbe_foot", d("$exists", true))), d("$count", "n")}, 0, "", "$match", "aws_dbe_foot"},
		{"header", bson.A{d("$project", d("h", "$aws_dbe_head"))}, 0, "", "$project", "aws_dbe_head"},
		{"whole document", bson.A{d("$replaceWith", "$$ROOT")}, 0, "", "$replaceWith", ""},
		{"whole document in push", bson.A{d("$group", bson.D{{Key: "_id", Value: nil}, {Key: "all", Value: d("$push", "$$CURRENT")}})}, 0, "", "$push", ""},
		{"getField", bson.A{d("$project", d("x", d("$getField", "email")))}, 0, "", "$getField", ""},
		{"unwind encrypted", bson.A{d("$unwind", "$card"), d("$count", "n")}, 0, "", "$unwind", "card"},
		{"$out", bson.A{match, d("$out", other)}, 1, "", "$out", ""},
		{"$merge", bson.A{d("$project", d("status", 1)), d("$merge", d("into", other))}, 1, "", "$merge", ""},
		{"$where", bson.A{d("$match", d("$where", "true")), d("$count", "n")}, 0, "", "$where", ""},
		{"$text", bson.A{d("$match", d("$text", d("$search", "x"))), d("$count", "n")}, 0, "", "$text", ""},
		{"$function", bson.A{d("$project", d("x", d("$function", bson.D{{Key: "body", Value: "function() {return 1}"}, {Key: "args", Value: bson.A{}}, {Key: "lang", Value: "js"}})))}, 0, "", "$function", ""},
		{"$accumulator", bson.A{d("$group", bson.D{{Key: "_id", Value: nil}, {Key: "x", Value: d("$accumulator", d("lang", "js"))}})}, 0, "", "$accumulator", ""},
		{"unknown stage", bson.A{match, d("$redact", "$$KEEP"), d("$count", "n")}, 1, "", "$redact", ""},
		{"graphLookup", bson.A{d("$graphLookup", d("from", "x"))}, 0, "", "$graphLookup", ""},
		{"lookup other collection", bson.A{d("$lookup", bson.D{{Key: "from", Value: other}, {Key: "pipeline", Value: bson.A{d("$count", "n")}}, {Key: "as", Value: "o"}}), d("$count", "n")}, 0, "", "$lookup", ""},
		{"lookup without pipeline", bson.A{d("$lookup", bson.D{{Key: "from", Value: c.Name()}, {Key: "localField", Value: "i"}, {Key: "foreignField", Value: "i"}, {Key: "as", Value: "o"}}), d("$count", "n")}, 0, "", "$lookup", ""},
		{"lookup foreignField", bson.A{d("$lookup", bson.D{{Key: "from", Value: c.Name()}, {Key: "localField", Value: "status"}, {Key: "foreignField", Value: "email"}, {Key: "pipeline", Value: bson.A{d("$count", "n")}}, {Key: "as", Value: "o"}}), d("$count", "n")}, 0, "", "$lookup", "email"},
		{"lookup pipeline", bson.A{match, d("$lookup", bson.D{{Key: "from", Value: c.Name()}, {Key: "pipeline", Value: bson.A{d("$group", d("_id", "$card"))}}, {Key: "as", Value: "o"}}), d("$count", "n")}, 1, "$lookup.pipeline", "$group", "card"},
		{"lookup pipeline of stored documents", bson.A{d("$lookup", bson.D{{Key: "from", Value: c.Name()}, {Key: "pipeline", Value: bson.A{match}}, {Key: "as", Value: "o"}}), d("$count", "n")}, 0, "", "$lookup", ""},
		{"facet", bson.A{d("$facet", d("byCard", bson.A{d("$sortByCount", "$card")}))}, 0, "$facet.byCard", "$sortByCount", "card"},
		{"facet of stored documents", bson.A{d("$facet", d("all", bson.A{match}))}, 0, "", "$facet", ""},
		{"unionWith", bson.A{d("$unionWith", bson.D{{Key: "coll", Value: c.Name()}, {Key: "pipeline", Value: bson.A{d("$project", d("email", 1))}}}), d("$count", "n")}, 0, "$unionWith.pipeline", "$project", "email"},
		{"output is stored documents", bson.A{match, d("$sort", d("i", 1)), d("$limit", 3)}, -1, "", "", ""},
		{"output is stored documents with a field added", bson.A{d("$addFields", d("x", 1))}, -1, "", "", ""},
		{"empty pipeline", bson.A{}, -1, "", "", ""},
		{"stage not a document", bson.A{d("$count", "n"), "$count"}, 1, "", "", ""},
		{"stage of two operators", bson.A{d("$count", "n"), d("$skip", 1, "$limit", 1)}, 1, "", "", ""},
		{"nested stage not a document", bson.A{d("$facet", d("x", bson.A{1}))}, 0, "$facet.x", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := cmds.count()
			cur, err := c.Aggregate(ctx, tc.pipeline)
			if sent := cmds.since(before); len(sent) > 0 {
				t.Errorf("commands sent: %v, want none", sent)
			}
			if err == nil {
				_ = cur.Close(ctx)
				t.Fatal("Aggregate: no error")
			}
			var pe *PipelineError
			if !errors.As(err, &pe) || !errors.Is(err, ErrUnsafeOperation) {
				t.Fatalf("err = %v (%T), want a *PipelineError matching ErrUnsafeOperation", err, err)
			}
			var ue *UnsafeOperationError
			if !errors.As(err, &ue) || ue.Field != pe.Field || ue.Op != "Aggregate" {
				t.Errorf("errors.As *UnsafeOperationError = %+v", ue)
			}
			if pe.Stage != tc.stage || pe.Where != tc.where || pe.Operator != tc.operator || pe.Field != tc.field {
				t.Errorf("PipelineError{Stage %d, Where %q, Operator %q, Field %q}, want {%d, %q, %q, %q}: %v",
					pe.Stage, pe.Where, pe.Operator, pe.Field, tc.stage, tc.where, tc.operator, tc.field, err)
			}
			if tc.name == "beacon equality" && !strings.Contains(err.Error(), "AggregateDocuments") {
				t.Errorf("the refusal of a beacon equality does not point to AggregateDocuments: %v", err)
			}
			for _, secret := range []string{"ann@example.com", "card-1", "function() {"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a value: %v", err)
				}
			}
		})
	}
	t.Run("options", func(t *testing.T) {
		before := cmds.count()
		ok := bson.A{d("$count", "n")}
		//lint:ignore SA1019 the option is deprecated but settable, and must be refused
		_, err1 := c.Aggregate(ctx, ok, options.Aggregate().SetCustom(bson.M{"pipeline": bson.A{}}))
		_, err2 := c.Aggregate(ctx, ok, options.Aggregate().SetLet(d("x", d("$function", d("lang", "js")))))
		_, err3 := c.Aggregate(ctx, d("$count", "n"))
		for i, err := range []error{err1, err2, err3} {
			var pe *PipelineError
			if !errors.As(err, &pe) {
				t.Errorf("case %d: err = %v, want a *PipelineError", i, err)
			}
		}
		if sent := cmds.since(before); len(sent) > 0 {
			t.Errorf("commands sent: %v, want none", sent)
		}
	})
}

// TestAggregateDocuments: a pipeline of $match, $sort, $skip and $limit
// returns the stored documents verified and decrypted; a beacon $match is
// exact (1-bit beacons: about half the documents collide); anything else
// is refused before sending, and a tampered document fails the cursor.
func TestAggregateDocuments(t *testing.T) {
	c, plain, cmds := aggColl(t)
	ctx := ctxT(t)
	all := func(pipeline any) []bdoc {
		t.Helper()
		cur, err := c.AggregateDocuments(ctx, pipeline)
		if err != nil {
			t.Fatalf("AggregateDocuments: %v", err)
		}
		var out []bdoc
		if err := cur.All(ctx, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	docs := bdocs(20)
	got := all(bson.A{d("$match", d("status", "a")), d("$sort", d("i", -1)), d("$skip", 1), d("$limit", 3)})
	if len(got) != 3 || got[0] != docs[16] || got[1] != docs[14] || got[2] != docs[12] {
		t.Errorf("got %+v, want documents 16, 14, 12 decrypted", got)
	}
	got = all(bson.A{d("$match", d("email", "ann@example.com")), d("$sort", d("i", 1)), d("$match", d("status", "a"))})
	if len(got) != 2 || got[0] != docs[0] || got[1] != docs[10] {
		t.Errorf("beacon $match: got %+v, want documents 0 and 10", got)
	}
	got = all(bson.A{d("$match", d("email", d("$in", bson.A{"bob@example.com", "dee@example.com"}))), d("$match", d("profile.ssn", "ssn-1")), d("$sort", d("_id", 1))})
	if len(got) != 2 || got[0] != docs[1] || got[1] != docs[8] {
		t.Errorf("two beacon $match stages: got %+v, want documents 1 and 8", got)
	}

	for _, tc := range []struct {
		name            string
		pipeline        bson.A
		stage           int
		operator, field string
	}{
		{"limit after beacon", bson.A{d("$match", d("email", "ann@example.com")), d("$limit", 1)}, 1, "$limit", ""},
		{"skip after beacon", bson.A{d("$match", d("email", "ann@example.com")), d("$sort", d("i", 1)), d("$skip", 1)}, 2, "$skip", ""},
		{"range on beacon field", bson.A{d("$match", d("email", d("$gt", "a")))}, 0, "$match", "email"},
		{"sort on encrypted", bson.A{d("$sort", d("card", 1))}, 0, "$sort", "card"},
		{"group", bson.A{d("$group", d("_id", "$status"))}, 0, "$group", ""},
		{"project", bson.A{d("$project", d("status", 1))}, 0, "$project", ""},
		{"out", bson.A{d("$out", "x")}, 0, "$out", ""},
		{"function in $expr", bson.A{d("$match", d("$expr", d("$function", d("body", "function() {return true}", "args", bson.A{}, "lang", "js"))))}, 0, "$function", ""},
		{"$where", bson.A{d("$sort", d("i", 1)), d("$match", d("$where", "true"))}, 1, "$where", ""},
	} {
		before := cmds.count()
		_, err := c.AggregateDocuments(ctx, tc.pipeline)
		var pe *PipelineError
		if !errors.As(err, &pe) || !errors.Is(err, ErrUnsafeOperation) {
			t.Errorf("%s: err = %v, want a *PipelineError", tc.name, err)
		} else if pe.Stage != tc.stage || pe.Operator != tc.operator || pe.Field != tc.field || pe.Op != "AggregateDocuments" {
			t.Errorf("%s: %+v, want stage %d operator %q field %q", tc.name, pe, tc.stage, tc.operator, tc.field)
		}
		if sent := cmds.since(before); len(sent) > 0 {
			t.Errorf("%s: commands sent: %v, want none", tc.name, sent)
		}
	}

	// A signed field altered in the database fails verification.
	if _, err := plain.UpdateOne(ctx, d("_id", 4), d("$set", d("i", 40))); err != nil {
		t.Fatal(err)
	}
	cur, err := c.AggregateDocuments(ctx, bson.A{d("$match", d("status", "a")), d("$sort", d("_id", 1))})
	if err != nil {
		t.Fatal(err)
	}
	var out []bdoc
	err = cur.All(ctx, &out)
	wantAuthFailure(t, "tampered document", err, int32(4))
	if !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("err = %v", err)
	}
}

// TestAggregateDDBEC: on a DDBEC collection the material description and
// the signature are refused like the DB-ESDK's fields, and a pipeline over
// DoNothing and signed fields passes the checks (the client points at a
// closed port: its error is then the driver's server selection).
func TestAggregateDDBEC(t *testing.T) {
	c := offlineColl(t, testConfig())
	ctx := ctxT(t)
	for _, tc := range []struct {
		pipeline bson.A
		operator string
		field    string
	}{
		{bson.A{d("$group", d("_id", "$*amzn-ddb-map-sig*"))}, "$group", "*amzn-ddb-map-sig*"},
		{bson.A{d("$match", d("*amzn-ddb-map-desc*", d("$exists", true))), d("$count", "n")}, "$match", "*amzn-ddb-map-desc*"},
		{bson.A{d("$sortByCount", "$profile.ssn")}, "$sortByCount", "profile.ssn"},
		{bson.A{d("$bucket", d("groupBy", "$visits", "boundaries", bson.A{0, 10}, "output", d("s", d("$max", "$secret"))))}, "$max", "secret"},
		{bson.A{d("$group", d("_id", nil, "top", d("$top", d("sortBy", d("card", 1), "output", "$email"))))}, "$top", "card"},
	} {
		_, err := c.Aggregate(ctx, tc.pipeline)
		var pe *PipelineError
		if !errors.As(err, &pe) || pe.Operator != tc.operator || pe.Field != tc.field {
			t.Errorf("%v: err = %v, want a *PipelineError about %s %s", tc.pipeline, err, tc.operator, tc.field)
		}
	}
	_, err := c.Aggregate(ctx, bson.A{
		d("$match", d("card", d("$exists", true), "profile.name", "ada")),
		d("$unwind", "$visits"),
		d("$group", d("_id", "$email", "visits", d("$sum", "$visits"), "top", d("$top", d("sortBy", d("visits", -1), "output", "$profile.name")))),
		d("$facet", d("n", bson.A{d("$count", "n")})),
	})
	var pe *PipelineError
	if err == nil || errors.As(err, &pe) || errors.Is(err, ErrUnsafeOperation) {
		t.Errorf("err = %v, want the driver's (nothing refused)", err)
	}
}
