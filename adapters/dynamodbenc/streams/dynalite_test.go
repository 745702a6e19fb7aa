package streams

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// written is a table whose items were written through dynamodbenc on
// dynalite, and the stream records DynamoDB would have made of the writes.
type written struct {
	table   string
	tc      dynamodbenc.TableConfig
	changes []change
	// plain is the plaintext of each change's old and new image.
	plainOld, plainNew []item
}

// writeTable creates a table on dynalite and, through dynamodbenc, inserts
// alice/1 and bob/2, modifies alice/1 and deletes it, reading each stored
// item back raw (as a stream record's images hold it).
func writeTable(t *testing.T, tc dynamodbenc.TableConfig) written {
	t.Helper()
	ctx := ctxT(t)
	rawc := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, rawc, "pk", "S", "sk", "N")
	c, err := dynamodbenc.New(rawc, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{table: tc}})
	if err != nil {
		t.Fatal(err)
	}
	put := func(it item) item {
		t.Helper()
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
		out, err := rawc.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
			Key: item{"pk": it["pk"], "sk": it["sk"]}})
		if err != nil || out.Item == nil {
			t.Fatalf("raw GetItem: %v", err)
		}
		return out.Item
	}
	key := func(it item) item { return item{"pk": it["pk"], "sk": it["sk"]} }
	a1, b1, a2 := customer("alice", 1, 1), customer("bob", 2, 1), customer("alice", 1, 2)
	sa1, sb1, sa2 := put(a1), put(b1), put(a2)
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: key(a1)}); err != nil {
		t.Fatal(err)
	}
	return written{
		table: table, tc: tc,
		changes: []change{
			{name: "INSERT", key: key(a1), new: sa1},
			{name: "INSERT", key: key(b1), new: sb1},
			{name: "MODIFY", key: key(a1), old: sa1, new: sa2},
			{name: "REMOVE", key: key(a1), old: sa2},
		},
		plainOld: []item{nil, nil, a1, a2},
		plainNew: []item{a1, b1, a2, nil},
	}
}

func (w written) decrypter(t *testing.T, optFns ...func(*Options)) *Decrypter {
	t.Helper()
	d, err := New(dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{w.table: w.tc}}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// event unmarshals the JSON of the records into a Lambda event, as the
// Lambda runtime does.
func (w written) event(t *testing.T, table, view string, changes []change) events.DynamoDBEvent {
	t.Helper()
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(eventJSON(t, table, view, 100, changes...), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func lambdaItem(t *testing.T, m map[string]events.DynamoDBAttributeValue) item {
	t.Helper()
	it, err := FromLambdaMap(m)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func eventJSONOf(t *testing.T, ev events.DynamoDBEvent) []byte {
	t.Helper()
	j, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestLambdaEventDynalite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config func(testing.TB) dynamodbenc.TableConfig
		marker string // an attribute every stored item has
	}{
		{"DDBEC", ddbecConfig, itemcrypto.SignatureAttribute},
		{"DBESDK", dbesdkConfig, search.BeaconPrefix + "card"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := writeTable(t, tc.config(t))
			for _, c := range w.changes {
				for _, img := range []item{c.old, c.new} {
					if img != nil {
						if _, ok := img[tc.marker]; !ok {
							t.Fatalf("a stored item lacks %s: %s", tc.marker, show(img))
						}
					}
				}
			}
			d := w.decrypter(t, func(o *Options) { o.Concurrency = 2 })
			ctx := ctxT(t)
			for _, view := range []string{"NEW_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"} {
				ev := w.event(t, w.table, view, w.changes)
				before := eventJSONOf(t, ev)
				got, err := d.DecryptEvent(ctx, ev)
				if err != nil {
					t.Fatalf("%s: DecryptEvent: %v", view, err)
				}
				if !bytes.Equal(before, eventJSONOf(t, ev)) {
					t.Errorf("%s: DecryptEvent modified its argument", view)
				}
				if len(got) != len(w.changes) {
					t.Fatalf("%s: %d records, want %d", view, len(got), len(w.changes))
				}
				for i, r := range got {
					c := w.changes[i]
					if r.EventID != ev.Records[i].EventID || r.EventName != c.name || r.Change.SequenceNumber != ev.Records[i].Change.SequenceNumber ||
						r.EventSourceArn != streamARN(w.table) || r.Change.StreamViewType != view {
						t.Errorf("%s record %d: identity changed: %+v", view, i, r)
					}
					wantItem(t, view+" Keys", lambdaItem(t, r.Change.Keys), c.key)
					wantNew, wantOld := w.plainNew[i], w.plainOld[i]
					switch view {
					case "NEW_IMAGE":
						wantOld = nil
					case "KEYS_ONLY":
						wantNew, wantOld = nil, nil
					}
					for _, img := range []struct {
						name      string
						got, want item
					}{{"NewImage", lambdaItem(t, r.Change.NewImage), wantNew}, {"OldImage", lambdaItem(t, r.Change.OldImage), wantOld}} {
						if (img.got == nil) != (img.want == nil) {
							t.Errorf("%s record %d (%s): %s present %v, want %v", view, i, c.name, img.name, img.got != nil, img.want != nil)
							continue
						}
						wantItem(t, view+" "+c.name+" "+img.name, img.got, img.want)
					}
				}
			}

			// The same records from the DynamoDB Streams API.
			recs := streamRecords(t, w.changes)
			before := streamJSON(t, recs)
			got, err := d.DecryptRecords(ctx, streamARN(w.table), recs)
			if err != nil {
				t.Fatalf("DecryptRecords: %v", err)
			}
			if !bytes.Equal(before, streamJSON(t, recs)) {
				t.Errorf("DecryptRecords modified its argument")
			}
			for i, r := range got {
				newImg, err := FromStreamsMap(r.Dynamodb.NewImage)
				if err != nil {
					t.Fatal(err)
				}
				oldImg, err := FromStreamsMap(r.Dynamodb.OldImage)
				if err != nil {
					t.Fatal(err)
				}
				wantItem(t, "Streams API NewImage", newImg, w.plainNew[i])
				wantItem(t, "Streams API OldImage", oldImg, w.plainOld[i])
				if *r.EventID != *recs[i].EventID || *r.Dynamodb.SequenceNumber != *recs[i].Dynamodb.SequenceNumber {
					t.Errorf("Streams API record %d: identity changed", i)
				}
			}
		})
	}
}

// streamRecords are the changes as GetRecords returns them, view type
// NEW_AND_OLD_IMAGES.
func streamRecords(t *testing.T, changes []change) []streamtypes.Record {
	t.Helper()
	conv := func(it item) map[string]streamtypes.AttributeValue {
		m, err := ToStreamsMap(it)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	var out []streamtypes.Record
	for i, c := range changes {
		out = append(out, streamtypes.Record{
			AwsRegion: aws.String("us-east-1"), EventID: aws.String("e" + string(rune('0'+i))),
			EventName: streamtypes.OperationType(c.name), EventSource: aws.String("aws:dynamodb"), EventVersion: aws.String("1.1"),
			Dynamodb: &streamtypes.StreamRecord{
				Keys: conv(c.key), NewImage: conv(c.new), OldImage: conv(c.old),
				SequenceNumber: aws.String("9" + string(rune('0'+i))), SizeBytes: aws.Int64(100),
				StreamViewType: streamtypes.StreamViewTypeNewAndOldImages,
			},
		})
	}
	return out
}

func streamJSON(t *testing.T, recs []streamtypes.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		for _, m := range []map[string]streamtypes.AttributeValue{r.Dynamodb.Keys, r.Dynamodb.NewImage, r.Dynamodb.OldImage} {
			it, err := FromStreamsMap(m)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(show(it))
		}
	}
	return b.Bytes()
}

// tamper returns a copy of a stored item with one byte of an encrypted
// attribute flipped.
func tamper(it item) item {
	out := maps.Clone(it)
	v := bytes.Clone(it["card"].(*types.AttributeValueMemberB).Value)
	v[len(v)/2] ^= 1
	out["card"] = &types.AttributeValueMemberB{Value: v}
	return out
}

func TestTamperedRecordDynalite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config func(testing.TB) dynamodbenc.TableConfig
	}{{"DDBEC", ddbecConfig}, {"DBESDK", dbesdkConfig}} {
		t.Run(tc.name, func(t *testing.T) {
			w := writeTable(t, tc.config(t))
			d := w.decrypter(t)
			ctx := ctxT(t)
			changes := slicesClone(w.changes)
			changes[2].new = tamper(changes[2].new) // MODIFY alice: its new image
			signed := maps.Clone(changes[1].new)    // INSERT bob: a signed attribute changed
			signed["email"] = s("mallory@example.com")
			changes[1].new = signed
			ev := w.event(t, w.table, "NEW_AND_OLD_IMAGES", changes)

			got, err := d.DecryptEvent(ctx, ev)
			var be *BatchError
			if !errors.As(err, &be) || len(be.Records) != 2 {
				t.Fatalf("err = %v, want a *BatchError of 2 records", err)
			}
			if !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Errorf("err = %v, want one matching itemcrypto.ErrAuthentication", err)
			}
			if len(got) != 2 || got[0].EventID != ev.Records[0].EventID || got[1].EventID != ev.Records[3].EventID {
				t.Errorf("the records that verified: %d, want records 0 and 3", len(got))
			}
			for i, want := range []struct {
				index int
				key   item
				value string
			}{{1, w.changes[1].key, "bob"}, {2, w.changes[2].key, "alice"}} {
				re := be.Records[i]
				if re.Index != want.index || re.Table != w.table || re.EventID != ev.Records[want.index].EventID ||
					re.SequenceNumber != ev.Records[want.index].Change.SequenceNumber || re.Image != "NewImage" ||
					re.EventName != ev.Records[want.index].EventName {
					t.Errorf("RecordError %d = %+v", i, re)
				}
				wantItem(t, "RecordError.Key", re.Key, want.key)
				msg := re.Error()
				for _, part := range []string{w.table, re.EventID, "pk, sk", "NewImage"} {
					if !strings.Contains(msg, part) {
						t.Errorf("message %q lacks %q", msg, part)
					}
				}
				for _, value := range []string{want.value, "mallory", "4111"} {
					if strings.Contains(msg, value) {
						t.Errorf("message %q shows the value %q", msg, value)
					}
				}
			}
			failures := be.BatchItemFailures()
			if len(failures) != 2 || failures[0].ItemIdentifier != ev.Records[1].Change.SequenceNumber ||
				failures[1].ItemIdentifier != ev.Records[2].Change.SequenceNumber {
				t.Errorf("BatchItemFailures = %+v", failures)
			}

			// One record alone: the typed error, and no record.
			rec, err := d.DecryptEventRecord(ctx, ev.Records[2])
			var re *RecordError
			if !errors.As(err, &re) || !errors.Is(err, itemcrypto.ErrAuthentication) || rec.Change.NewImage != nil || rec.EventID != "" {
				t.Errorf("DecryptEventRecord(tampered) = %+v, %v", rec, err)
			}

			// The Streams API form fails the same records.
			_, err = d.DecryptRecords(ctx, streamARN(w.table), streamRecords(t, changes))
			if !errors.As(err, &be) || len(be.Records) != 2 || be.Records[0].Index != 1 || be.Records[1].Index != 2 ||
				!errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Errorf("DecryptRecords(tampered) err = %v", err)
			}

			// Keys that are not the verified image's.
			swapped := slicesClone(w.changes)
			swapped[0].key = w.changes[1].key
			_, err = d.DecryptEventRecord(ctx, w.event(t, w.table, "NEW_IMAGE", swapped[:1]).Records[0])
			if !errors.As(err, &re) || !errors.Is(err, itemcrypto.ErrAuthentication) || !strings.Contains(err.Error(), "Keys differ") {
				t.Errorf("Keys of another item: err = %v", err)
			}

			// An image without its signature: not an encrypted item.
			stripped := slicesClone(w.changes)
			plainImg := maps.Clone(w.plainNew[0])
			stripped[0].new = plainImg
			if _, err := d.DecryptEventRecord(ctx, w.event(t, w.table, "NEW_IMAGE", stripped[:1]).Records[0]); !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Errorf("a plaintext image: err = %v", err)
			}

			// Records of another table pass through untouched, tampered or not.
			other := w.event(t, "another-table", "NEW_AND_OLD_IMAGES", changes)
			out, err := d.DecryptEvent(ctx, other)
			if err != nil || !reflect.DeepEqual(out, other.Records) {
				t.Errorf("another table's records: err %v, changed %v", err, !reflect.DeepEqual(out, other.Records))
			}
		})
	}
}

func slicesClone(c []change) []change { return append([]change(nil), c...) }
