// Command anystore keeps encrypted contacts in a JSON-lines file, a store
// that knows nothing of DynamoDB, and finds them by the value of their
// encrypted email and by department and last name through DB-ESDK beacons
// computed by mapenc. It is the program of the README section "Searchable
// fields in any store", verbatim (a test checks that they stay the same,
// and runs it).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

type Contact struct {
	ID    string `dynamodbav:"id" itemcrypto:"partition"`
	Email string `dynamodbav:"email"` // encrypted (Config.Default), with a beacon
	Last  string `dynamodbav:"last"`  // encrypted, with a beacon
	Dept  string `dynamodbav:"dept" itemcrypto:"sign"`
}

func main() {
	ctx := context.Background()
	// One branch key: its key encrypts the items (hierarchical keyring), its
	// beacon key computes the beacons. Real programs keep branch keys in a
	// keystore.Store (DynamoDB + KMS), which serves both.
	branch, err := hierarchy.NewBranchKey("contacts", "7e1f0a5c-2b3d-4e6f-8a9b-0c1d2e3f4a5b", randomBytes(32), randomBytes(32))
	if err != nil {
		log.Fatal(err)
	}
	keyring, err := hierarchy.New(hierarchy.NewStatic(branch), func(o *hierarchy.Options) { o.BranchKeyID = "contacts" })
	if err != nil {
		log.Fatal(err)
	}
	beaconKeys, err := search.NewStaticKeys(branch)
	if err != nil {
		log.Fatal(err)
	}
	contacts, err := mapenc.For[Contact](mapenc.Config{
		TableName: "contacts.jsonl", // bound into every signature
		Default:   actions.EncryptAndSign,
		Overrides: map[string]actions.Action{"dept": actions.SignOnly}, // a signed part of DeptLast
		Format:    itemcrypto.FormatDBESDK,
		DBESDK:    &itemcrypto.DBESDKConfig{Keyring: keyring},
		Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version:   1,
			KeyStore:  beaconKeys,
			KeySource: search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "contacts", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{
				{Name: "email", Length: 4}, // see "Choosing a beacon length"
				{Name: "last", Length: 4},
			},
			// "D-<dept>.L-<beacon of last>": a department, or a department and a last name.
			CompoundBeacons: []search.CompoundBeacon{{Name: "DeptLast", Split: ".",
				Signed:    []search.SignedPart{{Name: "dept", Prefix: "D-"}},
				Encrypted: []search.EncryptedPart{{Name: "last", Prefix: "L-"}},
			}},
		}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	// Writing: one protected contact per line, its beacons beside the
	// ciphertext. In SQL, store the document and a column per beacon:
	//   INSERT INTO contacts (id, doc, aws_dbe_b_email) VALUES ($1, $2, $3)
	// with $3 = beacons["aws_dbe_b_email"][0], and index the column.
	path := filepath.Join(os.TempDir(), fmt.Sprintf("contacts-%d.jsonl", time.Now().UnixNano()))
	defer os.Remove(path)
	var lines []string
	for i, c := range []Contact{
		{Email: "ann@example.com", Last: "Smith", Dept: "sales"},
		{Email: "bob@example.com", Last: "Smithson", Dept: "eng"},
		{Email: "cy@example.com", Last: "Jones", Dept: "sales"},
	} {
		c.ID = fmt.Sprint(i)
		item, err := contacts.Encrypt(ctx, c)
		if err != nil {
			log.Fatal(err)
		}
		beacons := contacts.Codec().Beacons(item)
		if i == 0 {
			fmt.Println("beacon fields:", slices.Sorted(maps.Keys(beacons)))
		}
		doc, err := mapenc.MarshalJSON(item)
		if err != nil {
			log.Fatal(err)
		}
		lines = append(lines, string(doc))
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	fmt.Println("the file holds aws_dbe_b_email:", strings.Contains(lines[0], `"aws_dbe_b_email":{"S":"`),
		"and no email:", !strings.Contains(lines[0], "ann@example.com"))

	// Querying: Term gives the stored attribute and the values to look for.
	//   SELECT doc FROM contacts WHERE aws_dbe_b_email IN (term.Values...)
	// Beacons are short on purpose: other emails share them. DecryptMatch
	// drops those candidates after decryption.
	byEmail, err := contacts.Term(ctx, "email", search.Equals, "bob@example.com")
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range find(ctx, contacts, path, byEmail) {
		fmt.Println("found by email:", c.Last)
	}
	// A compound beacon answers a prefix: every contact in sales.
	//   SELECT doc FROM contacts WHERE aws_dbe_b_DeptLast LIKE 'D-sales%'
	inSales, err := contacts.Term(ctx, "DeptLast", search.BeginsWith, "D-sales")
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, c := range find(ctx, contacts, path, inSales) {
		names = append(names, c.Last)
	}
	slices.Sort(names)
	fmt.Println("in sales:", names)
}

// find reads the file as a store would answer the term (the stored beacon
// equals, or begins with, one of the term's values), and decrypts the
// candidates, keeping the exact matches.
func find(ctx context.Context, contacts *mapenc.TypedCodec[Contact], path string, term *search.Term) []Contact {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var out []Contact
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		item, err := mapenc.UnmarshalJSON(lines.Bytes())
		if err != nil {
			log.Fatal(err)
		}
		stored := contacts.Codec().Beacons(item)[term.Attribute] // the beacon, one string here
		if !slices.ContainsFunc(term.Values, func(v string) bool {
			return len(stored) == 1 && (stored[0] == v || (term.Match == search.BeginsWith && strings.HasPrefix(stored[0], v)))
		}) {
			continue
		}
		c, ok, err := contacts.DecryptMatch(ctx, item, term)
		if err != nil {
			log.Fatal(err)
		}
		if ok {
			out = append(out, c)
		}
	}
	if err := lines.Err(); err != nil {
		log.Fatal(err)
	}
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
