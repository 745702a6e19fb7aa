package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/spf13/cobra"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

type cryptMode int

const (
	modeEncrypt cryptMode = iota
	modeDecrypt
)

// maxItemInput bounds the JSON read for one item (DynamoDB items are at most
// 400 KiB; base64 and JSON syntax inflate that).
const maxItemInput = 4 << 20

type cryptFlags struct {
	table, partitionKey, sortKey  string
	noSortKey                     bool
	defaultAction                 string
	sign, encrypt, nothing        []string
	keys, provider                string
	keyset                        string
	insecure                      bool
	endpoint, region              string
	format, keyNamespace, keyName string
	suite                         string
}

func newCryptCmd(mode cryptMode) *cobra.Command {
	var f cryptFlags
	cmd := &cobra.Command{Args: cobra.MaximumNArgs(1)}
	const common = `
The item is DynamoDB JSON, as "aws dynamodb get-item" prints it: either a
bare item ({"id": {"S": "a"}, ...}) or {"Item": {...}}; the output has the
same shape. It is read from FILE, or from stdin when FILE is absent or "-".

Every attribute gets the --default-action unless --encrypt, --sign or
--nothing names it. The partition and sort keys are never encrypted, and are
signed unless every action is "nothing". Decrypt needs the table name, key
names, actions and keys the item was encrypted with.

The key names are required, both of them: --partition-key, and --sort-key
or --no-sort-key. With --endpoint they may be left out: they are read from
DescribeTable (and the ones given are checked against it).`
	switch mode {
	case modeEncrypt:
		cmd.Use = "encrypt --table NAME --partition-key NAME (--sort-key NAME | --no-sort-key) (--keys FILE | --keyset FILE --insecure) [flags] [FILE]"
		cmd.Short = "Encrypt and sign one DynamoDB item"
		cmd.Long = `Encrypt and sign one item for the table, and print the item to store: each
encrypted attribute replaced by its ciphertext (a binary value), plus the
material description and signature attributes.
` + common
	case modeDecrypt:
		cmd.Use = "decrypt --table NAME --partition-key NAME (--sort-key NAME | --no-sort-key) (--keys FILE | --keyset FILE --insecure) [flags] [FILE]"
		cmd.Short = "Verify and decrypt one DynamoDB item"
		cmd.Long = `Verify the signature of one stored item and print its plaintext. Any
failure of authenticity (a tampered, added, swapped or removed signed
attribute, another table name, wrong keys or actions) prints the error
"itemcrypto: item authentication failed" (followed by the reason only where
it is no secret: an item that is not encrypted at all, another provider's
item), a hint line listing what to check, and exits with status 1.
` + common
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runCrypt(cmd, mode, &f, args)
	}
	fl := cmd.Flags()
	f.addPolicyFlags(fl, "table name, bound into the signature (required)")
	fl.StringVar(&f.keys, "keys", "", "key file made by itemcrypto keygen (this or --keyset)")
	fl.StringVar(&f.provider, "provider", "wrapped", "materials provider of --keys: wrapped (a fresh content key per item) or static")
	fl.StringVar(&f.keyset, "keyset", "", "Tink keyset file made by itemcrypto keyset new (cleartext, --insecure; the Tink provider)")
	fl.BoolVar(&f.insecure, "insecure", false, "confirm that the --keyset file is cleartext")
	fl.StringVar(&f.endpoint, "endpoint", "", "DynamoDB endpoint URL, to read the key names from DescribeTable (e.g. http://127.0.0.1:8000)")
	fl.StringVar(&f.region, "region", "", "AWS region for --endpoint (default: from the AWS config; us-east-1 for a local endpoint)")
	fl.StringVar(&f.format, "format", "ddbec", "item format: ddbec (AWS DynamoDB Encryption Client) or dbesdk (AWS Database Encryption SDK; --keys only: a raw AES keyring over an aes-hmac file's encryptionKey, or raw RSA OAEP-SHA256 over an rsa file)")
	fl.StringVar(&f.keyNamespace, "key-namespace", "itemcrypto", "--format dbesdk: the raw keyring's key namespace (readers must use the same)")
	fl.StringVar(&f.keyName, "key-name", "default", "--format dbesdk: the raw keyring's key name (readers must use the same)")
	fl.StringVar(&f.suite, "suite", "", "--format dbesdk: algorithm suite of new items, 0x6701 (ECDSA P-384, the default) or 0x6700")
	cmd.MarkFlagRequired("table")
	return cmd
}

// policy builds the actions policy from the flags.
func (f *cryptFlags) policy() (*actions.Policy, error) {
	def, ov, err := f.actions()
	if err != nil {
		return nil, err
	}
	p, err := actions.New(actions.Options{Default: def, Overrides: ov, PartitionKey: f.partitionKey, SortKey: f.sortKey})
	return p, asUsage(err) // the flags give the policy
}

// actions returns the default action and the overrides of the flags.
func (f *cryptFlags) actions() (actions.Action, map[string]actions.Action, error) {
	def, err := actions.Parse(f.defaultAction)
	if err != nil || def == actions.SignAndIncludeInEncryptionContext {
		// The CLI writes DDBEC items, which have no "context" action.
		in := f.defaultAction
		if len(in) > 40 {
			in = in[:40] + "..."
		}
		return 0, nil, usagef("--default-action: unknown action %q (want encrypt, sign or nothing)", in)
	}
	ov := map[string]actions.Action{}
	from := map[string]string{} // attribute → the flag that named it
	for _, l := range []struct {
		flag  string
		names []string
		a     actions.Action
	}{{"--encrypt", f.encrypt, actions.EncryptAndSign}, {"--sign", f.sign, actions.SignOnly}, {"--nothing", f.nothing, actions.DoNothing}} {
		for _, name := range l.names {
			if name == "" {
				return 0, nil, fmt.Errorf("%s: empty attribute name", l.flag)
			}
			if prev, ok := from[name]; ok && prev != l.flag {
				return 0, nil, fmt.Errorf("attribute %q is named by both %s and %s: give it one action", name, prev, l.flag)
			}
			ov[name], from[name] = l.a, l.flag
		}
	}
	return def, ov, nil
}

func runCrypt(cmd *cobra.Command, mode cryptMode, f *cryptFlags, args []string) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	var describe describeFunc
	if f.endpoint != "" {
		client, err := newDynamoDBClient(ctx, f.endpoint, f.region)
		if err != nil {
			return err
		}
		describe = describeWith(client)
	}
	if err := f.resolveKeys(ctx, describe); err != nil {
		return err
	}
	pol, err := f.policy()
	if err != nil {
		return err
	}
	if pol.NoOp() {
		fmt.Fprintln(cmd.ErrOrStderr(), "Warning: every action is \"nothing\": the item is neither encrypted nor signed")
	}
	cfg, err := f.encryptorConfig(cmd, pol)
	if err != nil {
		return err
	}
	enc, err := itemcrypto.New(cfg)
	if err != nil {
		return err
	}
	data, err := readInput(cmd.InOrStdin(), args)
	if err != nil {
		return err
	}
	item, wrapped, err := parseItemInput(data, f.partitionKey)
	if err != nil {
		return err
	}
	var res map[string]types.AttributeValue
	switch mode {
	case modeEncrypt:
		res, err = enc.Encrypt(ctx, item)
	case modeDecrypt:
		res, err = enc.Decrypt(ctx, item)
		if errors.Is(err, itemcrypto.ErrAuthentication) {
			// The error says why only where that is no secret (not an
			// encrypted item, another provider's); the hint lists the usual
			// mistakes.
			if errors.Is(err, itemcrypto.ErrNotEncrypted) {
				return hinted{err, notEncryptedHint}
			}
			if errors.Is(err, itemcrypto.ErrFormatNotAllowed) {
				return hinted{err, formatHint}
			}
			return hinted{err, authHint}
		}
	}
	if err != nil {
		return err
	}
	out, err := formatItem(res, wrapped)
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(out)
	return err
}

// encryptorConfig builds the encryptor's configuration for --format.
func (f *cryptFlags) encryptorConfig(cmd *cobra.Command, pol *actions.Policy) (itemcrypto.Config, error) {
	format, err := itemcrypto.ParseFormat(f.format)
	if err != nil {
		return itemcrypto.Config{}, usagef("--format: %w", err)
	}
	if format == itemcrypto.FormatDDBEC {
		prov, err := f.itemProvider(cmd)
		if err != nil {
			return itemcrypto.Config{}, err
		}
		return itemcrypto.Config{TableName: f.table, Policy: pol, Provider: prov}, nil
	}
	if f.keys == "" {
		return itemcrypto.Config{}, usagef("--format dbesdk needs --keys FILE (from itemcrypto keygen)")
	}
	keys, err := loadKeyFile(f.keys, cmd.ErrOrStderr())
	if err != nil {
		return itemcrypto.Config{}, err
	}
	kr, err := keys.Keyring(f.keyNamespace, f.keyName)
	if err != nil {
		return itemcrypto.Config{}, err
	}
	d := &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: f.nothing}
	if f.suite != "" {
		if d.Suite, err = keyring.ParseSuite(f.suite); err != nil {
			return itemcrypto.Config{}, usagef("--suite: %w", err)
		}
	}
	return itemcrypto.Config{TableName: f.table, Policy: pol, Format: format, DBESDK: d}, nil
}

// itemProvider builds the provider of --keys or --keyset.
func (f *cryptFlags) itemProvider(cmd *cobra.Command) (cmp.Provider, error) {
	warn := cmd.ErrOrStderr()
	switch {
	case f.keys != "" && f.keyset != "":
		return nil, usagef("--keys and --keyset exclude each other: name one set of keys")
	case f.keyset != "":
		if !f.insecure {
			return nil, errInsecure("--keyset")
		}
		if cmd.Flags().Changed("provider") {
			return nil, usagef("--provider is for --keys; a --keyset always uses the Tink provider")
		}
		h, err := readKeysetFile(f.keyset, warn)
		if err != nil {
			return nil, err
		}
		return tinkcmp.New(h)
	case f.keys != "":
		keys, err := loadKeyFile(f.keys, warn)
		if err != nil {
			return nil, err
		}
		return keysProvider(keys, "--provider", f.provider)
	}
	return nil, usagef("name the keys: --keys FILE (from itemcrypto keygen) or --keyset FILE --insecure (from itemcrypto keyset new)")
}

func readInput(stdin io.Reader, args []string) ([]byte, error) {
	r := stdin
	name := "stdin"
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, args[0]
	}
	b, err := io.ReadAll(io.LimitReader(r, maxItemInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > maxItemInput {
		return nil, fmt.Errorf("%s: larger than %d bytes, not one item", name, maxItemInput)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s: no item (want DynamoDB JSON)", name)
	}
	return b, nil
}

// authHint follows an authentication failure of decrypt.
const authHint = "Hint: check that --table, --partition-key, --sort-key, the actions (--default-action, --encrypt, --sign, --nothing), --keys and --provider are those the item was encrypted with; an item changed in the store fails the same way"

// notEncryptedHint follows the failure of an item that is not encrypted.
const notEncryptedHint = "Hint: decrypt reads what itemcrypto encrypt (or another DynamoDB Encryption Client) wrote; this item is plaintext"

// formatHint follows the failure of an item in the other format.
const formatHint = "Hint: the item is in the other format (the error names it): decrypt an item with aws_dbe_head and aws_dbe_foot with --format dbesdk, one with *amzn-ddb-map-sig* with --format ddbec"

// prefixed is err with its own package prefix ("ddbjson: ") replaced by
// prefix, so that the message has one.
type prefixed struct {
	prefix string
	err    error
}

func (e prefixed) Error() string {
	msg := e.err.Error()
	if i := strings.Index(msg, ": "); i > 0 && !strings.Contains(msg[:i], " ") {
		msg = msg[i+2:]
	}
	return e.prefix + ": " + msg
}

func (e prefixed) Unwrap() error { return e.err }

// responseKeys are the top-level keys of "aws dynamodb get-item" output.
var responseKeys = []string{"Item", "ConsumedCapacity"}

// parseItemInput reads a bare item or a get-item response {"Item": {...}}.
// The input is the response shape when its top level holds only response
// keys, including Item, and that Item is an item holding the partition key;
// otherwise it is a bare item.
func parseItemInput(data []byte, partitionKey string) (item map[string]types.AttributeValue, wrapped bool, err error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		// encoding/json's message may quote the input: give the offset only.
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, false, fmt.Errorf("input: not JSON (syntax error at byte %d)", syn.Offset)
		}
		return nil, false, errors.New("input: not a JSON object of DynamoDB attributes (want {\"name\": {\"S\": \"text\"}, ...} or {\"Item\": {...}})")
	}
	if inner, ok := top["Item"]; ok {
		response := true
		for k := range top {
			if !slices.Contains(responseKeys, k) {
				response = false
			}
		}
		if response {
			if it, err := ddbjson.UnmarshalItem(inner); err == nil {
				if _, ok := it[partitionKey]; ok {
					return it, true, nil
				}
			}
		}
	}
	item, err = ddbjson.UnmarshalItem(data)
	if err != nil {
		return nil, false, prefixed{"input", err}
	}
	return item, false, nil
}

// formatItem renders item as indented DynamoDB JSON, inside {"Item": ...}
// when wrapped.
func formatItem(item map[string]types.AttributeValue, wrapped bool) ([]byte, error) {
	b, err := ddbjson.MarshalItem(item)
	if err != nil {
		return nil, err
	}
	if wrapped {
		b, err = json.Marshal(map[string]json.RawMessage{"Item": b})
		if err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
