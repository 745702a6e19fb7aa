// Package mongoenc is a MongoDB collection (mongo-driver v2) that encrypts
// and signs documents on the way in and verifies and decrypts them on the
// way out.
//
// Start with [NewCollection]: give it the driver's *mongo.Collection, a
// provider from package cmp and the actions (what to encrypt, what to sign).
// The [*Collection] it returns has the driver's method signatures, except
// that Find returns this package's [*Cursor] (the driver's cursor cannot be
// built around decryption from outside the driver); a data layer that holds
// the collection behind an interface of its own switches to protected
// documents by changing one constructor.
//
// Struct tags: the collection reads none. An itemcrypto struct tag
// (itemcrypto:"encrypt") on a struct stored through it has no effect: the
// Config's actions, by BSON field path, decide. A [TypedCollection] (see
// [NewTypedCollection]) inserts and finds values of one Go struct type
// through the collection and reads the type's tags (with mapenc.ParseTag,
// under the names the bson package gives the fields: the bson tag, else the
// lower-cased Go name; nested structs as dotted paths): it refuses a type
// whose tags say anything else than the Config for their field paths, so
// that a field tagged encrypt is never stored in plaintext because the
// Config lacked its override. (mapenc.StructPolicy names fields as
// attributevalue does, which is not the bson package's rule.)
//
// # The document model
//
// Each top-level field is one attribute of the core's item model
// ([itemcrypto]), and so is each configured nested path ("profile.ssn"):
//
//   - an attribute's value is its raw BSON value with its type byte in
//     front, so an encrypted field decrypts to exactly the BSON type it had
//     (ObjectID, DateTime, Decimal128, int32 versus int64, embedded documents
//     and arrays, every binary subtype), and a signed field is signed over
//     its raw BSON bytes;
//   - an encrypted field is stored as a BSON binary of subtype 0
//     ([CiphertextSubtype]) holding its ciphertext, in the field's place (a
//     nested one inside its embedded document);
//   - the material description and the signature are stored as two more
//     binary fields of subtype 0, "*amzn-ddb-map-desc*" and
//     "*amzn-ddb-map-sig*", at the end of the document; a document to be
//     written may not carry them;
//   - _id is the partition key: never encrypted, always signed (a document
//     without _id gets a new ObjectID before it is signed, as the driver
//     would give it);
//   - the name bound into the signature is the namespace
//     "database.collection" (Config.SigningName overrides it), so a document
//     copied into another collection fails verification;
//   - the parent of a configured nested path is an attribute too: the rest
//     of its embedded document, with the configured children taken out, under
//     the action it inherits. Nested paths address embedded documents only: a
//     document where one runs through an array is refused
//     ([ErrArrayOnPath]).
//
// The signature covers every signed field's name and value, not the order
// of the fields: Find returns the fields in their stored order (which is
// the order they were written in; MongoDB moves _id first), and an attacker
// who can write to the database could reorder top-level fields, or the
// fields of a parent document around its configured children, unnoticed.
// The order inside a signed value (an embedded document or array that is
// not decomposed) is signed, as part of its bytes.
//
// # Operations
//
//   - InsertOne, InsertMany, ReplaceOne, FindOneAndReplace and the insert and
//     replace models of BulkWrite encrypt and sign every document before
//     anything is sent.
//   - FindOne, Find, FindOneAndReplace, FindOneAndDelete and FindOneAndUpdate
//     verify, then decrypt every document the server returns. A document
//     that fails verification (tampered, written unencrypted, written with
//     other keys or actions) fails the call, or that Next of a cursor, with a
//     [*DocumentError] naming its _id: no document is ever skipped silently.
//   - UpdateOne, UpdateMany, UpdateByID, FindOneAndUpdate and the update
//     models of BulkWrite may touch only DoNothing fields that hold no signed
//     field: the signature covers the whole document and a partial update
//     cannot re-sign it. Replace the whole document to change anything else.
//   - DeleteOne, DeleteMany and CountDocuments pass once their filters are
//     checked; EstimatedDocumentCount passes through.
//   - Aggregate runs a pipeline whose output documents it computes from
//     plaintext and signed fields ($group, $count, $project with inclusions,
//     ...) and returns the driver's *mongo.Cursor: its documents are the
//     server's computation, not protected documents, and nothing in them is
//     verified (a signed field is used as stored). Every stage and
//     expression is checked first, against an allow-list of stages; a
//     pipeline that reads an encrypted field, a beacon or the format's
//     fields, writes ($out, $merge), runs code ($function, $accumulator,
//     $where), joins another collection, or outputs stored documents is
//     refused with a [*PipelineError] naming the stage, the operator and the
//     field. AggregateDocuments runs a pipeline of $match, $sort, $skip and
//     $limit, whose output is whole stored documents, and verifies and
//     decrypts them as Find does (beacon conditions included).
//   - Distinct and Watch are not offered: their results cannot be verified.
//     [Collection.Unprotected] returns the driver's collection for what
//     must bypass the protection.
//   - [Collection.StoredItem] and [Collection.StoredDocument] map a stored
//     document onto the core's item and back, for tools that re-encrypt
//     stored documents without decoding them (itemcrypto rotate --mongo).
//
// # Guard rails
//
// These are refused with an [*UnsafeOperationError] (errors.Is(err,
// [ErrUnsafeOperation])) before any request is sent:
//
//   - a filter (of any operation, $expr included) that reads an encrypted
//     field, a field inside one, or a document holding one: the server only
//     sees ciphertext. {$exists: ...} of an encrypted field, or of a document
//     holding one, is allowed, since encryption keeps a field's presence.
//     Query operators the client cannot check ($where, $jsonSchema, ...) are
//     refused. With Config.Search (DB-ESDK beacons), Find, FindOne,
//     CountDocuments, DeleteOne, DeleteMany, UpdateOne, UpdateMany,
//     ReplaceOne, the FindOneAnd… family and BulkWrite allow equality with
//     strings ({f: "v"}, $eq, $in) on a field with a standard beacon,
//     membership ({f: "v"}, $eq, $in, $all) on an array of strings with an
//     AsSet beacon, equality on a compound beacon or a virtual field's
//     beacon named by the beacon's name, a literal prefix of a compound
//     beacon ([BeginsWith], or a $regex "^literal"), and $nor over any of
//     them (decided by the client: a scan); they drop beacon false
//     positives after decryption, and writes then act on each matching
//     document by its _id and the footer that was read (aws_dbe_foot), so a
//     colliding or concurrently changed document is never touched. With a
//     multi-tenant key source such a filter names its tenant by equality on
//     the key field. Anything else on a beaconed field (ranges, $ne, $not,
//     other regular expressions), a collation or an upsert beside it, and an
//     unordered BulkWrite with a beacon model are refused;
//   - a sort, or min/max index bounds, on such a field;
//   - an update that touches a signed or encrypted field, _id, a reserved
//     field, or a document holding a signed field; an aggregation-pipeline
//     update; an update with upsert (it could insert an unsigned document);
//   - a projection that is not a plain inclusion or exclusion of field paths
//     ($slice, $elemMatch, $meta, positional "a.$", expressions), and the
//     options ReturnKey and ShowRecordID: the server must return whole
//     documents so they can be verified.
//
// Projections of field paths work on any field, encrypted ones included:
// the server returns the whole document, and the client applies the
// projection to the verified plaintext (so a projected read costs the
// transfer of the whole document).
//
// A document to be written that carries a reserved field, a top-level field
// name with a '.' (it would read as a nested path), or a duplicate field name
// where the client splits documents into attributes (the top level, and the
// configured children of a parent document), fails with a [*DocumentError].
//
// # Security considerations
//
// Encrypted fields are stored as binary ciphertext; the server never sees
// their plaintext and cannot compare, index or sort them. DoNothing fields
// are outside the signature and may be altered freely, and an older version
// of a document (same _id) put back in its place still verifies: the format
// binds a document to its collection and _id, not to a point in time. Errors
// name fields, never values; a [*DocumentError] prints the _id only when it
// is an ObjectID or an integer (other _id values may be personal data) and
// carries it in its ID field. Filters are evaluated by the server on stored values:
// a document whose signed field was altered so that it no longer matches is
// simply not returned, as with any query, while one that still matches fails
// verification.
//
// Documents are marshaled with Options.Registry (default: the bson
// package's registry); the client's and the collection's registries and
// BSONOptions are not visible to this package. Decode and All unmarshal
// the decrypted bson.Raw with the same registry.
//
// # Compatibility
//
// The cryptography and the framing are those of the core (DDBEC v1: AES-CBC
// per attribute, an HMAC or RSA signature over the whole document). The
// mapping of BSON onto attributes is this package's own; readers and writers
// of a collection must agree on the actions and the signing name.
//
// # Testing
//
// The package's integration tests run against FerretDB v1 (a MongoDB
// wire-protocol server over SQLite; see scripts/ferretdb.sh). FerretDB v1
// cannot store some BSON types in plaintext (Decimal128, NaN, ±Inf, -0.0,
// MinKey, MaxKey, Undefined, JavaScript, Symbol, DBPointer, arrays directly
// inside arrays); encrypted, they are binary and round-trip through it like
// everything else.
package mongoenc
