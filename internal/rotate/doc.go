// Package rotate re-encrypts every item of a DynamoDB table from one
// provider configuration to another: the engine of "itemcrypto rotate".
//
// Use [Run]. It scans the table (the SDK's Scan paginator, consistent reads,
// optionally in parallel segments), verifies and decrypts each item with the
// source [itemcrypto.Encryptor], encrypts it with the target and writes it
// back with a condition on the signature it read, so that an item another
// writer changed or deleted in the meantime is never overwritten: it is
// counted and reported as a conflict, and a later run rotates it.
//
// # What "already current" means
//
// An item is current when it verifies under the target and was written with
// the target's current key: the key-identifying entries of its material
// description (algorithms, a Tink keyset key ID, a MostRecent material
// version; never the per-item wrapped key) equal those of an item the target
// encrypts now. Verifying under the target alone is not enough, since after
// a Tink keyset or MostRecent rotation the target still reads items of its
// older keys. [Config].IsCurrent replaces the description check where it
// cannot tell (Direct KMS with a new KMS key, for one); the target must still
// verify the item.
//
// # Interruption and resumption
//
// Items of a segment are processed in scan order, and after each item the
// segment's position is the item's key, which is what DynamoDB's own
// LastEvaluatedKey is. The checkpoint file records every segment's position
// and the counts so far; it is written after each page, every few seconds,
// and when the run stops. When ctx is cancelled, every segment finishes the
// item it is writing (its writes do not see the cancellation), the
// checkpoint is written and Run returns an error matching [ErrInterrupted].
// A later Run with the same table and settings resumes after the recorded
// positions, and removes the file when the table is done.
//
// # Security considerations
//
// Nothing is logged or reported but item keys (the partition and sort key,
// which DynamoDB stores in plaintext) and counts. Failure reasons are the
// errors of package itemcrypto and the providers, which never carry values.
// Plaintext lives in memory only between decrypting and encrypting one item.
package rotate
