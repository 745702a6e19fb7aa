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
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/internal/rotate"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

type rotateFlags struct {
	crypt                  cryptFlags // table, keys and actions, as encrypt takes them
	fromKeys, fromProvider string
	fromKeyset             string
	toKeys, toProvider     string
	toKeyset               string
	insecure               bool
	endpoint, region       string
	checkpoint             string
	dryRun, noCount        bool
	rate                   float64
	segments               int
	logEvery               time.Duration
}

func newRotateCmd() *cobra.Command {
	var f rotateFlags
	cmd := &cobra.Command{
		Use:   "rotate --table NAME --partition-key NAME (--from-keys FILE | --from-keyset FILE) (--to-keys FILE | --to-keyset FILE) [flags]",
		Short: "Re-encrypt every item of a DynamoDB table under new keys",
		Long: `Re-encrypt every item of a DynamoDB table from one set of keys to another:
from a key file to a Tink keyset, from one key file to another, or from a
keyset's older keys to its primary key (pass the same rotated keyset file
as --from-keyset and --to-keyset).

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
The exit status is 0 only when every item ended up under the --to keys.

Ctrl-C (SIGINT or SIGTERM) stops after the items being written, saves the
position in the --checkpoint file and exits with status 1; rerun the same
command to resume. The file is removed when the table is done. A second
Ctrl-C stops at once; a rerun is still safe (items done count as current).

--dry-run verifies every item and says what would change, writing nothing.

The table name, keys and actions must be those the items were written with
(as for "itemcrypto decrypt"); both sides use the same actions. Credentials
and region come from the AWS default chain (environment, shared config,
SSO, instance role); with an --endpoint on this machine (dynalite, DynamoDB
Local) dummy credentials are used when none are configured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRotate(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.crypt.table, "table", "", "table to rotate; also the name bound into signatures (required)")
	fl.StringVar(&f.crypt.partitionKey, "partition-key", "", "partition key attribute name (required)")
	fl.StringVar(&f.crypt.sortKey, "sort-key", "", "sort key attribute name, if the table has one")
	fl.StringVar(&f.crypt.defaultAction, "default-action", "encrypt", "action of attributes not named otherwise: encrypt, sign or nothing")
	fl.StringSliceVar(&f.crypt.encrypt, "encrypt", nil, "attributes to encrypt and sign (comma-separated)")
	fl.StringSliceVar(&f.crypt.sign, "sign", nil, "attributes to sign only (comma-separated)")
	fl.StringSliceVar(&f.crypt.nothing, "nothing", nil, "attributes to leave alone, unsigned (comma-separated)")
	fl.StringVar(&f.fromKeys, "from-keys", "", "key file (itemcrypto keygen) the items are under now")
	fl.StringVar(&f.fromProvider, "from-provider", "wrapped", "provider of --from-keys: wrapped or static")
	fl.StringVar(&f.fromKeyset, "from-keyset", "", "Tink keyset file (cleartext, --insecure) the items are under now")
	fl.StringVar(&f.toKeys, "to-keys", "", "key file to move the items to")
	fl.StringVar(&f.toProvider, "to-provider", "wrapped", "provider of --to-keys: wrapped or static")
	fl.StringVar(&f.toKeyset, "to-keyset", "", "Tink keyset file (cleartext, --insecure) to move the items to, under its primary key")
	fl.BoolVar(&f.insecure, "insecure", false, "confirm that the keyset files are cleartext")
	fl.StringVar(&f.endpoint, "endpoint", "", "DynamoDB endpoint URL, e.g. http://127.0.0.1:8000 (default: AWS's)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: from the AWS config; us-east-1 for a local --endpoint)")
	fl.StringVar(&f.checkpoint, "checkpoint", "", "progress file to resume from (default: itemcrypto-rotate-TABLE.checkpoint here, none with --dry-run; --checkpoint= keeps none)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "verify every item and report what would change; write nothing")
	fl.Float64Var(&f.rate, "rate", 0, "at most this many items per second (0: no limit)")
	fl.IntVar(&f.segments, "segments", rotate.DefaultSegments, "parallel Scan segments")
	fl.BoolVar(&f.noCount, "no-count", false, "do not count the items with a Select=COUNT scan when DescribeTable reports none")
	fl.DurationVar(&f.logEvery, "log-every", 10*time.Second, "without a terminal, log progress at least this often")
	cmd.MarkFlagRequired("table")
	cmd.MarkFlagRequired("partition-key")
	return cmd
}

func runRotate(cmd *cobra.Command, f *rotateFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if !cmd.Flags().Changed("checkpoint") && !f.dryRun {
		f.checkpoint = defaultCheckpoint(f.crypt.table)
	}
	if f.segments < 1 {
		return errors.New("--segments must be at least 1")
	}
	if f.rate < 0 {
		return errors.New("--rate must not be negative")
	}
	pol, err := f.crypt.policy()
	if err != nil {
		return err
	}
	if pol.NoOp() {
		return errors.New("every action is \"nothing\": items are neither encrypted nor signed, there is nothing to rotate")
	}
	source, srcDesc, err := f.side(stderr, "from", f.fromKeys, f.fromProvider, f.fromKeyset)
	if err != nil {
		return err
	}
	target, dstDesc, err := f.side(stderr, "to", f.toKeys, f.toProvider, f.toKeyset)
	if err != nil {
		return err
	}
	srcEnc, err := itemcrypto.New(itemcrypto.Config{TableName: f.crypt.table, Policy: pol, Provider: source})
	if err != nil {
		return err
	}
	dstEnc, err := itemcrypto.New(itemcrypto.Config{TableName: f.crypt.table, Policy: pol, Provider: target})
	if err != nil {
		return err
	}

	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	client, err := newDynamoDBClient(ctx, f.endpoint, f.region)
	if err != nil {
		return err
	}

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

	what := "Rotating"
	if f.dryRun {
		what = "Dry run: verifying"
	}
	fmt.Fprintf(stderr, "%s table %s from %s to %s (%d segments", what, f.crypt.table, srcDesc, dstDesc, f.segments)
	if f.rate > 0 {
		fmt.Fprintf(stderr, ", at most %g items/s", f.rate)
	}
	fmt.Fprintln(stderr, ")")

	prog := newProgress(stderr, f.crypt.table, f.logEvery, f.checkpoint)
	st, err := rotate.Run(sigCtx, client, rotate.Config{
		Table: f.crypt.table, Source: srcEnc, Target: dstEnc,
		Checkpoint: f.checkpoint, DryRun: f.dryRun, RateLimit: f.rate, Segments: f.segments, NoCount: f.noCount,
		Progress: prog.update,
	})
	prog.finish(st, err == nil)
	interrupted := errors.Is(err, rotate.ErrInterrupted)
	if err != nil && !interrupted && st.ScannedThisRun == 0 {
		return err // it never started
	}
	printSummary(stdout, f.crypt.table, st, err != nil)
	var why string
	switch {
	case err == nil && (st.Failed > 0 || st.Conflicts > 0):
		return quietError{"rotation incomplete"}
	case err == nil:
		return nil
	case interrupted:
		why = "interrupted"
	default:
		why = err.Error()
	}
	if f.checkpoint != "" {
		return fmt.Errorf("%s; rerun to resume (checkpoint %s)", why, f.checkpoint)
	}
	return fmt.Errorf("%s; no checkpoint was kept, so a rerun starts over (the items done then count as already current)", why)
}

// defaultCheckpoint is the checkpoint file in the current directory.
func defaultCheckpoint(table string) string {
	var b strings.Builder
	for _, r := range table {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return "itemcrypto-rotate-" + b.String() + ".checkpoint"
}

// side builds the provider of one side of the rotation from its flags, and
// says what it is (never showing key material).
func (f *rotateFlags) side(warn io.Writer, side, keys, provider, keysetPath string) (cmp.Provider, string, error) {
	switch {
	case keys != "" && keysetPath != "":
		return nil, "", fmt.Errorf("--%s-keys and --%s-keyset exclude each other", side, side)
	case keys != "":
		k, err := loadKeyFile(keys, warn)
		if err != nil {
			return nil, "", err
		}
		p, err := k.provider(provider)
		if err != nil {
			return nil, "", fmt.Errorf("--%s-provider: %w", side, err)
		}
		return p, fmt.Sprintf("%s keys %s", provider, keys), nil
	case keysetPath != "":
		if !f.insecure {
			return nil, "", fmt.Errorf("--%s-keyset: keyset files hold cleartext key material: pass --insecure to use one", side)
		}
		h, err := readKeysetFile(keysetPath, warn)
		if err != nil {
			return nil, "", err
		}
		p, err := tinkcmp.New(h)
		if err != nil {
			return nil, "", err
		}
		return p, fmt.Sprintf("keyset %s (primary key %d)", keysetPath, primaryOf(h)), nil
	}
	return nil, "", fmt.Errorf("name the keys to rotate %s: --%s-keys FILE or --%s-keyset FILE", side, side, side)
}

// newDynamoDBClient builds a client from the AWS default config chain, for
// endpoint when it is set. A local endpoint needs no AWS account: the
// instance metadata service is not asked, the region defaults to us-east-1
// and dummy credentials stand in when none are configured.
func newDynamoDBClient(ctx context.Context, endpoint, region string) (*dynamodb.Client, error) {
	local := false
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--endpoint %q is not an http(s) URL", endpoint)
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
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if !local {
			return nil, errors.New("no AWS region: pass --region or set AWS_REGION")
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
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
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
func printSummary(w io.Writer, table string, st rotate.Stats, interrupted bool) {
	verb := "Rotated"
	switch {
	case st.DryRun && interrupted:
		verb = "Dry run, interrupted:"
	case st.DryRun:
		verb = "Dry run of"
	case interrupted:
		verb = "Interrupted rotating"
	}
	fmt.Fprintf(w, "%s table %s: %d items in %v (%.0f items/s)", verb, table, st.ScannedThisRun, roundDuration(st.Elapsed), st.Rate())
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
			fmt.Fprintf(w, "  %v\n", is.Key)
		}
		if more := st.Conflicts - int64(len(st.ConflictKeys)); more > 0 {
			fmt.Fprintf(w, "  ... and %d more\n", more)
		}
	}
	if st.Failed > 0 {
		fmt.Fprintln(w, "Failures: left as they are:")
		for _, is := range st.Failures {
			fmt.Fprintf(w, "  %v: %s\n", is.Key, is.Reason)
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
