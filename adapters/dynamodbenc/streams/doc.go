// Package streams verifies and decrypts the images of DynamoDB Streams
// records of tables written through dynamodbenc: the records a Lambda
// function receives (github.com/aws/aws-lambda-go/events.DynamoDBEvent,
// with its own attribute value type) and those the DynamoDB Streams API
// returns (github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types.Record).
//
// A [Decrypter] takes the same dynamodbenc.Config as the tables' writers
// and builds each table's item encryptor as dynamodbenc does
// (dynamodbenc.NewEncryptor). A record's table is the one its event source
// ARN names (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL, see
// [TableName]); records of other tables pass through as they are. For a
// configured table, NewImage and OldImage are verified and decrypted in
// either format (DDBEC or DB-ESDK, whatever each item is), with the
// DB-ESDK's beacons removed, and the record's Keys must be the key
// attributes of the verified images. A KEYS_ONLY record carries no
// signature: its Keys (primary-key attributes, which are stored in
// plaintext) are returned unverified.
//
// A record whose image does not verify is never dropped: it is a
// [*RecordError] naming the table, the event ID and the key attribute names
// (the key values are in its Key field, never in its message); the batch
// forms ([Decrypter.DecryptEvent], [Decrypter.DecryptRecords]) return the
// other records and a [*BatchError], whose BatchItemFailures a Lambda
// handler returns in its events.DynamoDBEventResponse.
//
// The conversions between the attribute values of Lambda events, of the
// DynamoDB Streams API and of DynamoDB ([FromLambdaMap], [ToLambdaMap],
// [FromStreamsMap], [ToStreamsMap]) are lossless for the ten DynamoDB types.
package streams
