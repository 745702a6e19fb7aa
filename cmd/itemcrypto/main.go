// Command itemcrypto encrypts, signs, verifies and decrypts DynamoDB items
// on the command line, in the format of the AWS DynamoDB Encryption Client,
// and runs the reference test vectors.
//
// Start with
//
//	itemcrypto demo
//
// which needs no files and no network. Then make a key file with
// "itemcrypto keygen --out FILE" and protect items with "itemcrypto encrypt"
// and "itemcrypto decrypt". "itemcrypto help COMMAND" documents each command.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		var quiet quietError
		if !errors.As(err, &quiet) {
			fmt.Fprintln(stderr, "Error:", err)
		}
		var h hinted
		if errors.As(err, &h) {
			fmt.Fprintln(stderr, h.hint)
		}
		return exitCode(err)
	}
	return exitOK
}

// hinted is an error followed on stderr by a line of advice.
type hinted struct {
	err  error
	hint string
}

func (e hinted) Error() string { return e.err.Error() }
func (e hinted) Unwrap() error { return e.err }

// quietError fails a command whose output already said why. err, if set,
// is what it wraps (for the exit status).
type quietError struct {
	msg string
	err error
}

func (e quietError) Error() string { return e.msg }
func (e quietError) Unwrap() error { return e.err }

// newRootCmd builds the command tree reading stdin and writing stdout and
// stderr, so tests can run it in-process.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "itemcrypto",
		Short: "Encrypt and sign DynamoDB items on the client (AWS DynamoDB Encryption Client format)",
		Long: `itemcrypto encrypts and signs DynamoDB items on the client, byte for byte
in the format of the AWS DynamoDB Encryption Client for Java and Python.

Try "itemcrypto demo" first: it needs no files and no network.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		// No shell completion command: keep the surface small.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newDemoCmd(),
		newKeygenCmd(),
		newKeysetCmd(),
		newCryptCmd(modeEncrypt),
		newCryptCmd(modeDecrypt),
		newVectorsCmd(),
		newRotateCmd(),
		newBeaconLengthCmd(),
		newVersionCmd(),
	)
	markUsageErrors(root)
	return root
}

// markUsageErrors makes cobra's errors for bad flags and arguments usage
// errors (exit status 2) throughout the tree, and makes a group of commands
// (keyset, vectors) refuse an unknown subcommand rather than print its help
// and succeed.
func markUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasParent() && c.HasSubCommands() && !c.Runnable() {
			c.Args = cobra.NoArgs
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		}
		if args := c.Args; args != nil {
			c.Args = func(c *cobra.Command, a []string) error { return asUsage(args(c, a)) }
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
