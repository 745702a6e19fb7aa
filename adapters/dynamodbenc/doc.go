// Package dynamodbenc is a DynamoDB client that encrypts and signs items on
// the way in and verifies and decrypts them on the way out, in the item
// format of the AWS DynamoDB Encryption Client for Java and Python (DDBEC)
// or in that of the AWS Database Encryption SDK (DB-ESDK), with the
// DB-ESDK's beacons for searchable encryption. It takes attribute maps: an
// itemcrypto struct tag (itemcrypto:"encrypt") on a struct marshalled with
// attributevalue.MarshalMap never reaches it, and the table's Default
// applies; carry the tags into the configuration with mapenc.StructPolicy
// (see [Struct tags]), or use a typed [Table], which checks them.
//
// Start with [New]: give it the SDK client (a *dynamodb.Client, or anything
// with its method signatures: [API]) and, per table, a [TableConfig]: the
// format and its keys (a provider from package cmp for the DDBEC, a keyring
// for the DB-ESDK) and the actions (what to encrypt, what to sign). The
// [*Client] it returns has exactly the SDK's method signatures, so a data
// layer that holds the SDK client behind an interface of its own switches to
// encrypted items by changing one constructor; the SDK's paginators
// (dynamodb.NewQueryPaginator, NewScanPaginator, NewBatchGetItemPaginator)
// accept it too. Requests on tables that are not configured pass through
// untouched. Code that holds a concrete *dynamodb.Client, or a library that
// builds its own client from an aws.Config, uses the same protection as an
// option of the SDK's client instead: see [The SDK option].
//
// # Formats
//
// TableConfig.Format is what a table writes; reading takes the format from
// each item.
//
//   - itemcrypto.FormatDDBEC, the zero value: the items of the AWS DynamoDB
//     Encryption Client, with *amzn-ddb-map-desc* and *amzn-ddb-map-sig*,
//     keys from TableConfig.Provider (package cmp). Java and Python services
//     read the items this client writes, and it reads theirs, when the table
//     name bound into signatures (TableConfig.SigningTableName, for Java's
//     @TableAadOverride), the key names and the actions agree;
//     TableConfig.WriteForm writes the canonical form of an old Java or
//     Python reader. A DDBEC table with TableConfig.DBESDK reads DB-ESDK
//     items too.
//   - itemcrypto.FormatDBESDK: the items of the AWS Database Encryption SDK
//     for DynamoDB, with aws_dbe_head and aws_dbe_foot, keys from the
//     keyring (or materials manager) of TableConfig.DBESDK, which is then
//     required. Every DoNothing attribute must be named in
//     DBESDK.AllowedUnsigned or carry DBESDK.AllowedUnsignedPrefix.
//
// The DB-ESDK's two overrides, at most one per table, serve a migration:
// DBESDK.LegacyPolicy reads DDBEC items in a DB-ESDK table
// (itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt) or keeps writing them
// (ForceLegacyEncryptAllowLegacyDecrypt), with the DDBEC Provider kept in
// the TableConfig; DBESDK.PlaintextPolicy reads plaintext items
// (ForbidPlaintextWriteAllowPlaintextRead) or keeps writing them
// (ForcePlaintextWriteAllowPlaintextRead). By default a DB-ESDK table
// refuses both kinds of item (itemcrypto.ErrFormatNotAllowed, in an
// [*ItemError]).
//
// # Operations
//
//   - PutItem, and every Put of BatchWriteItem and TransactWriteItems: the
//     item is encrypted and signed (with its beacons, see [Beacons]) before
//     anything is sent.
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
//     update cannot re-sign it. The client adds to the update's condition
//     attribute_exists of the attribute every protected item carries
//     (*amzn-ddb-map-sig* in the DDBEC format, aws_dbe_foot in the DB-ESDK
//     format), so that it never creates an unsigned item (updating a missing
//     item fails with ConditionalCheckFailedException); a table that writes
//     plaintext (DBESDK.PlaintextPolicy ForcePlaintextWriteAllowPlaintextRead,
//     or only DoNothing actions) gets no such condition.
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
//     names an encrypted attribute (DynamoDB would only see ciphertext)
//     without a beacon; attribute_exists and attribute_not_exists of a
//     whole encrypted attribute are allowed, since encryption keeps an
//     attribute's presence;
//   - a condition that the beacons cannot answer, and a key condition on a
//     beacon without IndexName (see [Beacons]);
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
// # Beacons
//
// A beacon is the DB-ESDK's searchable encryption: a truncated HMAC of an
// encrypted attribute's plaintext, stored beside the item as
// aws_dbe_b_<name>, so that a global secondary index keyed on it finds the
// items by the attribute's value (standard beacons) or by combinations and
// prefixes (compound beacons, virtual fields). A dynamodbenc user sets only
// TableConfig.Search (a search.Config: the beacons, their key source, their
// partitions), on a table in the DB-ESDK format without a legacy or
// plaintext override; the client does the rest of what package search
// describes:
//
//   - every write (PutItem, BatchWriteItem, TransactWriteItems) computes the
//     item's beacons from its plaintext and stores them with the encrypted
//     item; a signed beacon (a compound beacon with only signed parts) is
//     made SignOnly under its own name. An item that already holds an
//     aws_dbe_ attribute is refused (itemcrypto.ErrReservedAttribute): only
//     the client writes beacons;
//   - a Query or Scan whose KeyConditionExpression or FilterExpression names
//     a beaconed attribute (email = :e) is rewritten onto its beacon
//     (aws_dbe_b_email = the beacon of :e), and after decryption the items
//     that only a beacon collision brought are removed, the caller's
//     conditions evaluated on the plaintext: a page may then hold fewer
//     items than Limit, or none; Count counts the items returned,
//     ScannedCount and LastEvaluatedKey are DynamoDB's, so paginators work.
//     The beacons are removed from the items returned.
//
// A key condition on a beacon is a condition on aws_dbe_b_<name>, which no
// table has as its primary key: the Query must name, in IndexName, a global
// secondary index whose partition (or sort) key is aws_dbe_b_<name>. One
// without IndexName is refused before it is sent, with an
// [*UnsafeOperationError] that names the beacon, and the index to use when
// the client learnt the table's indexes from DescribeTable (it calls it when
// the TableConfig gives no PartitionKey). Also refused before anything is
// sent: a condition on an encrypted attribute without a beacon, an ordering
// or begins_with on a standard beacon, <> on any beacon, and Select COUNT
// of a query whose conditions use beacons (its count would include the
// collisions).
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
// format, operation, beacon, guard rail and error of this documentation
// holds, requests that cannot be made safe fail before they are sent, and
// the SDK's paginators work on the plain client. The option needs the
// tables' key names in the configuration (it cannot call DescribeTable, so
// a refused beacon query names no index), and its errors come inside the
// SDK's *smithy.OperationError, which errors.As and errors.Is see through.
// NewOption validates the configuration, so a bad one fails at
// construction, never at the first request.
//
// # Typed values
//
// [NewTable] returns a [Table] of one Go struct type over a configured
// table of a [Client], whose Put, Get, Delete, Query, Scan, BatchPut and
// BatchGet take and return that type (marshalled with attributevalue) and go
// through the client, so every rule above applies. It checks the type's
// itemcrypto tags against the table's configuration and refuses a type
// whose tags say anything else (another action, another key) with a
// *mapenc.TagError, so that a field tagged encrypt is never stored in
// plaintext because the TableConfig lacked its override.
//
// # Streams
//
// Package streams (adapters/dynamodbenc/streams) verifies and decrypts the
// images of DynamoDB Streams records, those a Lambda function receives and
// those the Streams API returns, for the tables of the same [Config], in
// either format and with the beacons removed. [NewEncryptor] returns the
// item encryptor a [Client] uses for a table, for reading its items where no
// Client is involved.
//
// # Struct tags
//
// The client takes attribute maps, so an itemcrypto struct tag
// (itemcrypto:"encrypt") on a struct marshalled with attributevalue.MarshalMap
// never reaches it, and the table's Default applies. Package mapenc reads the
// tags; carry them into a TableConfig with mapenc.StructPolicy, which returns
// the actions and key names they describe (see the example of New), or use a
// [Table], which refuses tags that disagree with the configuration.
//
// # Projections
//
// The signature covers every signed attribute, so an item read without
// some of them cannot be verified. A ProjectionExpression is therefore
// widened: with a DB-ESDK configuration (TableConfig.DBESDK), or when the
// default action signs, the whole item is read; otherwise (the DDBEC format
// with a DoNothing default) the projection gains every attribute the policy
// signs and the two reserved attributes. The caller's projection (nested paths and list indexes
// included) is then applied to the verified plaintext, so results are what
// DynamoDB returns for a plaintext table; the read costs the capacity of the
// widened item. Secondary indexes that are read must project every signed
// attribute and the reserved ones (ALL is simplest), or their items fail
// verification.
//
// # Errors
//
//   - [*UnsafeOperationError] (errors.Is(err, [ErrUnsafeOperation])): a
//     request refused before it is sent (see [Guard rails] and [Beacons]);
//     its Attribute names the attribute or beacon concerned, and its Err is
//     the *search.QueryError of a query the beacons cannot answer.
//   - [*ItemError]: an item of a request or a response that could not be
//     protected or verified (errors.Is(err, itemcrypto.ErrAuthentication)
//     for one that fails verification); the whole call fails with it.
//   - [*OpError]: any other failure of an operation on a configured table,
//     DynamoDB's included: errors.As finds the SDK's and smithy's types
//     (*types.ConditionalCheckFailedException, smithy.APIError) through it.
//   - A bad configuration fails [New], [NewOption] and [NewEncryptor].
//
// # Security considerations
//
// Encrypted attributes are stored as binary ciphertext; DynamoDB never sees
// their plaintext, and cannot compare, filter or index on it, except through
// beacons, which reveal which items probably share a value (see package
// search on choosing their length). Keys are never encrypted. Errors name
// attributes and key attributes, never values; an [*ItemError] carries the
// item's primary key (stored in plaintext) in its Key field for the caller,
// not in its message. A table named by its ARN is matched to its
// configuration by table name.
//
// Key conditions and filters are evaluated by DynamoDB on the stored values:
// an item whose signed attribute was altered so that it no longer matches is
// simply not returned, as with any query, while one that still matches fails
// verification. DoNothing attributes are outside the signature and may be
// altered freely.
//
// # Testing
//
// The package's integration tests run against dynalite, a local
// implementation of the DynamoDB API, in both forms (the wrapper and the
// option). dynalite 4.0.0 implements neither TransactWriteItems and
// TransactGetItems nor PartiQL (ExecuteStatement and friends), for which it
// answers UnknownOperationException: the transaction paths are tested over a
// test double that runs each item of a transaction as a single request
// against dynalite (not atomic, but dynalite validates and executes every
// request the client builds), and over an in-memory fake; PartiQL's guard
// rails fail before any request and are tested against dynalite, and its
// pass-through gets dynalite's error back untouched.
//
// [Struct tags]: #hdr-Struct_tags
// [Beacons]: #hdr-Beacons
// [Guard rails]: #hdr-Guard_rails
// [The SDK option]: #hdr-The_SDK_option
package dynamodbenc
