package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// readmeCommands returns the command lines of the first ```sh block of the
// README section, continuation lines joined and comments dropped.
func readmeCommands(t *testing.T, section string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n"+section+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", section)
	}
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	if start < 0 {
		t.Fatalf("README section %q has no sh block", section)
	}
	text = text[start+len("```sh\n"):]
	text = text[:strings.Index(text, "```")]
	text = strings.ReplaceAll(text, "\\\n", " ")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if j := strings.Index(l, " #"); j >= 0 {
			l = l[:j]
		}
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestREADMECommandLine runs the README's command-line section, and the
// itemcrypto line of its quick start, as they are written, in a fresh
// directory holding the repository's item.json, through the CLI in-process.
func TestREADMECommandLine(t *testing.T) {
	vectors := testenv.VectorsDir(t)
	var lines []string
	for _, l := range readmeCommands(t, "## Quick start") {
		if strings.HasPrefix(l, "go run ./cmd/itemcrypto ") {
			lines = append(lines, l)
		}
	}
	lines = append(lines, readmeCommands(t, "## Command-line tool")...)
	item, err := os.ReadFile("../../item.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("item.json", item, 0o600); err != nil {
		t.Fatal(err)
	}
	ran := map[string]bool{}
	for _, line := range lines {
		words := strings.Fields(line)
		if len(words) < 4 || strings.Join(words[:3], " ") != "go run ./cmd/itemcrypto" {
			t.Fatalf("README command %q does not start with go run ./cmd/itemcrypto", line)
		}
		args, out := words[3:], ""
		if k := len(args) - 2; k > 0 && args[k] == ">" {
			args, out = args[:k], args[k+1]
		}
		for j, a := range args {
			a = strings.ReplaceAll(a, "../shared/vectors/ddbec", vectors)
			args[j] = strings.ReplaceAll(a, "/tmp/go-vectors", filepath.Join(dir, "go-vectors"))
		}
		code, stdout, stderr := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%s: exit status %d\nstdout: %s\nstderr: %s", line, code, stdout, stderr)
		}
		if out != "" {
			if err := os.WriteFile(out, []byte(stdout), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		ran[args[0]] = true
		switch {
		case args[0] == "encrypt" && strings.Contains(stdout, "4111"):
			t.Errorf("%s: the stored item shows the card", line)
		case args[0] == "decrypt" && !strings.Contains(stdout, "4111 1111 1111 1111"):
			t.Errorf("%s: the decrypted item lacks the card:\n%s", line, stdout)
		case args[0] == "vectors" && args[1] == "run" && !strings.Contains(stdout, " 0 failed"):
			t.Errorf("%s: %s", line, lastLine(stdout))
		}
	}
	for _, cmd := range []string{"demo", "keygen", "encrypt", "decrypt", "keyset", "vectors", "rotate"} {
		if !ran[cmd] {
			t.Errorf("the README's command-line section never runs %s", cmd)
		}
	}
}

// readmeBlocks returns the ```sh blocks of a README section and of its
// subsections (up to the next "## " heading), as written.
func readmeBlocks(t *testing.T, section string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n"+section+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", section)
	}
	text = text[i+len(section)+2:]
	if j := strings.Index(text, "\n## "); j >= 0 {
		text = text[:j]
	}
	var blocks []string
	for {
		start := strings.Index(text, "```sh\n")
		if start < 0 {
			return blocks
		}
		text = text[start+len("```sh\n"):]
		end := strings.Index(text, "```")
		blocks = append(blocks, text[:end])
		text = text[end+3:]
	}
}

// shellAssignments returns the lines of script that set a shell variable
// (NAME="..."), continuation lines joined, for the blocks after it.
func shellAssignments(script string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.ReplaceAll(script, "\\\n", " "), "\n") {
		if name, _, ok := strings.Cut(l, "="); ok && name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestREADMERotate runs every sh block of the README's "Key rotation"
// section as written, through bash, in a fresh directory: "go run
// ./cmd/itemcrypto" runs the command built once. The AWS SDK finds dynalite
// and a fake KMS through AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_KMS,
// as it would find the real services; only the placeholders OLD_KEY_ID and
// KEY_ID and the MongoDB address are replaced. Each block after the first
// starts from items under keys.json (what it rotates from); the variables
// set by a block are set for the blocks after it.
func TestREADMERotate(t *testing.T) {
	blocks := readmeBlocks(t, "## Key rotation")
	if len(blocks) != 4 {
		t.Fatalf("the README's Key rotation section has %d sh blocks, want 4 (the test knows what each needs)", len(blocks))
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	ep := testenv.DynamoDBEndpoint(t)
	client := testenv.DynamoDBClient(t)
	kms := kmstest.NewServer(t)
	_, arn := kms.CreateKey()
	bin := buildCLI(t)
	repoItem, err := os.ReadFile("../../item.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("item.json", repoItem, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"keys.json", "meta-keys.json", "dbe-keys.json"} {
		if code, _, errOut := runCLI(t, "", "keygen", "--out", f); code != 0 {
			t.Fatalf("keygen %s: %s", f, errOut)
		}
	}

	// The tables the section names: customers (customer_id, created) and
	// the meta table meta (N, V).
	for _, name := range []string{"customers", "meta"} {
		client.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}) // left by an earlier run
	}
	testenv.CreatedTable(t, client, "customers", func(ctx context.Context) error {
		_, err := client.CreateTable(ctx, tableInput("customers", "customer_id", types.ScalarAttributeTypeS, "created", types.ScalarAttributeTypeN))
		return err
	})
	testenv.CreatedTable(t, client, "meta", func(ctx context.Context) error {
		_, err := client.CreateTable(ctx, tableInput("meta", "N", types.ScalarAttributeTypeS, "V", types.ScalarAttributeTypeN))
		return err
	})
	f := cryptFlags{table: "customers", partitionKey: "customer_id", sortKey: "created", defaultAction: "encrypt", sign: []string{"email"}, nothing: []string{"views"}}
	pol, err := f.policy()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: "customers", Policy: pol, Provider: wrappedFromFile(t, "keys.json")})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := parseItemInput(repoItem, "customer_id")
	if err != nil {
		t.Fatal(err)
	}
	const n = 25
	fill := func() { // the sample customer and copies of it, under keys.json
		t.Helper()
		for i := range n {
			it := maps.Clone(plain)
			if i > 0 {
				it["customer_id"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("c-%04d", 1001+i)}
			}
			stored, err := enc.Encrypt(t.Context(), it)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("customers"), Item: stored}); err != nil {
				t.Fatal(err)
			}
		}
	}

	env := append(os.Environ(), "ITEMCRYPTO_BIN="+bin, "AWS_ENDPOINT_URL_DYNAMODB="+ep, "AWS_ENDPOINT_URL_KMS="+kms.URL(),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDREADME", "AWS_SECRET_ACCESS_KEY=readme", "AWS_SESSION_TOKEN=",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	const prelude = `set -euo pipefail
go() { if [ "${1-}" = run ] && [ "${2-}" = ./cmd/itemcrypto ]; then shift 2; "$ITEMCRYPTO_BIN" "$@"; else command go "$@"; fi; }
`
	sh := func(t *testing.T, vars, block string) {
		t.Helper()
		cmd := exec.Command("bash", "-c", prelude+vars+block)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		t.Logf("%s\n%s", block, out)
		if err != nil {
			t.Fatalf("the README block failed: %v", err)
		}
	}
	oldKeyID := `$(go run ./cmd/itemcrypto keyset list keyset.json | awk 'NR > 1 && $3 != "yes" {print $1}')`
	vars := ""
	for i, block := range blocks[:3] {
		what := []string{"keys", "processes", "format"}[i]
		ok := t.Run(what, func(t *testing.T) {
			fill()
			run := strings.ReplaceAll(block, "OLD_KEY_ID", oldKeyID)
			run = strings.ReplaceAll(run, "arn:aws:kms:us-east-1:111122223333:key/KEY_ID", arn)
			sh(t, vars, run)
		})
		if !ok {
			t.FailNow()
		}
		vars += shellAssignments(block)
	}
	// Where each block left the items: the first under the KMS key, the
	// second under keyset.json, the third in the DB-ESDK format.
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String("customers"), Key: map[string]types.AttributeValue{
		"customer_id": plain["customer_id"], "created": plain["created"]}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.Item["aws_dbe_head"]; !ok {
		t.Errorf("after the format migration block, the sample item is not a DB-ESDK item: %v", slices.Sorted(maps.Keys(out.Item)))
	}

	t.Run("mongo", func(t *testing.T) {
		uri := testenv.MongoURI(t)
		mc := mongotest.Client(t)
		db := mc.Database("shop")
		db.Drop(t.Context())
		t.Cleanup(func() { db.Drop(context.Background()) })
		coll, err := mongoenc.NewCollection(db.Collection("customers"), mongoenc.Config{Provider: wrappedFromFile(t, "keys.json"),
			Default: actions.EncryptAndSign, Overrides: mongoOverrides})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			d := bson.D{{Key: "_id", Value: fmt.Sprintf("c-%04d", 1001+i)}, {Key: "name", Value: "Ada Lovelace"},
				{Key: "email", Value: "ada@example.com"}, {Key: "visits", Value: int32(i)},
				{Key: "profile", Value: bson.D{{Key: "ssn", Value: "078-05-1120"}, {Key: "city", Value: "London"}}}}
			if _, err := coll.InsertOne(t.Context(), d); err != nil {
				t.Fatal(err)
			}
		}
		sh(t, vars, strings.ReplaceAll(blocks[3], "mongodb://127.0.0.1:27017/", uri))
		// The last line left the documents in the DB-ESDK format with a
		// beacon on profile.ssn: a program with that configuration finds
		// them by the encrypted value.
		reader := beaconReader(t, coll, mongoenc.Config{Default: actions.EncryptAndSign, Overrides: mongoOverrides}, []string{"visits"},
			"dbe-keys.json", "beacon-key.json", search.StandardBeacon{Name: "ssn", Loc: "profile.ssn", Length: 16})
		for value, want := range map[string]int{"078-05-1120": n, "078-05-1121": 0} {
			cur, err := reader.Find(t.Context(), bson.D{{Key: "profile.ssn", Value: value}})
			if err != nil {
				t.Fatal(err)
			}
			var got []bson.Raw
			if err := cur.All(t.Context(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != want {
				t.Errorf("Find profile.ssn %s after the README's rotation: %d documents, want %d", value, len(got), want)
			}
		}
	})
}

func tableInput(name, pk string, pkType types.ScalarAttributeType, sk string, skType types.ScalarAttributeType) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(pk), AttributeType: pkType}, {AttributeName: aws.String(sk), AttributeType: skType}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(sk), KeyType: types.KeyTypeRange}},
	}
}

// TestREADMEBeaconLength runs the beacon-length transcript of the README's
// "Choosing a beacon length" as written, on a sample.jsonl it makes: 20,000
// DynamoDB JSON items whose zip is drawn from 100,000 values (the README's
// sample is the user's own). The whole output must be the transcript's.
func TestREADMEBeaconLength(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const prompt = "$ itemcrypto beacon-length --attribute zip --distinct 100000 < sample.jsonl\n"
	text := string(b)
	i := strings.Index(text, prompt)
	if i < 0 {
		t.Fatalf("the README has no %q transcript", strings.TrimSpace(prompt))
	}
	want, _, ok := strings.Cut(text[i+len(prompt):], "```")
	if !ok {
		t.Fatal("the transcript's code block does not end")
	}
	var sample strings.Builder
	state := uint64(1)
	for range 20000 {
		state = state*6364136223846793005 + 1442695040888963407 // a fixed LCG: the same sample every run
		fmt.Fprintf(&sample, "{\"zip\": {\"S\": \"%05d\"}}\n", (state>>33)%100000)
	}
	code, stdout, stderr := runCLI(t, sample.String(), "beacon-length", "--attribute", "zip", "--distinct", "100000")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if stdout != want {
		t.Fatalf("output:\n%s\nthe README shows:\n%s", stdout, want)
	}
}
