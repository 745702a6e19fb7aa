package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/vectors"
)

func newVectorsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vectors",
		Short: "Run or generate encrypted-item test vectors (DDBEC scenarios.json, DB-ESDK decrypt_*.json)",
		Long: `Run or generate encrypted-item test vectors in the manifest formats of the
AWS DynamoDB Encryption Client (test/vectors/encrypted_item/scenarios.json)
and of the AWS Database Encryption SDK (TestVectors decrypt_*.json, manifest
type aws-dbesdk-decrypt). The format is read from the manifest.`,
	}
	cmd.AddCommand(newVectorsRunCmd(), newVectorsGenerateCmd())
	return cmd
}

func newVectorsRunCmd() *cobra.Command {
	var network bool
	var plaintext []string
	cmd := &cobra.Command{
		Use:   "run MANIFEST... [--plaintext FILE]...",
		Short: "Decrypt and check every scenario of the manifests, and round-trip their plaintexts",
		Long: `Run every scenario of each manifest: decrypt each ciphertext item and compare
it with its plaintext, then encrypt each plaintext item and decrypt it back.
For a DB-ESDK manifest, every positive record must decrypt to its plaintext
(numbers and set order normalized) and round-trip under its configuration,
and every negative record must fail to decrypt.

Prints one line per scenario (PASS, FAIL or SKIP), then the totals as
"N passed, M failed, K skipped". Scenarios that need AWS KMS are skipped
unless --network is given; providers this build lacks are skipped. The
exit status is 1 when any scenario fails, 4 when a manifest cannot be read.

--plaintext replaces the plaintext file every DDBEC scenario names; given
more than once, the files are merged in order. The DB-ESDK's copy of the
legacy vectors names a plaintext.json it does not carry: run it with the
reference clients' plaintext.json, plus vectors/testdata/v1_complex.json
for its v1_complex scenario.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var counts [3]int
			for _, path := range args {
				kind, err := vectors.DetectManifest(path)
				if err != nil {
					return err
				}
				switch kind {
				case vectors.DBESDKManifestType, vectors.MPLDecryptManifestType, vectors.MPLKeyringTests:
					err = runRecordManifest(cmd, path, kind, &counts)
				default:
					err = runDDBECManifest(cmd, path, network, plaintext, &counts)
				}
				if err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d passed, %d failed, %d skipped\n", counts[vectors.Passed], counts[vectors.Failed], counts[vectors.Skipped])
			if n := counts[vectors.Failed]; n > 0 {
				return quietError{msg: fmt.Sprintf("%d scenarios failed", n)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&network, "network", false, "also run scenarios that need AWS KMS")
	cmd.Flags().StringArrayVar(&plaintext, "plaintext", nil, "plaintext file to use instead of the DDBEC scenarios' own (repeatable: merged in order)")
	return cmd
}

// runRecordManifest runs every record of a DB-ESDK decrypt manifest or an
// MPL keyring manifest (kind as DetectManifest gives it) and prints a line
// per record: outcome, file/id, description (type): detail.
func runRecordManifest(cmd *cobra.Command, path, kind string, counts *[3]int) error {
	var m interface {
		IDs() []string
		Close()
	}
	var run func(ctx context.Context, id string) (r vectors.Result, description, typ string)
	if kind == vectors.DBESDKManifestType {
		d, err := vectors.LoadDBESDK(path)
		if err != nil {
			return err
		}
		m, run = d, func(ctx context.Context, id string) (vectors.Result, string, string) {
			r, rec := d.RunDBESDK(ctx, id), d.Manifest.Tests[id]
			if r.Outcome == vectors.Passed && rec.Type == "positive-decrypt" {
				r.Reason = strings.TrimSpace("decrypted, round-tripped " + r.Reason)
			}
			return r, rec.Description, rec.Type
		}
	} else {
		p, err := vectors.LoadMPL(path)
		if err != nil {
			return err
		}
		m, run = p, func(ctx context.Context, id string) (vectors.Result, string, string) {
			return p.RunMPL(ctx, id), p.Tests[id].Description, p.Tests[id].Type
		}
	}
	defer m.Close()
	out := cmd.OutOrStdout()
	base := filepath.Base(path)
	for _, id := range m.IDs() {
		r, description, typ := run(cmd.Context(), id)
		counts[r.Outcome]++
		fmt.Fprintf(out, "%s  %s/%s  %s (%s): %s\n", r.Outcome, base, id, description, typ, r.Reason)
	}
	return nil
}

func runDDBECManifest(cmd *cobra.Command, path string, network bool, plaintext []string, counts *[3]int) error {
	suite, err := vectors.Load(path)
	if err != nil {
		return err
	}
	if len(plaintext) > 0 {
		if err := suite.UsePlaintext(plaintext...); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	width := 0
	for i := range suite.Manifest.Scenarios {
		width = max(width, len(suite.Manifest.Scenarios[i].Name()))
	}
	for i := range suite.Manifest.Scenarios {
		sc := &suite.Manifest.Scenarios[i]
		r := suite.Run(cmd.Context(), sc, vectors.RunOptions{Network: network})
		counts[r.Outcome]++
		var detail string
		switch r.Outcome {
		case vectors.Passed:
			detail = fmt.Sprintf("%d decrypted, %d round-tripped", r.Decrypted, r.RoundTrip)
			if r.Unmatched > 0 {
				detail += fmt.Sprintf(", %d without plaintext ignored", r.Unmatched)
			}
		default:
			detail = r.Reason
		}
		fmt.Fprintf(out, "%s  %-*s  %s %s: %s\n", r.Outcome, width, sc.Name(), sc.Provider, sc.Version, detail)
	}
	return nil
}

func newVectorsGenerateCmd() *cobra.Command {
	var from, outDir, forReader string
	cmd := &cobra.Command{
		Use:   "generate --from MANIFEST --out DIR [--for java|python]",
		Short: "Write Go-encrypted ciphertexts for every supported scenario of a manifest",
		Long: `Encrypt the plaintext items of every offline scenario of MANIFEST whose
provider this build supports, with the scenario's keys, provider and
actions, and write a new manifest into DIR:

  DIR/scenarios.json            the generated scenarios (file:// references relative to DIR)
  DIR/keys.json                 a copy of the manifest's keys file
  DIR/plaintext.json            a copy of the manifest's plaintext file
  DIR/ciphertext/go/NAME.json   per scenario, {"TableName": [items...]} in DynamoDB JSON

Beside the manifest's scenarios it writes Go's own (they need the manifest's
aesKey and hmacKey): "divergent", signed values whose canonical form differs
between the Java and the Python client (-0, numbers of 29-38 digits, binary
sets with high-bit members, strings mixing U+10000.. with U+E000..U+FFFF),
and static AES + ECDSA on P-256, P-384 and P-521 (fresh EC keys, added to
DIR/keys.json).

--for java or --for python signs in that client's canonical form, for it to
verify (the default signs numbers as Java and orders as Python). The Python
client cannot verify ECDSA, so --for python skips those scenarios.

Other scenarios are left out and listed as skipped. Check the result with
"itemcrypto vectors run DIR/scenarios.json".

From a DB-ESDK decrypt manifest (decrypt_*.json), every positive record's
plaintext is encrypted under its own configuration and written, in the same
manifest format, to DIR/<same file name> with a copy of the keys file as
DIR/keys.json; negative records are skipped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			form, err := itemcrypto.ParseForm(forReader)
			if err != nil {
				return err
			}
			kind, err := vectors.DetectManifest(from)
			if err != nil {
				return err
			}
			var written, skipped []string
			switch kind {
			case vectors.DBESDKManifestType:
				written, skipped, err = generateFrom(cmd.Context(), from, outDir, vectors.LoadDBESDK, (*vectors.DBESDKManifest).GenerateDBESDK)
			case vectors.MPLKeyringTests:
				written, skipped, err = generateFrom(cmd.Context(), from, outDir, vectors.LoadMPL, (*vectors.MPLManifest).GenerateMPL)
			case vectors.MPLDecryptManifestType:
				return fmt.Errorf("%s: an %s manifest holds stored data keys, not items; generate from the MPL's round-trip tests (mpl/test.json)", from, kind)
			default:
				suite, lerr := vectors.Load(from)
				if lerr != nil {
					return lerr
				}
				written, skipped, err = suite.Generate(cmd.Context(), outDir, func(o *vectors.GenerateOptions) { o.Form = form })
			}
			out := cmd.OutOrStdout()
			for _, name := range written {
				fmt.Fprintf(out, "WROTE  %s\n", name)
			}
			for _, s := range skipped {
				fmt.Fprintf(out, "SKIP   %s\n", s)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%d scenarios written to %s, %d skipped\n", len(written), outDir, len(skipped))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "source manifest (scenarios.json)")
	cmd.Flags().StringVar(&outDir, "out", "", "output directory (created if needed)")
	cmd.Flags().StringVar(&forReader, "for", "", "sign in this reference client's canonical form: java or python")
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("out")
	return cmd
}

// generateFrom loads a DB-ESDK or MPL manifest with load, writes what
// generate makes of it to outDir, and closes it.
func generateFrom[M interface{ Close() }](ctx context.Context, path, outDir string, load func(string) (M, error),
	generate func(M, context.Context, string) ([]string, []string, error)) (written, skipped []string, err error) {
	m, err := load(path)
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	return generate(m, ctx, outDir)
}
