// Package dynamodbenc is a DynamoDB client that encrypts and signs items on
// the way in and verifies and decrypts them on the way out, with the item
// format of the AWS DynamoDB Encryption Client for Java and Python.
//
// Start with [New]: give it the SDK client (a *dynamodb.Client, or anything
// with its method signatures: [API]) and, per table, a provider from package
// cmp and the actions (what to encrypt, what to sign). The [*Client] it
// returns has exactly the SDK's method signatures, so a data layer that holds
// the SDK client behind an interface of its own switches to encrypted items by
// changing one constructor; the SDK's paginators (dynamodb.NewQueryPaginator,
// NewScanPaginator, NewBatchGetItemPaginator) accept it too. Requests on
// tables that are not configured pass through untouched.
//
// Code that holds a concrete *dynamodb.Client, or a library that builds its
// own client from an aws.Config (guregu/dynamo, for one), uses the same
// protection as an option of the SDK's client instead: see [The SDK option].
//
// Struct tags: the client takes attribute maps, so an itemcrypto struct tag
// (itemcrypto:"encrypt") on a struct marshalled with attributevalue.MarshalMap
// never reaches it, and the table's Default applies. Package mapenc reads the
// tags; carry them into a TableConfig with mapenc.StructPolicy, which returns
// the actions and key names they describe (see the example of New).
//
// Typed values: [NewTable] returns a [Table] of one Go struct type over a
// configured table, whose Put, Get, Delete, Query, Scan, BatchPut and
// BatchGet take and return that type (marshalled with attributevalue) and go
// through the client. It checks the type's itemcrypto tags against the
// table's configuration and refuses a type whose tags say anything else
// (another action, another key) with a *mapenc.TagError, so that a field
// tagged encrypt is never stored in plaintext because the TableConfig lacked
// its override.
//
// # Operations
//
//   - PutItem, and every Put of BatchWriteItem and TransactWriteItems: the
//     item is encrypted and signed before anything is sent.
//   - GetItem, Query, Scan, BatchGetItem, TransactGetItems: every returned
//     item is verified, then decrypted. An item that fails verification
//     (tampered, written unencrypted, written with other keys or actions)
//     fails the whole call with an [*ItemError] that names its key: no item
//     is ever dropped silently.
//   - ReturnValues of PutItem, UpdateItem and DeleteItem (ALL_OLD, ALL_NEW),
//     and the old item of a failed condition
//     (ReturnValuesOnConditionCheckFailure ALL_OLD, in a
//     ConditionalCheckFailedException or a TransactionCanceledException), are
//     verified and decrypted; an old item that does not verify is removed
//     from the error.
//   - BatchWriteItem returns UnprocessedItems as the caller's own plaintext
//     requests, and BatchGetItem returns UnprocessedKeys with the caller's
//     own projection, so both can be sent again as they are.
//   - UpdateItem (and the Update of TransactWriteItems) may touch only
//     DoNothing attributes: the signature covers the whole item and a partial
//     update cannot re-sign it. The client adds
//     attribute_exists(*amzn-ddb-map-sig*) to the update's condition, so that
//     it never creates an unsigned item (updating a missing item fails with
//     ConditionalCheckFailedException).
//   - DeleteItem, and the Delete and ConditionCheck of TransactWriteItems,
//     pass once their conditions are checked.
//   - Every other parameter (ConsistentRead, Limit, ExclusiveStartKey,
//     ReturnConsumedCapacity, ClientRequestToken, ...) passes through, and
//     so do the optFns of each call.
//
// # Guard rails
//
// On a configured table, these are refused with an [*UnsafeOperationError]
// (errors.Is(err, [ErrUnsafeOperation])) before any request is sent (the
// one request that may come first is the DescribeTable that learns a table's
// key names, when the configuration does not give them):
//
//   - a ConditionExpression, FilterExpression or KeyConditionExpression that
//     names an encrypted attribute (DynamoDB would only see ciphertext);
//     attribute_exists and attribute_not_exists of a whole encrypted attribute
//     are allowed, since encryption keeps an attribute's presence;
//   - an UpdateExpression that touches (sets, removes, adds to, deletes from,
//     or reads) any attribute that is not DoNothing, a key or a reserved
//     attribute;
//   - PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction)
//     whose statement names a configured table anywhere in its text;
//   - the legacy parameters AttributesToGet, QueryFilter, ScanFilter,
//     Expected, AttributeUpdates and ConditionalOperator: use their
//     expression forms (a Query's legacy KeyConditions, which some
//     libraries send, are translated into the KeyConditionExpression they
//     mean, and checked as such);
//   - an expression the client cannot read (it parses every expression to
//     find the attributes it names, resolving #placeholders; when in doubt it
//     refuses).
//
// # The SDK option
//
// [NewOption] returns a func(*dynamodb.Options) that makes the plain client
// encrypt: dynamodb.NewFromConfig(awsCfg, opt), dynamo.New(awsCfg, opt) of
// guregu/dynamo, or any constructor that takes client options (or one call:
// db.PutItem(ctx, in, opt)). It installs a middleware at the start of the
// client's Initialize step, where the typed input is seen before it is
// serialized and the typed output after it is deserialized, and there runs
// the same per-operation transforms as the [Client]'s methods: every
// operation, guard rail and error above holds, requests that cannot be made
// safe fail before they are sent, and the SDK's paginators work on the
// plain client. The option needs the tables' key names in the
// configuration (it cannot call DescribeTable), and its errors come inside
// the SDK's *smithy.OperationError, which errors.As and errors.Is see
// through. NewOption validates the configuration, so a bad one fails at
// construction, never at the first request.
//
// # Projections
//
// The signature covers every signed attribute, so an item read without
// some of them cannot be verified. A ProjectionExpression is therefore
// widened: when the default action signs, the whole item is read; when it is
// DoNothing, the projection gains every attribute the policy signs and the
// two reserved attributes. The caller's projection (nested paths and list
// indexes included) is then applied to the verified plaintext, so results
// are what DynamoDB returns for a plaintext table; the read costs the
// capacity of the widened item. Secondary indexes that are read must project
// every signed attribute and the two reserved ones (ALL is simplest), or
// their items fail verification.
//
// # Security considerations
//
// Encrypted attributes are stored as binary ciphertext; DynamoDB never sees
// their plaintext, and cannot compare, filter or index on it. Keys are never
// encrypted. Errors name attributes and key attributes, never values; an
// [*ItemError] carries the item's primary key (stored in plaintext) in its
// Key field for the caller, not in its message. A table named by its ARN is
// matched to its configuration by table name.
//
// Key conditions and filters are evaluated by DynamoDB on the stored values:
// an item whose signed attribute was altered so that it no longer matches is
// simply not returned, as with any query, while one that still matches fails
// verification. DoNothing attributes are outside the signature and may be
// altered freely.
//
// # Compatibility
//
// Items are those of the AWS DynamoDB Encryption Client ("DDBEC", the legacy
// client, not the AWS Database Encryption SDK): this client reads the items
// that Java and Python services already wrote, and they read ours, when the
// table name bound into signatures (see TableConfig.SigningTableName, for
// Java's @TableAadOverride), the key names and the actions agree.
//
// # Testing
//
// The package's integration tests run against dynalite, a local
// implementation of the DynamoDB API. dynalite 4.0.0 implements neither
// TransactWriteItems and TransactGetItems nor PartiQL (ExecuteStatement and
// friends), for which it answers UnknownOperationException: the transaction
// paths are tested over a test double that runs each item of a transaction
// as a single request against dynalite (not atomic, but dynalite validates
// and executes every request the client builds), and over an in-memory fake;
// PartiQL's guard rails fail before any request and are tested against
// dynalite, and its pass-through gets dynalite's error back untouched.
package dynamodbenc
