package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/itemcrypto/go-itemcrypto/internal/vectors"
)

func newVectorsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vectors",
		Short: "Run or generate encrypted-item test vectors (scenarios.json manifests)",
		Long: `Run or generate encrypted-item test vectors in the manifest format of the
AWS DynamoDB Encryption Client (test/vectors/encrypted_item/scenarios.json).`,
	}
	cmd.AddCommand(newVectorsRunCmd(), newVectorsGenerateCmd())
	return cmd
}

func newVectorsRunCmd() *cobra.Command {
	var network bool
	cmd := &cobra.Command{
		Use:   "run MANIFEST",
		Short: "Decrypt and check every scenario of a manifest, and round-trip its plaintexts",
		Long: `Run every scenario of a manifest: decrypt each ciphertext item and compare it
with its plaintext, then encrypt each plaintext item and decrypt it back.

Prints one line per scenario (PASS, FAIL or SKIP), then the totals as
"N passed, M failed, K skipped". Scenarios that need AWS KMS are skipped
unless --network is given; providers this build lacks are skipped. The
exit status is 1 when any scenario fails or the manifest cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			suite, err := vectors.Load(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			width := 0
			for i := range suite.Manifest.Scenarios {
				width = max(width, len(suite.Manifest.Scenarios[i].Name()))
			}
			var counts [3]int
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
			fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", counts[vectors.Passed], counts[vectors.Failed], counts[vectors.Skipped])
			if n := counts[vectors.Failed]; n > 0 {
				return quietError{fmt.Sprintf("%d scenarios failed", n)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&network, "network", false, "also run scenarios that need AWS KMS")
	return cmd
}

func newVectorsGenerateCmd() *cobra.Command {
	var from, outDir string
	cmd := &cobra.Command{
		Use:   "generate --from MANIFEST --out DIR",
		Short: "Write Go-encrypted ciphertexts for every supported scenario of a manifest",
		Long: `Encrypt the plaintext items of every offline scenario of MANIFEST whose
provider this build supports, with the scenario's keys, provider and
actions, and write a new manifest into DIR:

  DIR/scenarios.json            the generated scenarios (file:// references relative to DIR)
  DIR/keys.json                 a copy of the manifest's keys file
  DIR/plaintext.json            a copy of the manifest's plaintext file
  DIR/ciphertext/go/NAME.json   per scenario, {"TableName": [items...]} in DynamoDB JSON

Other scenarios are left out and listed as skipped. Check the result with
"itemcrypto vectors run DIR/scenarios.json".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			suite, err := vectors.Load(from)
			if err != nil {
				return err
			}
			written, skipped, err := suite.Generate(cmd.Context(), outDir)
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
	cmd.MarkFlagRequired("from")
	cmd.MarkFlagRequired("out")
	return cmd
}
