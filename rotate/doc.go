// Package rotate re-encrypts every item of a DynamoDB table, or every
// document of a MongoDB collection of package mongoenc, from one
// configuration to another (other keys, or the other format). It is the
// engine of "itemcrypto rotate", and runs as well from a program of your
// own: a Lambda, a Step Functions task, a Kubernetes job (see the Example).
//
// The package is a module of its own
// (github.com/itemcrypto/go-itemcrypto/rotate), since its MongoDB store
// needs mongo-driver: programs that use only the core packages never carry
// it.
//
// Use [Run] for a table and [RunMongo] for a collection: one engine over
// a small store interface. It reads the items segment by segment (the
// segments of a parallel Scan, consistent reads; _id ranges of a
// collection), verifies and decrypts each item with the source
// [itemcrypto.Encryptor], encrypts it with the target and writes it back
// with a condition on the reserved attributes it was read with (the DDBEC
// signature and description, or the DB-ESDK header and footer, as the
// encryptors' ReservedAttributes name them), so that an item another
// writer changed or deleted in the meantime is never overwritten: it is
// counted and reported as a conflict, and a later run rotates it.
//
// # Beacons
//
// DynamoDB items keep their beacons (aws_dbe_b_..., outside the signature)
// as they were, which stays valid while the beacon key does, unless
// [Config.TargetSearch] is set: they then get exactly the target's beacons,
// recomputed from the plaintext, as MongoDB documents get exactly the
// target collection's (see [RunMongo]). A rotation is how a table or
// collection gets beacons, another beacon key, or loses them.
//
// # Many processes
//
// [Config].SegmentRange limits a process to some of the segments, so that
// processes on several machines share one rotation, each with its own
// checkpoint file; [ReadStatus] merges their checkpoints into the state of
// the whole table.
//
// # What "already current" means
//
// An item is current when it verifies under the target and was written with
// the target's current key: the key-identifying parts of what it stores
// (for a DDBEC item, the entries of its material description but the
// per-item wrapped key, a Tink keyset key ID, a MostRecent material
// version; for a DB-ESDK item, its header's suite and the keyrings'
// provider IDs and key names) equal those of an item the target encrypts
// now. Verifying under the target alone is not enough, since after a Tink
// keyset or MostRecent rotation the target still reads items of its older
// keys. [Config].IsCurrent replaces that check where it cannot tell
// (Direct KMS with a new KMS key, for one); the target must still verify
// the item.
//
// # Interruption and resumption
//
// Items of a segment are processed in key order, and after each item the
// segment's position is the item's key, which is what DynamoDB's own
// LastEvaluatedKey is (a document's _id for MongoDB). The checkpoint file
// records every segment's position and the counts so far; it is written
// after each page, every few seconds, and when the run stops. When ctx is
// cancelled, every segment finishes the item it is writing (its writes do
// not see the cancellation), the checkpoint is written and Run returns an
// error matching [ErrInterrupted]. A later Run with the same table and
// settings resumes after the recorded positions, and removes the file when
// the table is done (a range of segments keeps it, all done). A process
// killed outright resumes from its last checkpoint; the items it did since
// are found current.
//
// # Security considerations
//
// Nothing is logged or reported but item keys (the partition and sort key,
// which DynamoDB stores in plaintext; a document's _id) and counts. Failure
// reasons are the errors of package itemcrypto and the providers, which
// never carry values, and server error codes. Plaintext lives in memory
// only between decrypting and encrypting one item.
package rotate
