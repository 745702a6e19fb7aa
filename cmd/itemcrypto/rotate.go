package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mongooptions "go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/term"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyfile"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/rotate"
	"github.com/itemcrypto/go-itemcrypto/search"
)

type rotateFlags struct {
	crypt            cryptFlags // table, keys and actions, as encrypt takes them
	from, to         sideFlags
	insecure         bool
	metastoreKeys    string
	newVersion       bool
	kmsEndpoint      string
	endpoint, region string
	checkpoint       string
	dryRun, noCount  bool
	rate             float64
	segments         int
	segmentRange     string
	pageSize         int32
	mongoURI         string
	collection       string
	signingName      string
	logEvery         time.Duration
	toBeacons        []string // --to-beacon NAME:LENGTH[:PATH]
	toBeaconKey      string
	dropBeacons      bool
}

// sideFlags name the keys of one side of a rotation: exactly one of a key
// file, a Tink keyset file, a MostRecent material in a meta table, or a KMS
// key (Direct KMS).
type sideFlags struct {
	keys, provider      string
	keyset              string
	metastore, material string
	kmsKey              string
	// format is the side's item format; dbesdk takes --X-keys only, as a
	// raw keyring of namespace and name.
	format, namespace, name string
	suite                   string
}

// sideKeys are the keys of one side: a provider (DDBEC) or a keyring
// (DB-ESDK).
type sideKeys struct {
	format   itemcrypto.Format
	provider cmp.Provider
	keyring  keyring.Keyring
	suite    keyring.Suite
	desc     string // what they are, for people; never key material
}

// mostRecentTTL is how long the MostRecent providers of a rotation use a
// material version before asking the meta table again.
const mostRecentTTL = time.Minute

func newRotateCmd() *cobra.Command {
	var f rotateFlags
	cmd := &cobra.Command{
		Use:   "rotate (--table NAME | --mongo URI --collection DB.COLL) FROM TO [flags]",
		Short: "Re-encrypt every item of a DynamoDB table, or every document of a MongoDB collection, under new keys",
		Long: `Re-encrypt every item of a DynamoDB table from one set of keys to another:
from a key file to a Tink keyset, from one key file to another, or from a
keyset's older keys to its primary key (pass the same rotated keyset file
as --from-keyset and --to-keyset).

FROM and TO each name exactly one kind of keys:

  --from-keys FILE [--from-provider wrapped|static]   a keygen key file
  --from-keyset FILE --insecure                       a cleartext Tink keyset
  --from-metastore TABLE --from-material NAME         MostRecent over a meta table
  --from-kms-key KEY                                  Direct KMS (key id, ARN or alias)

and the same with --to-. A meta table (reference layout: partition key N,
string; sort key V, number) must exist, in the same account, region and
--endpoint as the table; its own items are protected by the wrapped provider of
the key file given with --metastore-keys FILE (one file for both sides).
A material with no version gets version 0 when the target first writes.
KMS calls go to the region of a key ARN (otherwise --region or the AWS
config), or to --kms-endpoint (e.g. a local fake KMS).

Moving items to a new MostRecent version: name the same meta table and
material on both sides and add --new-version. It first creates the
material's next version (cmp.RotateProvider), which writers pick up within
their TTL, then moves every item of an older version to it; items already
under the new version count as current. An interrupted run is resumed by
the same command WITHOUT --new-version (with it, rotate refuses while the
checkpoint exists, rather than create yet another version). Without
--new-version, items move to the newest version that exists.

With a Direct KMS source, a Direct KMS target must be named by key id or
key ARN, not an alias: an alias does not check which key a data key
belongs to, so items of the source key would count as already current.

Each item is read (a consistent Scan, in --segments parallel segments),
verified and decrypted with the --from keys, encrypted with the --to keys,
and written back on condition that it still has the signature it was read
with. An item that another writer changed or deleted in the meantime is not
overwritten: it is reported as a conflict, and a rerun rotates it. Items
already under the --to keys are counted as already current and left alone;
items that verify under neither are reported as failures, by their key, and
left alone.

Progress goes to stderr: a progress bar on a terminal, otherwise a log line
every tenth of the table or every --log-every. The summary goes to stdout.
The exit status is 0 only when every item ended up under the --to keys;
conflicts, failures or an interruption give 6, a server or KMS error 5
("itemcrypto --help" lists them all).

Ctrl-C (SIGINT or SIGTERM) stops after the items being written, saves the
position in the --checkpoint file and exits with status 1; rerun the same
command to resume. The file is removed when the table is done. A second
Ctrl-C stops at once; a rerun is still safe (items done count as current).

--dry-run verifies every item and says what would change, writing nothing.

Format migration: --to-format dbesdk moves the items from the DDBEC format
(*amzn-ddb-map-desc*, *amzn-ddb-map-sig*) to the AWS Database Encryption
SDK's (aws_dbe_head, aws_dbe_foot), item by item with the same conditional
write-back; --from-format dbesdk --to-format ddbec moves them back (a
rollback). A dbesdk side takes --X-keys FILE only: a raw AES keyring over an
aes-hmac file's encryption key, or raw RSA (OAEP-SHA256) over an rsa file,
named by --X-key-namespace and --X-key-name (readers must use the same);
--to-suite picks the algorithm suite of new items (0x6701, the default, or
0x6700). Readers configured with the DB-ESDK legacy override
(FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT, with the DDBEC provider) read
every item while the table moves.

MongoDB: --mongo URI --collection DATABASE.COLLECTION rotates the documents
of a collection protected by adapters/mongoenc instead of a table. The
actions (--default-action, --encrypt, --sign, --nothing) name fields and
dotted paths, as mongoenc.Config's Default and Overrides; _id is the key;
--signing-name is Config.SigningName when the collection sets one. Segments
are _id ranges: the first process of a rotation computes them and keeps
them in the itemcrypto_rotate_plans collection of the same database, so
that every process splits the collection alike (every _id must have one
BSON type, the numeric types counting as one); --page-size is the number of
documents per find (default 100). Each document is written back with an
update on condition that it still has the signature (or DB-ESDK footer) it
was read with, setting only the fields the rotation changed.

MongoDB beacons: every document ends with exactly the target's beacons,
recomputed from its plaintext (aws_dbe_b_NAME and aws_dbe_v_1, as
mongoenc.Config.Search writes them); beacon fields the target does not have
are removed. --to-beacon NAME:LENGTH[:PATH] (repeatable) and --to-beacon-key
FILE (a keygen --type beacon file) give the target its standard beacons
(--to-format dbesdk); without them the target has none, so rotate refuses a
collection whose documents have beacons unless --drop-beacons says to
remove them. Documents already under the --to keys whose beacons differ get
their beacon fields alone rewritten, with the same condition, and count as
rotated: rotating to the same keys with --to-beacon is how an existing
collection gets beacons.

Table beacons: with --to-beacon and --to-beacon-key a table's items get
exactly these beacons too (aws_dbe_b_NAME and aws_dbe_v_1, as dynamodbenc
with TableConfig.Search writes them; PATH is a document path of the item),
recomputed from the plaintext, and items already under the --to keys whose
beacons differ get them rewritten (counted as rotated): this is how a table
moving from the DDBEC, or to another beacon key, gets the beacons its
readers query. Without --to-beacon a table's items keep the beacons they
have, as they are.

Many processes: --segments N --segment-range A-B runs only segments A to B
(0-based, inclusive) of the N, so that several processes, on as many
machines, share one rotation: give them all the same flags and --segments,
and ranges that together cover 0 to N-1 (e.g. 0-3 and 4-7 of 8). Each keeps
its own checkpoint (default itemcrypto-rotate-TABLE.segA-B-of-N.checkpoint)
and can be stopped and restarted alone; a finished range keeps its
checkpoint, every segment marked done, so that a restarted process has
nothing left to do. "itemcrypto rotate status FILE|DIR..." merges the
checkpoints into the state of the whole table.

The table name, keys and actions must be those the items were written with
(as for "itemcrypto decrypt"); both sides use the same actions. Key names
left out (--partition-key, --sort-key or --no-sort-key) are read from the
table's DescribeTable; those given are checked against it. Credentials
and region come from the AWS default chain (environment, shared config,
SSO, instance role); with an --endpoint on this machine (dynalite, DynamoDB
Local) dummy credentials are used when none are configured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRotate(cmd, &f)
		},
	}
	fl := cmd.Flags()
	f.crypt.addPolicyFlags(fl, "table to rotate (or --mongo); also the name bound into signatures")
	fl.StringVar(&f.from.keys, "from-keys", "", "key file (itemcrypto keygen) the items are under now")
	fl.StringVar(&f.from.provider, "from-provider", "wrapped", "provider of --from-keys: wrapped or static")
	fl.StringVar(&f.from.keyset, "from-keyset", "", "Tink keyset file (cleartext, --insecure) the items are under now")
	fl.StringVar(&f.from.metastore, "from-metastore", "", "meta table of the MostRecent material the items are under now")
	fl.StringVar(&f.from.material, "from-material", "", "material name in --from-metastore")
	fl.StringVar(&f.from.kmsKey, "from-kms-key", "", "KMS key (id, ARN or alias) of the Direct KMS items now")
	fl.StringVar(&f.to.keys, "to-keys", "", "key file to move the items to")
	fl.StringVar(&f.to.provider, "to-provider", "wrapped", "provider of --to-keys: wrapped or static")
	fl.StringVar(&f.to.keyset, "to-keyset", "", "Tink keyset file (cleartext, --insecure) to move the items to, under its primary key")
	fl.StringVar(&f.to.metastore, "to-metastore", "", "meta table of the MostRecent material to move the items to, under its newest version")
	fl.StringVar(&f.to.material, "to-material", "", "material name in --to-metastore")
	fl.StringVar(&f.to.kmsKey, "to-kms-key", "", "KMS key (id or ARN; an alias only from non-KMS keys) to move the items to, with Direct KMS")
	fl.StringVar(&f.metastoreKeys, "metastore-keys", "", "key file whose wrapped provider protects the meta table(s)")
	fl.BoolVar(&f.newVersion, "new-version", false, "first create the next version of the --to-metastore material (cmp.RotateProvider)")
	fl.StringVar(&f.kmsEndpoint, "kms-endpoint", "", "KMS endpoint URL, e.g. a local fake KMS (default: AWS's)")
	fl.BoolVar(&f.insecure, "insecure", false, "confirm that the keyset files are cleartext")
	fl.StringVar(&f.endpoint, "endpoint", "", "DynamoDB endpoint URL, e.g. http://127.0.0.1:8000 (default: AWS's)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: from the AWS config; us-east-1 for a local --endpoint)")
	fl.StringVar(&f.checkpoint, "checkpoint", "", "progress file to resume from (default: itemcrypto-rotate-TABLE.checkpoint here, none with --dry-run; --checkpoint= keeps none)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "verify every item and report what would change; write nothing")
	fl.Float64Var(&f.rate, "rate", 0, "at most this many items per second (0: no limit)")
	fl.IntVar(&f.segments, "segments", rotate.DefaultSegments, "segments the table is split into (parallel Scan segments); this process runs them all, or --segment-range")
	fl.Int32Var(&f.pageSize, "page-size", 0, "items per Scan request (its Limit; 0: DynamoDB's 1 MB pages); a killed process resumes from its last page")
	fl.StringVar(&f.segmentRange, "segment-range", "", "run only segments A-B (0-based, inclusive) of --segments, to share a rotation between processes")
	for _, sd := range []struct {
		name string
		s    *sideFlags
	}{{"from", &f.from}, {"to", &f.to}} {
		fl.StringVar(&sd.s.format, sd.name+"-format", "ddbec", "item format "+map[string]string{"from": "the items are in now", "to": "to move the items to"}[sd.name]+": ddbec or dbesdk (AWS Database Encryption SDK; --"+sd.name+"-keys only)")
		fl.StringVar(&sd.s.namespace, sd.name+"-key-namespace", "itemcrypto", "--"+sd.name+"-format dbesdk: the raw keyring's key namespace")
		fl.StringVar(&sd.s.name, sd.name+"-key-name", "default", "--"+sd.name+"-format dbesdk: the raw keyring's key name")
	}
	fl.StringVar(&f.to.suite, "to-suite", "", "--to-format dbesdk: algorithm suite of the new items, 0x6701 (ECDSA P-384, the default) or 0x6700")
	fl.BoolVar(&f.noCount, "no-count", false, "do not count the items with a Select=COUNT scan when DescribeTable reports none")
	fl.DurationVar(&f.logEvery, "log-every", 10*time.Second, "without a terminal, log progress at least this often")
	fl.StringVar(&f.mongoURI, "mongo", "", "rotate a MongoDB collection (adapters/mongoenc) at this connection string instead of a table: mongodb://HOST:PORT/")
	fl.StringVar(&f.collection, "collection", "", "with --mongo: the collection, DATABASE.COLLECTION")
	fl.StringVar(&f.signingName, "signing-name", "", "with --mongo: the name bound into signatures (default: the collection's DATABASE.COLLECTION, as mongoenc.Config.SigningName)")
	fl.StringSliceVar(&f.toBeacons, "to-beacon", nil, "with --to-format dbesdk: a standard beacon of the target, NAME:LENGTH[:PATH] (LENGTH bits, on attribute or field PATH, default NAME; comma-separated or repeated): the items or documents get exactly these beacons")
	fl.StringVar(&f.toBeaconKey, "to-beacon-key", "", "with --to-beacon: the beacon key file (itemcrypto keygen --type beacon)")
	fl.BoolVar(&f.dropBeacons, "drop-beacons", false, "with --mongo and no --to-beacon: remove the beacons of a collection that has some (without it, rotate refuses)")
	cmd.AddCommand(newRotateStatusCmd())
	return cmd
}

func runRotate(cmd *cobra.Command, f *rotateFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	switch {
	case f.mongoURI == "" && f.crypt.table == "":
		return usagef("name what to rotate: --table NAME (DynamoDB), or --mongo URI --collection DATABASE.COLLECTION")
	case f.mongoURI != "" && f.crypt.table != "":
		return usagef("--table and --mongo exclude each other: rotate one table or one collection")
	case f.mongoURI == "" && (f.collection != "" || f.signingName != ""):
		return usagef("--collection and --signing-name are for --mongo")
	case f.mongoURI != "" && f.collection == "":
		return usagef("--mongo needs --collection DATABASE.COLLECTION")
	case f.mongoURI != "" && (f.crypt.partitionKey != "" || f.crypt.sortKey != "" || f.crypt.noSortKey):
		return usagef("--partition-key, --sort-key and --no-sort-key are for tables: a collection's key is _id")
	case len(f.toBeacons) > 0 && f.toBeaconKey == "":
		return usagef("--to-beacon needs --to-beacon-key FILE (itemcrypto keygen --type beacon)")
	case len(f.toBeacons) == 0 && f.toBeaconKey != "":
		return usagef("--to-beacon-key is for --to-beacon NAME:LENGTH[:PATH]")
	case f.dropBeacons && (f.mongoURI == "" || len(f.toBeacons) > 0):
		return usagef("--drop-beacons is for --mongo without --to-beacon")
	}
	if tf, err := itemcrypto.ParseFormat(f.to.format); err == nil && len(f.toBeacons) > 0 && tf != itemcrypto.FormatDBESDK {
		return usagef("--to-beacon needs --to-format dbesdk: beacons are the DB-ESDK's")
	}
	if f.segments < 1 {
		return usagef("--segments must be at least 1")
	}
	var segRange *rotate.SegmentRange
	if f.segmentRange != "" {
		if !cmd.Flags().Changed("segments") {
			return usagef("--segment-range needs --segments N: every process of the rotation must name the same number of segments")
		}
		sr, err := rotate.ParseSegmentRange(f.segmentRange)
		if err != nil {
			return usagef("--segment-range: %w", err)
		}
		if sr.Last >= f.segments {
			return usagef("--segment-range %s: the segments are 0-%d", f.segmentRange, f.segments-1)
		}
		if sr.First > 0 || sr.Last < f.segments-1 {
			segRange = &sr
		}
	}
	if !cmd.Flags().Changed("checkpoint") && !f.dryRun {
		f.checkpoint = defaultCheckpoint(f.crypt.table+f.collection, f.segments, segRange)
	}
	if f.rate < 0 {
		return usagef("--rate must not be negative")
	}
	if f.pageSize < 0 {
		return usagef("--page-size must not be negative")
	}
	if err := f.checkSides(); err != nil {
		return usageError{err}
	}

	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if f.mongoURI != "" {
		return f.runMongo(ctx, stdout, stderr, segRange)
	}
	client, err := newDynamoDBClient(ctx, f.endpoint, f.region)
	if err != nil {
		return err
	}
	// Key names left out are read from DescribeTable; the rotation checks
	// the ones given against the table's schema itself.
	var describe describeFunc
	if !f.crypt.keysComplete() {
		describe = describeWith(client)
	}
	if err := f.crypt.resolveKeys(ctx, describe); err != nil {
		return err
	}
	pol, err := f.crypt.policy()
	if err != nil {
		return err
	}
	if pol.NoOp() {
		return usagef("every action is \"nothing\": items are neither encrypted nor signed, there is nothing to rotate")
	}
	var metaProvider cmp.Provider
	if f.metastoreKeys != "" {
		k, err := loadKeyFile(f.metastoreKeys, stderr)
		if err != nil {
			return fmt.Errorf("--metastore-keys: %w", err)
		}
		if metaProvider, err = k.Provider(keyfile.Wrapped); err != nil {
			return fmt.Errorf("--metastore-keys: %w", err)
		}
	}
	source, err := f.side(ctx, stderr, "from", f.from, client, metaProvider)
	if err != nil {
		return err
	}
	if f.newVersion {
		if f.checkpoint != "" {
			if _, err := os.Stat(f.checkpoint); err == nil {
				return fmt.Errorf("checkpoint %s exists: an interrupted rotation; rerun without --new-version to resume it (or remove the file)", f.checkpoint)
			}
		}
		store, err := metastore.New(client, f.to.metastore, metaProvider)
		if err != nil {
			return err
		}
		v, err := cmp.RotateProvider(ctx, store, f.to.material)
		if err != nil {
			return fmt.Errorf("--new-version: %w", err)
		}
		fmt.Fprintf(stderr, "Created version %d of material %s in meta table %s.\n", v, f.to.material, f.to.metastore)
	}
	target, err := f.side(ctx, stderr, "to", f.to, client, metaProvider)
	if err != nil {
		return err
	}
	srcCfg, dstCfg := encryptorConfigs(source, target, f.crypt.nothing)
	srcCfg.TableName, srcCfg.Policy = f.crypt.table, pol
	dstCfg.TableName, dstCfg.Policy = f.crypt.table, pol
	srcEnc, err := itemcrypto.New(srcCfg)
	if err != nil {
		return fmt.Errorf("the --from keys: %w", err)
	}
	beacons, err := f.targetSearch(stderr)
	if err != nil {
		return err
	}
	var dstSearch *search.Search
	if beacons != nil {
		dstCfg = beaconTarget(dstCfg)
		if dstSearch, err = search.New(*beacons, pol, func(o *search.Options) {
			o.LogicalTableName, o.AllowedUnsigned = f.crypt.table, dstCfg.DBESDK.AllowedUnsigned
		}); err != nil {
			return fmt.Errorf("--to-beacon: %w", err)
		}
	}
	dstEnc, err := itemcrypto.New(dstCfg)
	if err != nil {
		return fmt.Errorf("the --to keys: %w", err)
	}

	return f.execute(ctx, stdout, stderr, "table", f.crypt.table, source.desc, target.desc, segRange,
		func(ctx context.Context, cfg rotate.Config) (rotate.Stats, error) {
			cfg.Table, cfg.Source, cfg.Target, cfg.TargetSearch = f.crypt.table, srcEnc, dstEnc, dstSearch
			return rotate.Run(ctx, client, cfg)
		})
}

// encryptorConfigs returns the encryptor configurations of the two sides
// (without table name and policy). A DDBEC side of a format migration also
// reads the DB-ESDK items of the other side's keyring, and a DB-ESDK side
// also reads the DDBEC items of the other side's provider (the legacy
// override FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT), as the table's
// readers do while it moves. nothing lists the DoNothing attributes, which
// the DB-ESDK format must allow unsigned.
func encryptorConfigs(source, target sideKeys, nothing []string) (src, dst itemcrypto.Config) {
	config := func(own, other sideKeys) itemcrypto.Config {
		c := itemcrypto.Config{Format: own.format}
		dbesdk := func(kr keyring.Keyring) *itemcrypto.DBESDKConfig {
			return &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: nothing, Suite: own.suite}
		}
		switch {
		case own.format == itemcrypto.FormatDDBEC:
			c.Provider = own.provider
			if other.format == itemcrypto.FormatDBESDK {
				c.DBESDK = dbesdk(other.keyring)
			}
		default:
			c.DBESDK = dbesdk(own.keyring)
			if other.format == itemcrypto.FormatDDBEC {
				c.Provider = other.provider
				c.DBESDK.LegacyPolicy = itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt
			}
		}
		return c
	}
	return config(source, target), config(target, source)
}

// execute runs the rotation with the flags' settings: signals, progress,
// summary and exit status. kind and name say what is rotated: "table" or
// "collection", and its name.
func (f *rotateFlags) execute(ctx context.Context, stdout, stderr io.Writer, kind, name, srcDesc, dstDesc string, segRange *rotate.SegmentRange,
	run func(context.Context, rotate.Config) (rotate.Stats, error)) error {
	// The first Ctrl-C stops gracefully; then the default handling is back,
	// so a second one ends the process.
	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	returned := make(chan struct{})
	defer close(returned) // before stop: the goroutine then says nothing
	go func() {
		<-sigCtx.Done()
		stop()
		select {
		case <-returned:
		default:
			if ctx.Err() == nil {
				fmt.Fprintln(stderr, "\nInterrupted: finishing the items in flight and saving the checkpoint (Ctrl-C again to stop at once)...")
			}
		}
	}()

	verb := "Rotating"
	if f.dryRun {
		verb = "Dry run: verifying"
	}
	fmt.Fprintf(stderr, "%s %s %s from %s to %s (", verb, kind, name, srcDesc, dstDesc)
	if segRange != nil {
		fmt.Fprintf(stderr, "segments %s of %d", segRange, f.segments)
	} else {
		fmt.Fprintf(stderr, "%d segments", f.segments)
	}
	if f.rate > 0 {
		fmt.Fprintf(stderr, ", at most %g items/s", f.rate)
	}
	fmt.Fprintln(stderr, ")")

	prog := newProgress(stderr, name, f.logEvery, f.checkpoint)
	st, err := run(sigCtx, rotate.Config{
		Checkpoint: f.checkpoint, DryRun: f.dryRun, RateLimit: f.rate, Segments: f.segments, SegmentRange: segRange,
		PageSize: f.pageSize, NoCount: f.noCount, Progress: prog.update,
	})
	prog.finish(st, err == nil)
	interrupted := errors.Is(err, rotate.ErrInterrupted)
	if err != nil && !interrupted && st.ScannedThisRun == 0 {
		return err // it never started
	}
	printSummary(stdout, kind+" "+name, st, err != nil)
	var why string
	switch {
	case err == nil && (st.Failed > 0 || st.Conflicts > 0):
		return quietError{"rotation incomplete", errPartial}
	case err == nil:
		if segRange != nil && f.checkpoint != "" {
			fmt.Fprintf(stdout, "Segments %s of %d are done (checkpoint %s kept for \"itemcrypto rotate status\").\n", segRange, f.segments, f.checkpoint)
		}
		return nil
	case interrupted:
		why = "interrupted"
	default:
		why = err.Error()
	}
	if f.checkpoint != "" {
		return causedError{fmt.Sprintf("%s; rerun to resume (checkpoint %s)", why, f.checkpoint), err}
	}
	return causedError{fmt.Sprintf("%s; no checkpoint was kept, so a rerun starts over (the items done then count as already current)", why), err}
}

// defaultCheckpoint is the checkpoint file in the current directory: one
// per table, and per range of segments.
func defaultCheckpoint(table string, segments int, segRange *rotate.SegmentRange) string {
	var b strings.Builder
	for _, r := range table {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if segRange != nil {
		fmt.Fprintf(&b, ".seg%s-of-%d", segRange, segments)
	}
	return "itemcrypto-rotate-" + b.String() + ".checkpoint"
}

// checkSides checks that each side names exactly one kind of keys, and that
// the flags shared by the sides fit them, before anything is loaded.
func (f *rotateFlags) checkSides() error {
	for _, sd := range []struct {
		name string
		s    sideFlags
	}{{"from", f.from}, {"to", f.to}} {
		side, s := sd.name, sd.s
		var kinds []string
		for _, k := range []struct{ flag, val string }{
			{"keys", s.keys}, {"keyset", s.keyset}, {"metastore", s.metastore}, {"kms-key", s.kmsKey},
		} {
			if k.val != "" {
				kinds = append(kinds, "--"+side+"-"+k.flag)
			}
		}
		switch {
		case len(kinds) == 0 && s.material != "":
			return fmt.Errorf("--%s-material needs --%s-metastore TABLE", side, side)
		case len(kinds) == 0:
			return fmt.Errorf("name the keys to rotate %s: --%s-keys FILE, --%s-keyset FILE, --%s-metastore TABLE --%s-material NAME, or --%s-kms-key KEY",
				side, side, side, side, side, side)
		case len(kinds) > 1:
			return fmt.Errorf("%s exclude each other: name one kind of keys to rotate %s", strings.Join(kinds, " and "), side)
		case s.material != "" && s.metastore == "":
			return fmt.Errorf("--%s-material needs --%s-metastore TABLE", side, side)
		case s.metastore != "" && s.material == "":
			return fmt.Errorf("--%s-metastore needs --%s-material NAME", side, side)
		case s.metastore != "" && f.metastoreKeys == "":
			return fmt.Errorf("--%s-metastore needs --metastore-keys FILE: the key file that protects the meta table", side)
		case s.keyset != "" && !f.insecure:
			return errInsecure("--" + side + "-keyset")
		}
		format, err := itemcrypto.ParseFormat(s.format)
		if err != nil {
			return usagef("--%s-format: %w", side, err)
		}
		if format == itemcrypto.FormatDBESDK && s.keys == "" {
			return fmt.Errorf("--%s-format dbesdk needs --%s-keys FILE (a raw keyring over a keygen key file), not %s", side, side, kinds[0])
		}
		if format != itemcrypto.FormatDBESDK && s.suite != "" {
			return fmt.Errorf("--%s-suite is for --%s-format dbesdk", side, side)
		}
	}
	switch {
	case f.metastoreKeys != "" && f.from.metastore == "" && f.to.metastore == "":
		return errors.New("--metastore-keys is for --from-metastore or --to-metastore")
	case f.kmsEndpoint != "" && f.from.kmsKey == "" && f.to.kmsKey == "":
		return errors.New("--kms-endpoint is for --from-kms-key or --to-kms-key")
	case f.newVersion && f.to.metastore == "":
		return errors.New("--new-version creates the next version of the --to-metastore material: it needs --to-metastore")
	case f.newVersion && f.dryRun:
		return errors.New("--new-version writes a new material version to the meta table: not with --dry-run")
	case f.from.kmsKey != "" && isKMSAlias(f.to.kmsKey):
		return errors.New("--to-kms-key: from Direct KMS items, name the target key by key id or key ARN, not an alias (through an alias, items of the source key would count as already current)")
	}
	return nil
}

// isKMSAlias reports whether a KMS key reference is an alias name or ARN.
func isKMSAlias(id string) bool {
	return strings.HasPrefix(id, "alias/") || strings.Contains(id, ":alias/")
}

// side builds the keys of one side of the rotation from its flags (checked
// by checkSides), and says what they are (never showing key material).
func (f *rotateFlags) side(ctx context.Context, warn io.Writer, side string, s sideFlags, client *dynamodb.Client, metaProvider cmp.Provider) (sideKeys, error) {
	format, err := itemcrypto.ParseFormat(s.format)
	if err != nil {
		return sideKeys{}, usagef("--%s-format: %w", side, err)
	}
	if format == itemcrypto.FormatDBESDK {
		k, err := loadKeyFile(s.keys, warn)
		if err != nil {
			return sideKeys{}, err
		}
		kr, err := k.Keyring(s.namespace, s.name)
		if err != nil {
			return sideKeys{}, fmt.Errorf("--%s-keys: %w", side, err)
		}
		sk := sideKeys{format: format, keyring: kr,
			desc: fmt.Sprintf("DB-ESDK keyring %s/%s over keys %s", s.namespace, s.name, s.keys)}
		if s.suite != "" {
			if sk.suite, err = keyring.ParseSuite(s.suite); err != nil {
				return sideKeys{}, usagef("--%s-suite: %w", side, err)
			}
		}
		return sk, nil
	}
	p, desc, err := f.provider(ctx, warn, side, s, client, metaProvider)
	return sideKeys{format: format, provider: p, desc: desc}, err
}

// provider builds the DDBEC provider of one side.
func (f *rotateFlags) provider(ctx context.Context, warn io.Writer, side string, s sideFlags, client *dynamodb.Client, metaProvider cmp.Provider) (cmp.Provider, string, error) {
	switch {
	case s.keys != "":
		k, err := loadKeyFile(s.keys, warn)
		if err != nil {
			return nil, "", err
		}
		p, err := keysProvider(k, "--"+side+"-provider", s.provider)
		if err != nil {
			return nil, "", err
		}
		return p, fmt.Sprintf("%s keys %s", s.provider, s.keys), nil
	case s.keyset != "":
		h, err := readKeysetFile(s.keyset, warn)
		if err != nil {
			return nil, "", err
		}
		p, err := tinkcmp.New(h)
		if err != nil {
			return nil, "", err
		}
		return p, fmt.Sprintf("keyset %s (primary key %d)", s.keyset, primaryOf(h)), nil
	case s.metastore != "":
		store, err := metastore.New(client, s.metastore, metaProvider)
		if err != nil {
			return nil, "", fmt.Errorf("--%s-metastore: %w", side, err)
		}
		p, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: s.material, TTL: mostRecentTTL})
		if err != nil {
			return nil, "", fmt.Errorf("--%s-material: %w", side, err)
		}
		return p, fmt.Sprintf("MostRecent material %s in meta table %s", s.material, s.metastore), nil
	case s.kmsKey != "":
		c, err := newKMSClient(ctx, f.kmsEndpoint, f.region, s.kmsKey)
		if err != nil {
			return nil, "", err
		}
		p, err := cmp.NewDirectKMS(cmp.DirectKMSConfig{KMS: awskms.New(c), KeyID: s.kmsKey})
		if err != nil {
			return nil, "", fmt.Errorf("--%s-kms-key: %w", side, err)
		}
		return p, "Direct KMS key " + s.kmsKey, nil
	}
	return nil, "", fmt.Errorf("no keys to rotate %s", side) // checkSides prevents it
}

// newKMSClient builds a KMS client for keyID: in the region of a key ARN,
// otherwise region or the AWS config's, at endpoint when it is set (with
// the same fallbacks as newDynamoDBClient for a local endpoint).
func newKMSClient(ctx context.Context, endpoint, region, keyID string) (*kms.Client, error) {
	if parts := strings.SplitN(keyID, ":", 6); len(parts) == 6 && parts[0] == "arn" && parts[2] == "kms" && parts[3] != "" {
		region = parts[3]
	}
	cfg, err := loadAWSConfig(ctx, "--kms-endpoint", endpoint, region)
	if err != nil {
		return nil, err
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// newDynamoDBClient builds a client from the AWS default config chain, for
// endpoint when it is set. A local endpoint needs no AWS account: the
// instance metadata service is not asked, the region defaults to us-east-1
// and dummy credentials stand in when none are configured.
func newDynamoDBClient(ctx context.Context, endpoint, region string) (*dynamodb.Client, error) {
	cfg, err := loadAWSConfig(ctx, "--endpoint", endpoint, region)
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// loadAWSConfig loads the AWS default config chain for a client of
// endpoint (named by flag in errors), with newDynamoDBClient's fallbacks
// when the endpoint is on this machine.
func loadAWSConfig(ctx context.Context, flag, endpoint, region string) (aws.Config, error) {
	local := false
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, usagef("%s %q is not an http(s) URL", flag, endpoint)
		}
		local = isLocalHost(u.Hostname())
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if local {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if !local {
			return aws.Config{}, usagef("no AWS region: pass --region or set AWS_REGION")
		}
		cfg.Region = "us-east-1"
	}
	if local {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := cfg.Credentials.Retrieve(rctx)
		cancel()
		if err != nil {
			cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
		}
	}
	return cfg, nil
}

func isLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// progress shows a run's progress on stderr: a bar on a terminal, log lines
// otherwise.
type progress struct {
	w          io.Writer
	table      string
	checkpoint string
	logEvery   time.Duration
	tty        bool

	started  bool
	bar      *progressbar.ProgressBar
	prior    int64 // items done by earlier runs (resumed)
	begin    time.Time
	lastLog  time.Time
	lastN    int64
	step     int64 // log every step items
	problems int64
}

func newProgress(w io.Writer, table string, logEvery time.Duration, checkpoint string) *progress {
	p := &progress{w: w, table: table, logEvery: logEvery, checkpoint: checkpoint, begin: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// update is the rotate.Config.Progress callback (never called concurrently).
func (p *progress) update(st rotate.Stats) {
	if !p.started {
		p.start(st)
	}
	done := st.Scanned - p.prior
	if p.tty {
		if max := p.bar.GetMax64(); max > 0 && done > max {
			p.bar.ChangeMax64(done)
		}
		if n := st.Conflicts + st.Failed; n != p.problems {
			p.problems = n
			p.bar.Describe(fmt.Sprintf("%s (%d conflicts, %d failures)", p.table, st.Conflicts, st.Failed))
		}
		p.bar.Set64(done)
		return
	}
	if done-p.lastN >= p.step || time.Since(p.lastLog) >= p.logEvery {
		p.log(st)
	}
}

func (p *progress) start(st rotate.Stats) {
	p.started = true
	p.prior = st.Scanned - st.ScannedThisRun
	p.lastLog = time.Now()
	if st.Resumed {
		fmt.Fprintf(p.w, "Resuming from checkpoint %s: %d items were done before.\n", p.checkpoint, p.prior)
	}
	remaining := st.Total - p.prior
	if st.Total == 0 {
		remaining = -1 // unknown: a spinner
	} else if remaining <= 0 {
		remaining = 1
	}
	if p.tty {
		width := progressbar.OptionFullWidth()
		if f, ok := p.w.(*os.File); ok {
			if cols, _, err := term.GetSize(int(f.Fd())); err != nil || cols < 80 {
				width = progressbar.OptionSetWidth(20) // unknown or narrow: the counts matter more
			}
		}
		p.bar = progressbar.NewOptions64(remaining,
			progressbar.OptionSetWriter(p.w),
			width,
			progressbar.OptionSetDescription(p.table),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("items"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
		)
		return
	}
	p.step = 10000
	if remaining > 0 {
		p.step = max(1, (remaining+9)/10)
	}
}

func (p *progress) log(st rotate.Stats) {
	done := st.Scanned - p.prior
	p.lastLog, p.lastN = time.Now(), done
	el := time.Since(p.begin)
	rate := float64(done) / el.Seconds()
	var where string
	if st.Total > 0 {
		where = fmt.Sprintf("%d/%d items (%d%%)", st.Scanned, st.Total, min(100, 100*st.Scanned/st.Total))
		if left := st.Total - st.Scanned; left > 0 && rate > 0 {
			where += ", ETA " + roundDuration(time.Duration(float64(left)/rate*float64(time.Second))).String()
		}
	} else {
		where = fmt.Sprintf("%d items", st.Scanned)
	}
	rotated := "rotated"
	if st.DryRun {
		rotated = "to rotate"
	}
	fmt.Fprintf(p.w, "%s rotate %s: %s, %.0f items/s: %d %s, %d already current, %d conflicts, %d failures\n",
		time.Now().Format(time.TimeOnly), p.table, where, rate, st.Rotated, rotated, st.Current, st.Conflicts, st.Failed)
}

// finish closes the bar or logs the last line.
func (p *progress) finish(st rotate.Stats, complete bool) {
	if !p.started {
		return
	}
	if p.tty {
		if complete {
			p.bar.Finish()
		}
		fmt.Fprintln(p.w)
		return
	}
	if st.Scanned-p.prior != p.lastN {
		p.log(st)
	}
}

// printSummary prints the counts and the keys of the items not rotated.
// what is "table NAME" or "collection NAME".
func printSummary(w io.Writer, what string, st rotate.Stats, interrupted bool) {
	verb := "Rotated"
	switch {
	case st.DryRun && interrupted:
		verb = "Dry run, interrupted:"
	case st.DryRun:
		verb = "Dry run of"
	case interrupted:
		verb = "Interrupted rotating"
	}
	fmt.Fprintf(w, "%s %s: %d items in %v (%.0f items/s)", verb, what, st.ScannedThisRun, roundDuration(st.Elapsed), st.Rate())
	if st.Resumed {
		fmt.Fprintf(w, "; with the runs before, %d items", st.Scanned)
	}
	if st.DryRun {
		fmt.Fprint(w, "; nothing was written")
	}
	fmt.Fprintln(w, ".")
	rotated := "rotated:"
	if st.DryRun {
		rotated = "would rotate:"
	}
	fmt.Fprintf(w, "  %-17s %d\n  %-17s %d\n  %-17s %d\n  %-17s %d\n",
		rotated, st.Rotated, "already current:", st.Current, "conflicts:", st.Conflicts, "failures:", st.Failed)
	if st.Conflicts > 0 {
		fmt.Fprintln(w, "Conflicts: changed or deleted by another writer during the rotation, left as that writer left them; rerun to rotate them:")
		for _, is := range st.ConflictKeys {
			fmt.Fprintf(w, "  %s\n", is.ID)
		}
		if more := st.Conflicts - int64(len(st.ConflictKeys)); more > 0 {
			fmt.Fprintf(w, "  ... and %d more\n", more)
		}
	}
	if st.Failed > 0 {
		fmt.Fprintln(w, "Failures: left as they are:")
		for _, is := range st.Failures {
			fmt.Fprintf(w, "  %s: %s\n", is.ID, is.Reason)
		}
		if more := st.Failed - int64(len(st.Failures)); more > 0 {
			fmt.Fprintf(w, "  ... and %d more\n", more)
		}
	}
}

// roundDuration rounds d to what a person reads: tenths of a second below a
// minute, seconds above.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

func newRotateStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status CHECKPOINT|DIR...",
		Short: "Merge the checkpoints of a rotation's processes into the state of the whole table",
		Long: `Read the checkpoint files of the processes that share one rotation
(rotate --segments N --segment-range A-B; a directory stands for the
*.checkpoint files in it) and report the whole table: which segments are
done, in progress or not covered by any checkpoint, and the counts summed
over the processes. Copy the files together first (or keep them on a shared
volume) when the processes ran on several machines.

The files must belong to one rotation (same table, --segments, target keys
and kind of run) and each segment to one file. A process that was killed and
restarted processes again the items after its last checkpoint; they are
counted again, as already current.

The exit status is 0 only when every segment is done and no item conflicted
or failed, else 6.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := rotate.ReadStatus(args)
			if err != nil {
				return err
			}
			printStatus(cmd.OutOrStdout(), st)
			switch {
			case !st.Complete():
				return quietError{fmt.Sprintf("rotation incomplete: %d of %d segments done", len(st.Done), st.Segments), errPartial}
			case st.Stats.Failed > 0 || st.Stats.Conflicts > 0:
				return quietError{"rotation incomplete: conflicts or failures (rerun the processes that had them)", errPartial}
			}
			return nil
		},
	}
}

// printStatus prints a merged status.
func printStatus(w io.Writer, st *rotate.Status) {
	fmt.Fprintf(w, "Rotation of %s: %d segments, %d checkpoint files.\n", st.Table, st.Segments, len(st.Parts))
	for _, p := range st.Parts {
		n := p.Range.Last - p.Range.First + 1
		state := "done"
		if p.Done < n {
			state = fmt.Sprintf("%d/%d segments done", p.Done, n)
		}
		fmt.Fprintf(w, "  segments %-9s %-20s %d items: %d rotated, %d already current, %d conflicts, %d failures (%s, written %s)\n",
			p.Range, state, p.Stats.Scanned, p.Stats.Rotated, p.Stats.Current, p.Stats.Conflicts, p.Stats.Failed,
			p.Path, p.Written.Local().Format(time.DateTime))
	}
	fmt.Fprintf(w, "Segments done: %d of %d", len(st.Done), st.Segments)
	if len(st.Started) > 0 {
		fmt.Fprintf(w, "; in progress: %s", rotate.Ranges(st.Started))
	}
	if len(st.Missing) > 0 {
		fmt.Fprintf(w, "; in no checkpoint (not started, or a finished run over all segments): %s", rotate.Ranges(st.Missing))
	}
	if st.Complete() {
		fmt.Fprint(w, " (complete)")
	}
	fmt.Fprintln(w, ".")
	s := st.Stats
	if s.Total > 0 {
		fmt.Fprintf(w, "Items: %d processed of about %d.\n", s.Scanned, s.Total)
	} else {
		fmt.Fprintf(w, "Items: %d processed.\n", s.Scanned)
	}
	fmt.Fprintf(w, "  %-17s %d\n  %-17s %d\n  %-17s %d\n  %-17s %d\n",
		"rotated:", s.Rotated, "already current:", s.Current, "conflicts:", s.Conflicts, "failures:", s.Failed)
	for _, is := range s.ConflictKeys {
		fmt.Fprintf(w, "  conflict: %s\n", is.ID)
	}
	for _, is := range s.Failures {
		fmt.Fprintf(w, "  failure: %s: %s\n", is.ID, is.Reason)
	}
}

// runMongo rotates the collection of --mongo and --collection.
func (f *rotateFlags) runMongo(ctx context.Context, stdout, stderr io.Writer, segRange *rotate.SegmentRange) error {
	db, name, ok := strings.Cut(f.collection, ".")
	if !ok || db == "" || name == "" {
		return usagef("--collection %q: want DATABASE.COLLECTION", f.collection)
	}
	def, overrides, err := f.crypt.actions()
	if err != nil {
		return err
	}
	if def == actions.DoNothing && len(overrides) == 0 {
		return usagef("every action is \"nothing\": documents are neither encrypted nor signed, there is nothing to rotate")
	}
	var client *dynamodb.Client // for a meta table only
	var metaProvider cmp.Provider
	if f.from.metastore != "" || f.to.metastore != "" {
		if client, err = newDynamoDBClient(ctx, f.endpoint, f.region); err != nil {
			return err
		}
		k, err := loadKeyFile(f.metastoreKeys, stderr)
		if err != nil {
			return fmt.Errorf("--metastore-keys: %w", err)
		}
		if metaProvider, err = k.Provider(keyfile.Wrapped); err != nil {
			return fmt.Errorf("--metastore-keys: %w", err)
		}
	}
	if f.newVersion {
		return usagef("--new-version is for tables: create the material's next version with a table rotation, or cmp.RotateProvider")
	}
	source, err := f.side(ctx, stderr, "from", f.from, client, metaProvider)
	if err != nil {
		return err
	}
	target, err := f.side(ctx, stderr, "to", f.to, client, metaProvider)
	if err != nil {
		return err
	}
	beacons, err := f.targetSearch(stderr)
	if err != nil {
		return err
	}
	mc, err := mongo.Connect(mongooptions.Client().ApplyURI(f.mongoURI).SetServerSelectionTimeout(30 * time.Second))
	if err != nil {
		return fmt.Errorf("--mongo: %w", err)
	}
	defer mc.Disconnect(context.WithoutCancel(ctx))
	coll := mc.Database(db).Collection(name)
	if beacons == nil && !f.dropBeacons {
		// A target without beacons removes them: only on purpose.
		n, err := coll.CountDocuments(ctx, bson.D{{Key: search.VersionTag, Value: bson.D{{Key: "$exists", Value: true}}}}, mongooptions.Count().SetLimit(1))
		if err != nil {
			return fmt.Errorf("--mongo: looking for beacons in %s: %w", f.collection, err)
		}
		if n > 0 {
			return usagef("the documents of %s have beacons (%s): name the target's with --to-beacon NAME:LENGTH[:PATH] --to-beacon-key FILE to keep them, or pass --drop-beacons to remove them", f.collection, search.VersionTag)
		}
	}
	srcCfg, dstCfg := encryptorConfigs(source, target, f.crypt.nothing)
	collection := func(side string, c itemcrypto.Config) (*mongoenc.Collection, error) {
		mcfg := mongoenc.Config{Provider: c.Provider, Format: c.Format, DBESDK: c.DBESDK, Default: def, Overrides: overrides, SigningName: f.signingName}
		if side == "to" && beacons != nil {
			c = beaconTarget(c)
			mcfg.Provider, mcfg.DBESDK, mcfg.Search = c.Provider, c.DBESDK, beacons
		}
		enc, err := mongoenc.NewCollection(coll, mcfg)
		if err != nil && mcfg.Search != nil {
			return nil, fmt.Errorf("the --%s keys and --to-beacon: %w", side, err)
		}
		if err != nil {
			return nil, fmt.Errorf("the --%s keys: %w", side, err)
		}
		return enc, nil
	}
	src, err := collection("from", srcCfg)
	if err != nil {
		return err
	}
	dst, err := collection("to", dstCfg)
	if err != nil {
		return err
	}
	return f.execute(ctx, stdout, stderr, "collection", f.collection, source.desc, target.desc, segRange,
		func(ctx context.Context, cfg rotate.Config) (rotate.Stats, error) {
			return rotate.RunMongo(ctx, src, dst, cfg)
		})
}

// beaconTarget is the DB-ESDK target configuration c (of encryptorConfigs)
// made fit for beacons, which refuse the legacy override: the target reads
// DB-ESDK items only, the source the DDBEC ones.
func beaconTarget(c itemcrypto.Config) itemcrypto.Config {
	d := *c.DBESDK
	d.LegacyPolicy = itemcrypto.ForbidLegacyEncryptForbidLegacyDecrypt
	c.Provider, c.DBESDK = nil, &d
	return c
}

// targetSearch is the target's search configuration of --to-beacon and
// --to-beacon-key: standard beacons under the key of a beacon key file;
// nil without --to-beacon.
func (f *rotateFlags) targetSearch(warn io.Writer) (*search.Config, error) {
	if len(f.toBeacons) == 0 {
		return nil, nil
	}
	v := search.BeaconVersion{Version: 1,
		KeySource: search.KeySource{Single: &search.SingleKeySource{BranchKeyID: rotateBeaconKeyName, CacheTTL: time.Hour}}}
	for _, spec := range f.toBeacons {
		b, err := parseBeaconFlag(spec)
		if err != nil {
			return nil, err
		}
		v.StandardBeacons = append(v.StandardBeacons, b)
	}
	k, err := loadKeyFile(f.toBeaconKey, warn)
	if err != nil {
		return nil, fmt.Errorf("--to-beacon-key: %w", err)
	}
	key, err := k.BeaconKey()
	if err != nil {
		return nil, fmt.Errorf("--to-beacon-key: %w", err)
	}
	defer clear(key)
	if v.KeyStore, err = search.NewBeaconKey(rotateBeaconKeyName, key); err != nil {
		return nil, fmt.Errorf("--to-beacon-key: %w", err)
	}
	return &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{v}}, nil
}

// rotateBeaconKeyName is the BranchKeyID of the --to-beacon-key key: any
// name, since a beacon's value depends on the key and the beacon's name
// only.
const rotateBeaconKeyName = "itemcrypto-rotate-beacon-key"

// parseBeaconFlag reads one --to-beacon: NAME:LENGTH or NAME:LENGTH:PATH.
func parseBeaconFlag(spec string) (search.StandardBeacon, error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) < 2 || parts[0] == "" || (len(parts) == 3 && parts[2] == "") {
		return search.StandardBeacon{}, usagef("--to-beacon %q: want NAME:LENGTH or NAME:LENGTH:PATH (e.g. email:16 or ssn:12:profile.ssn)", spec)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 || n > 63 {
		return search.StandardBeacon{}, usagef("--to-beacon %q: LENGTH must be a number of bits from 1 to 63 (itemcrypto beacon-length suggests one)", spec)
	}
	b := search.StandardBeacon{Name: parts[0], Length: n}
	if len(parts) == 3 {
		b.Loc = parts[2]
	}
	return b, nil
}
