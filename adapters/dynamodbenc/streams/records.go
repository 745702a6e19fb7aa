package streams

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// DecryptRecord is DecryptEventRecord for a record of the DynamoDB Streams
// API (dynamodbstreams GetRecords), which does not carry its stream's ARN:
// streamARN is the ARN of the stream it was read from (or the table's ARN).
// rec is not modified; the returned record has a new StreamRecord with new
// Keys and images (its string, time and number pointers are rec's).
func (d *Decrypter) DecryptRecord(ctx context.Context, streamARN string, rec streamtypes.Record) (streamtypes.Record, error) {
	out, rerr := d.streamRecord(ctx, streamARN, rec)
	if rerr != nil {
		return streamtypes.Record{}, rerr
	}
	return out, nil
}

// DecryptRecords is DecryptEvent for the records of a GetRecords page of
// the stream streamARN: the records decrypted (or passed through) in order,
// and a [*BatchError] naming those that failed, which are left out.
func (d *Decrypter) DecryptRecords(ctx context.Context, streamARN string, recs []streamtypes.Record) ([]streamtypes.Record, error) {
	outs := make([]streamtypes.Record, len(recs))
	errs := make([]*RecordError, len(recs))
	d.each(ctx, len(recs), func(ctx context.Context, i int) {
		outs[i], errs[i] = d.streamRecord(ctx, streamARN, recs[i])
		if errs[i] != nil {
			errs[i].Index = i
		}
	})
	kept := make([]streamtypes.Record, 0, len(outs))
	for i, r := range outs {
		if errs[i] == nil {
			kept = append(kept, r)
		}
	}
	return kept, batchError(errs)
}

func (d *Decrypter) streamRecord(ctx context.Context, streamARN string, rec streamtypes.Record) (streamtypes.Record, *RecordError) {
	fail := func(e *RecordError) (streamtypes.Record, *RecordError) {
		e.EventID, e.EventName = deref(rec.EventID), string(rec.EventName)
		if rec.Dynamodb != nil {
			e.SequenceNumber = deref(rec.Dynamodb.SequenceNumber)
		}
		return streamtypes.Record{}, e
	}
	name, err := TableName(streamARN)
	if err != nil {
		return fail(&RecordError{Err: err})
	}
	t := d.tables[name]
	if t == nil || rec.Dynamodb == nil {
		return rec, nil
	}
	sr := rec.Dynamodb
	keys, err := FromStreamsMap(sr.Keys)
	if err != nil {
		return fail(&RecordError{Table: name, Image: "Keys", Err: err})
	}
	if len(keys) == 0 {
		keys = nil
	}
	imgs := []image{{name: "NewImage"}, {name: "OldImage"}}
	for i, m := range []map[string]streamtypes.AttributeValue{sr.NewImage, sr.OldImage} {
		if m == nil {
			continue
		}
		if imgs[i].item, err = FromStreamsMap(m); err != nil {
			return fail(&RecordError{Table: name, Image: imgs[i].name, Key: keys, Err: err})
		}
	}
	plain, rerr := d.decryptImages(ctx, t, keys, imgs)
	if rerr != nil {
		return fail(rerr)
	}
	out := rec
	nsr := *sr
	out.Dynamodb = &nsr
	if rec.UserIdentity != nil {
		id := *rec.UserIdentity
		out.UserIdentity = &id
	}
	for dst, src := range map[*map[string]streamtypes.AttributeValue]map[string]types.AttributeValue{
		&nsr.Keys: keys, &nsr.NewImage: plain[0], &nsr.OldImage: plain[1],
	} {
		if *dst, err = ToStreamsMap(src); err != nil {
			return fail(&RecordError{Table: name, Key: keys, Err: err})
		}
	}
	if sr.Keys != nil && nsr.Keys == nil {
		nsr.Keys = map[string]streamtypes.AttributeValue{}
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
