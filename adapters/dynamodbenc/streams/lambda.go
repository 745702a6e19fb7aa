package streams

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DecryptEventRecord verifies and decrypts the images of one record of a
// Lambda DynamoDB event and returns the record with plaintext images: a
// new value, which shares nothing with rec (rec is not modified).
//
// The table is the one the record's eventSourceARN names. A record of a
// table outside the configuration is returned as it is. For a configured
// table, NewImage and OldImage (whichever the stream's view type carries)
// are verified and decrypted, as dynamodbenc reads items: either format,
// the DB-ESDK's beacons (aws_dbe_b_...) removed; the record's Keys must
// then be the key attributes of each verified image. A record without
// images (view type KEYS_ONLY, and the OldImage side of an INSERT or the
// NewImage side of a REMOVE) has nothing to verify: its Keys, stored in
// plaintext and outside any signature in the stream, are returned
// unverified. Any failure is a [*RecordError] naming the table, the event
// and the key attributes, with a zero record: unverified images are never
// returned.
func (d *Decrypter) DecryptEventRecord(ctx context.Context, rec events.DynamoDBEventRecord) (events.DynamoDBEventRecord, error) {
	out, rerr := d.eventRecord(ctx, rec)
	if rerr != nil {
		return events.DynamoDBEventRecord{}, rerr
	}
	return out, nil
}

// DecryptEvent decrypts every record of a Lambda DynamoDB event, as
// DecryptEventRecord does, Options.Concurrency at a time. It returns the
// records that were decrypted (or passed through), in the event's order,
// and, when some failed, a [*BatchError] with the [*RecordError] of each
// (its Index is the record's position in ev.Records): a failed record is
// not in the returned slice, and it is never dropped silently. A handler
// returns BatchError.BatchItemFailures in its events.DynamoDBEventResponse,
// and Lambda retries the batch from the first failed record; records after
// it that the handler processed come again (stream processing is
// at-least-once: process idempotently).
func (d *Decrypter) DecryptEvent(ctx context.Context, ev events.DynamoDBEvent) ([]events.DynamoDBEventRecord, error) {
	outs := make([]events.DynamoDBEventRecord, len(ev.Records))
	errs := make([]*RecordError, len(ev.Records))
	d.each(ctx, len(ev.Records), func(ctx context.Context, i int) {
		outs[i], errs[i] = d.eventRecord(ctx, ev.Records[i])
		if errs[i] != nil {
			errs[i].Index = i
		}
	})
	kept := make([]events.DynamoDBEventRecord, 0, len(outs))
	for i, r := range outs {
		if errs[i] == nil {
			kept = append(kept, r)
		}
	}
	return kept, batchError(errs)
}

func (d *Decrypter) eventRecord(ctx context.Context, rec events.DynamoDBEventRecord) (events.DynamoDBEventRecord, *RecordError) {
	fail := func(e *RecordError) (events.DynamoDBEventRecord, *RecordError) {
		e.EventID, e.SequenceNumber, e.EventName = rec.EventID, rec.Change.SequenceNumber, rec.EventName
		return events.DynamoDBEventRecord{}, e
	}
	name, err := TableName(rec.EventSourceArn)
	if err != nil {
		return fail(&RecordError{Err: err})
	}
	t := d.tables[name]
	if t == nil {
		return rec, nil
	}
	keys, err := FromLambdaMap(rec.Change.Keys)
	if err != nil {
		return fail(&RecordError{Table: name, Image: "Keys", Err: err})
	}
	if len(keys) == 0 {
		keys = nil
	}
	imgs := []image{{name: "NewImage"}, {name: "OldImage"}}
	for i, m := range []map[string]events.DynamoDBAttributeValue{rec.Change.NewImage, rec.Change.OldImage} {
		if m == nil {
			continue
		}
		if imgs[i].item, err = FromLambdaMap(m); err != nil {
			return fail(&RecordError{Table: name, Image: imgs[i].name, Key: keys, Err: err})
		}
	}
	plain, rerr := d.decryptImages(ctx, t, keys, imgs)
	if rerr != nil {
		return fail(rerr)
	}
	out := rec
	if out.UserIdentity != nil {
		id := *rec.UserIdentity
		out.UserIdentity = &id
	}
	for dst, src := range map[*map[string]events.DynamoDBAttributeValue]map[string]types.AttributeValue{
		&out.Change.Keys: keys, &out.Change.NewImage: plain[0], &out.Change.OldImage: plain[1],
	} {
		if *dst, err = ToLambdaMap(src); err != nil {
			return fail(&RecordError{Table: name, Key: keys, Err: err})
		}
	}
	if rec.Change.Keys != nil && out.Change.Keys == nil {
		out.Change.Keys = map[string]events.DynamoDBAttributeValue{}
	}
	return out, nil
}
