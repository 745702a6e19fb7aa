package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/spf13/cobra"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// maxSampleLine bounds one line of a beacon-length sample.
const maxSampleLine = 1 << 20

func newBeaconLengthCmd() *cobra.Command {
	var (
		distinct  int
		attribute string
	)
	cmd := &cobra.Command{
		Use:   "beacon-length [FILE] [--attribute NAME] [--distinct N]",
		Short: "Suggest the length of a standard beacon from a sample of an attribute's values",
		Long: `Read a sample of an attribute's plaintext values and apply the DB-ESDK's rule
of thumb for the length N (in bits) of its standard beacon: with X distinct
values, sqrt(X) < 2^N < X/2. The upper bound makes every beacon value shared by
at least two plaintext values on average (a beacon alone does not tell which
items hold the same value); the lower bound keeps a query from reading most of
the table. Each bit less doubles the items a query reads and discards.

The sample is FILE (or standard input): one value per line, or, with
--attribute, one DynamoDB JSON item per line ({"email": {"S": "..."}, ...}),
of which the S, N or B value of NAME is taken. --distinct gives the number of
distinct values of the whole attribute when the sample sees fewer than exist.

Only counts are printed, never a value of the sample.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := cmd.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			samples, err := readSamples(in, attribute)
			if err != nil {
				return err
			}
			s, err := search.SuggestLength(samples, distinct)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "samples:            %d\n", len(samples))
			fmt.Fprintf(w, "distinct values:    %d\n", s.Distinct)
			fmt.Fprintf(w, "safe lengths:       %d..%d bits\n", s.Min, s.Max)
			fmt.Fprintf(w, "suggested length:   %d bits (about %.1f distinct values per beacon value)\n", s.Suggested, s.ValuesPerBeacon)
			if s.MostCommonShare > 0 {
				fmt.Fprintf(w, "most common value:  %.1f%% of the samples\n", 100*s.MostCommonShare)
				// A share means something only over enough samples.
				if len(samples) >= 100 && s.MostCommonShare > 10/float64(s.Distinct) && s.MostCommonShare > 0.01 {
					fmt.Fprintln(w, "warning: the distribution is skewed; the beacon of the most common value stands out at any length (consider beacon partitions)")
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&distinct, "distinct", 0, "number of distinct values of the whole attribute (default: the sample's)")
	cmd.Flags().StringVar(&attribute, "attribute", "", "read DynamoDB JSON items, one per line, and take this attribute")
	return cmd
}

// readSamples reads one sample per line: the line itself, or the value of
// attribute in the line's DynamoDB JSON item. Errors give line numbers,
// never content.
func readSamples(r io.Reader, attribute string) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSampleLine)
	var out []string
	for line := 1; sc.Scan(); line++ {
		if attribute == "" {
			out = append(out, sc.Text())
			continue
		}
		if len(sc.Bytes()) == 0 {
			continue
		}
		it, err := ddbjson.UnmarshalItem(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("line %d: not a DynamoDB JSON item", line)
		}
		switch v := it[attribute].(type) {
		case nil:
			// The item has no such attribute: it has no beacon either.
		case *types.AttributeValueMemberS:
			out = append(out, v.Value)
		case *types.AttributeValueMemberN:
			out = append(out, v.Value)
		case *types.AttributeValueMemberB:
			out = append(out, string(v.Value))
		default:
			return nil, fmt.Errorf("line %d: attribute %q is not S, N or B", line, attribute)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line is longer than %d bytes", maxSampleLine)
		}
		return nil, err
	}
	return out, nil
}
