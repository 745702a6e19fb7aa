// Package mapenc encrypts and signs plain Go values, maps and structs, into
// protected items for any store, and verifies and decrypts them back.
//
// Start with [New] (or [For] for one struct type): give it a name to bind
// into signatures, a provider from package cmp, and the actions. Then
//
//   - [Codec.EncryptMap] / [Codec.DecryptMap] for map[string]any;
//   - [Codec.Encrypt] / [Codec.Decrypt], or [TypedCodec.Encrypt] /
//     [TypedCodec.Decrypt], for structs, whose fields may carry their
//     actions in a tag: itemcrypto:"encrypt", "sign", "nothing", and
//     "partition" / "sort" for the key attributes;
//   - [Codec.EncryptJSON] / [Codec.DecryptJSON] where the store keeps JSON
//     documents; [MarshalJSON] / [UnmarshalJSON] convert between a protected
//     item and its JSON form.
//
// Values become items through attributevalue
// (github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue), exactly as
// attributevalue.MarshalMap and UnmarshalMap convert them: dynamodbav tags
// (names, omitempty, "-", stringset, unixtime...), embedded structs,
// Marshaler and Unmarshaler, time.Time as an RFC 3339 string. The protected
// item is a map[string]types.AttributeValue, which a DynamoDB client can
// store as it is; for other stores, keep its JSON form.
//
// # Actions and struct tags
//
// Every top-level attribute has an action: the Config's Overrides, else a
// struct tag, else Config.Default. A struct type's tags are read once per
// [Codec] (with reflect, on the type's first use) and cached; the hot path
// only looks the type up. A tag that contradicts the Config, or two tags
// naming the same key, is a [*TagError] naming the field. So is any layout
// in which attributevalue would drop a value without a word: two fields that
// encode to one attribute name (two tags, a tag taking another field's name,
// a field hiding a promoted one, one struct promoted twice), in the type or
// in a struct type inside it ([ErrDuplicateAttribute]), and a field named
// like a reserved attribute.
//
// Attribute names are case-sensitive, but attributevalue decodes an
// attribute into a field whose name matches it only case-insensitively when
// no field has its exact name. Decrypt drops such attributes before
// decoding: an unsigned "amount" can never overwrite a signed field Amount.
//
// # Searchable encryption (beacons)
//
// With Config.Search (the search package's configuration, the DB-ESDK
// format), every Encrypt, EncryptMap and EncryptJSON adds the item's
// DB-ESDK beacons to the protected item, with the DB-ESDK's names and
// values: aws_dbe_b_<beacon> outside the signature, signed beacons under
// their own names inside it, and the version tag aws_dbe_v_1. Decryption
// leaves the aws_dbe_ attributes out. A store that is not DynamoDB indexes
// what [Codec.Beacons] returns, answers a query by comparing the attribute
// of [Codec.Term] with its values, and hands the candidates to
// [Codec.DecryptMatch], which drops those that only collide (and, with a
// multi-tenant key source, other tenants' items). The Config's own actions
// must satisfy the beacons (New checks them: a standard beacon's attribute
// encrypted, a signed part SignOnly); a struct type whose tags do not is
// refused on use with the *search.ConfigError.
//
// # Security considerations
//
// What package itemcrypto guarantees holds here: Decrypt verifies the signature
// before it decrypts anything; every failure of authenticity (a changed,
// added, dropped or renamed signed attribute, a flipped ciphertext bit,
// another TableName) is an error matching itemcrypto.ErrAuthentication, and
// no value is decoded. Decrypt writes its output only on success.
//
// The actions are part of what a reader must know: decrypt an item with the
// type (or Config) that wrote it. A struct's itemcrypto tags change the
// actions of its items, so [Codec.DecryptMap], which uses the Config alone,
// verifies them only if the Config repeats the tags.
//
// Errors name attributes, fields and Go types, never values;
// attributevalue's own errors, which sometimes quote a value, are reachable
// only through [ConvertError.Err].
//
// DoNothing attributes are neither signed nor encrypted: they may change in
// the store without anyone noticing.
//
// # Compatibility
//
// A protected item is byte for byte what the AWS DynamoDB Encryption Client
// (Java, Python) writes for the same attribute values, table name and
// actions: items written here can be read there and the reverse, when both
// agree on how Go values map to attribute values (attributevalue's rules).
// The JSON form is DynamoDB JSON, as the AWS CLI and the itemcrypto command
// print it.
package mapenc
