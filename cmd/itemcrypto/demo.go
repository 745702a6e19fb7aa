package main

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/spf13/cobra"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// demoNext closes the demo. It names the command the way the README runs
// it (go run from the repository), and the installed name.
const demoNext = "Next: go run ./cmd/itemcrypto keygen --out demo.keys, then go run ./cmd/itemcrypto encrypt --help\n" +
	"(or go install ./cmd/itemcrypto once, and run itemcrypto keygen, itemcrypto encrypt)."

func newDemoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Encrypt, decrypt and tamper with three sample items (no files, no network)",
		Long: `Show what itemcrypto does, with nothing but this binary: make random keys in
memory, encrypt and sign three sample customer items, print each plaintext
next to what DynamoDB would store, decrypt them back, then tamper with a
stored item in several ways and show which changes are caught.

Keys are never printed and never leave the process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), crand.Reader)
		},
	}
}

// The demo table.
const (
	demoTable = "customers"
	demoPK    = "customer_id"
	demoSK    = "record"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func demoItems() []itemcrypto.Item {
	return []itemcrypto.Item{
		{
			demoPK: s("C-1001"), demoSK: s("profile"),
			"name": s("Ada Lovelace"),
			"ssn":  s("078-05-1120"),
			"address": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"street": s("12 St James's Square"), "city": s("London"), "postcode": s("SW1Y 4JH"),
			}},
			"email":       s("ada@example.com"),
			"login_count": n("42"),
		},
		{
			demoPK: s("C-1002"), demoSK: s("profile"),
			"name": s("Grace Hopper"),
			"ssn":  s("219-09-9999"),
			"address": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"street": s("1 Navy Pier"), "city": s("Arlington"), "postcode": s("22202"),
			}},
			"email":       s("grace@example.com"),
			"login_count": n("7"),
		},
		{
			demoPK: s("C-1002"), demoSK: s("card#2031"),
			"card_number": s("4111 1111 1111 1111"),
			"expires":     s("2031-12"),
			"vip":         &types.AttributeValueMemberBOOL{Value: true},
			"phones":      &types.AttributeValueMemberSS{Value: []string{"+1 555 0100", "+1 555 0199"}},
			"email":       s("grace@example.com"),
			"login_count": n("0"),
		},
	}
}

// runDemo prints the demo to w. keyRand is the source of the demo's keys
// (crypto/rand; tests pass a known stream to check no key is printed).
func runDemo(ctx context.Context, w io.Writer, keyRand io.Reader) error {
	kekBytes := make([]byte, 32)
	macBytes := make([]byte, 32)
	if _, err := io.ReadFull(keyRand, kekBytes); err != nil {
		return err
	}
	if _, err := io.ReadFull(keyRand, macBytes); err != nil {
		return err
	}
	kek, err := cmp.NewAESKey(kekBytes)
	clear(kekBytes)
	if err != nil {
		return err
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", macBytes)
	clear(macBytes)
	if err != nil {
		return err
	}
	prov, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		return err
	}
	policy, err := actions.New(actions.Options{
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"email": actions.SignOnly, "login_count": actions.DoNothing},
		PartitionKey: demoPK, SortKey: demoSK,
	})
	if err != nil {
		return err
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: demoTable, Policy: policy, Provider: prov})
	if err != nil {
		return err
	}

	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("itemcrypto demo: client-side encryption and signing of DynamoDB items\n")
	p("(byte-compatible with the AWS DynamoDB Encryption Client for Java and Python)\n\n")
	p("Table %q, partition key %s, sort key %s.\n", demoTable, demoPK, demoSK)
	p("Keys: a random AES-256 key-encryption key and a random HMAC-SHA256 key, in memory\n")
	p("only and never printed. Each item gets a fresh AES-256 content key, wrapped with the\n")
	p("key-encryption key and kept in the item's material description.\n")
	p("Actions: email sign-only, login_count do-nothing, the keys signed, the rest encrypted.\n")

	items := demoItems()
	stored := make([]itemcrypto.Item, len(items))
	for i, item := range items {
		ct, err := enc.Encrypt(ctx, item)
		if err != nil {
			return fmt.Errorf("encrypting item %d: %w", i+1, err)
		}
		stored[i] = ct
		p("\nItem %d of %d\n", i+1, len(items))
		printSideBySide(w, policy, item, ct, i == 0)
		pt, err := enc.Decrypt(ctx, ct)
		if err != nil {
			return fmt.Errorf("decrypting item %d: %w", i+1, err)
		}
		if !ddbjson.EqualItems(item, pt, ddbserial.CanonicalNumber) {
			return fmt.Errorf("item %d: decrypted item differs from the plaintext", i+1)
		}
		p("  Decrypted: signature verified, all %d attributes match the plaintext.\n", len(pt))
	}

	p("\nTampering with item 1 as stored (each change made to a copy):\n")
	base := stored[0]
	type tamper struct {
		what   string
		change func(itemcrypto.Item)
		caught bool
		reader *itemcrypto.Encryptor // nil: the same table
	}
	archive, err := itemcrypto.New(itemcrypto.Config{TableName: demoTable + "_archive", Policy: policy, Provider: prov})
	if err != nil {
		return err
	}
	tampers := []tamper{
		{"swap the encrypted name and ssn", func(it itemcrypto.Item) {
			it["name"], it["ssn"] = it["ssn"], it["name"]
		}, true, nil},
		{`change sign-only email to "eve@example.com"`, func(it itemcrypto.Item) {
			it["email"] = s("eve@example.com")
		}, true, nil},
		{"add an attribute is_admin = true", func(it itemcrypto.Item) {
			it["is_admin"] = &types.AttributeValueMemberBOOL{Value: true}
		}, true, nil},
		{"copy it into table " + strconv.Quote(demoTable+"_archive"), func(itemcrypto.Item) {}, true, archive},
		{"change do-nothing login_count 42 -> 43", func(it itemcrypto.Item) {
			it["login_count"] = n("43")
		}, false, nil},
	}
	width := 0
	for _, t := range tampers {
		width = max(width, utf8.RuneCountInString(t.what))
	}
	for _, t := range tampers {
		it := maps.Clone(base)
		t.change(it)
		reader := enc
		if t.reader != nil {
			reader = t.reader
		}
		pt, err := reader.Decrypt(ctx, it)
		switch {
		case t.caught && errors.Is(err, itemcrypto.ErrAuthentication) && pt == nil:
			p("  %-*s  rejected: %v\n", width, t.what, err)
		case !t.caught && err == nil:
			p("  %-*s  accepted: do-nothing attributes are not signed (login_count is now %s)\n", width, t.what, showValue(pt["login_count"], 20))
		case err != nil:
			return fmt.Errorf("tampering (%s): unexpected error: %w", t.what, err)
		default:
			return fmt.Errorf("tampering (%s): the change was not caught", t.what)
		}
	}
	if err := demoDBESDK(ctx, p, w, keyRand, policy, prov, items[0], stored[0]); err != nil {
		return err
	}
	p("\n" + demoNext + "\n")
	return nil
}

// demoDBESDK shows the first item in the AWS Database Encryption SDK
// format, a tampered copy rejected, and a DB-ESDK table with the legacy
// override reading the DDBEC item of the same table.
func demoDBESDK(ctx context.Context, p func(string, ...any), w io.Writer, keyRand io.Reader, policy *actions.Policy,
	prov cmp.Provider, item, legacyItem itemcrypto.Item) error {
	wrapping := make([]byte, 32)
	if _, err := io.ReadFull(keyRand, wrapping); err != nil {
		return err
	}
	kr, err := keyring.NewRawAES("demo", "demo-key", wrapping)
	clear(wrapping)
	if err != nil {
		return err
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: demoTable, Policy: policy, Provider: prov,
		Format: itemcrypto.FormatDBESDK, DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"login_count"},
			LegacyPolicy: itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt}})
	if err != nil {
		return err
	}
	p("\nThe same item 1 in the AWS Database Encryption SDK format (suite 0x6701: AES-256-GCM,\n")
	p("HMAC-SHA384 and an ECDSA P-384 signature; a raw AES keyring):\n")
	ct, err := enc.Encrypt(ctx, item)
	if err != nil {
		return fmt.Errorf("DB-ESDK encrypt: %w", err)
	}
	printSideBySide(w, policy, item, ct, false)
	pt, err := enc.Decrypt(ctx, ct)
	if err != nil || !ddbjson.EqualItems(item, pt, ddbserial.CanonicalNumber) {
		return fmt.Errorf("DB-ESDK decrypt: %v", err)
	}
	p("  Decrypted: header, tag and signature verified, all %d attributes match the plaintext.\n", len(pt))
	bad := maps.Clone(ct)
	bad["email"] = s("eve@example.com")
	if _, err := enc.Decrypt(ctx, bad); !errors.Is(err, itemcrypto.ErrAuthentication) {
		return fmt.Errorf("DB-ESDK tampering not caught: %v", err)
	} else {
		p("  email changed in the stored item: rejected: %v\n", err)
	}
	if _, err := enc.Decrypt(ctx, legacyItem); err != nil {
		return fmt.Errorf("legacy override: %w", err)
	}
	p("  With the legacy override the same encryptor also reads the DDBEC item 1 above (a migration).\n")
	return nil
}

// printSideBySide prints each attribute's action, plaintext and stored value.
func printSideBySide(w io.Writer, policy *actions.Policy, plain, stored itemcrypto.Item, showDesc bool) {
	const nameW, actW, valW = 19, 7, 36
	names := slices.Sorted(maps.Keys(stored))
	// Keys first, then the other attributes, then the two added ones.
	rank := func(name string) int {
		switch {
		case name == demoPK:
			return 0
		case name == demoSK:
			return 1
		case isAdded(name):
			return 3
		}
		return 2
	}
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	fmt.Fprintf(w, "  %-*s  %-*s  %-*s  %s\n", nameW, "attribute", actW, "action", valW, "plaintext", "stored in DynamoDB")
	for _, name := range names {
		action, pt := "(added)", ""
		if !isAdded(name) {
			action = actionWord(policy.Action(name))
			pt = showValue(plain[name], valW)
		}
		fmt.Fprintf(w, "  %-*s  %-*s  %-*s  %s\n", nameW, name, actW, action, valW, pt, showValue(stored[name], 24))
	}
	if db, ok := stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB); ok && showDesc {
		if d, err := materialdesc.Decode(db.Value); err == nil {
			var parts []string
			// The wrapping entries first, then the others.
			order := []string{materialdesc.KeyEnvelopeAlg, materialdesc.KeyEnvelopeKey, materialdesc.KeyWrapAlg}
			for _, k := range slices.Sorted(maps.Keys(d)) {
				if !slices.Contains(order, k) {
					order = append(order, k)
				}
			}
			for _, k := range order {
				if _, ok := d[k]; !ok {
					continue
				}
				v := d[k]
				if k == materialdesc.KeyEnvelopeKey {
					if b, err := base64.StdEncoding.DecodeString(v); err == nil {
						v = fmt.Sprintf("(%d-byte wrapped key)", len(b))
					}
				}
				parts = append(parts, strings.TrimPrefix(k, "amzn-ddb-")+"="+v)
			}
			cut := min(3, len(parts))
			fmt.Fprintf(w, "  Material description: %s\n", strings.Join(parts[:cut], ", "))
			if cut < len(parts) {
				fmt.Fprintf(w, "                        %s\n", strings.Join(parts[cut:], ", "))
			}
		}
	}
}

func actionWord(a actions.Action) string {
	switch a {
	case actions.EncryptAndSign:
		return "encrypt"
	case actions.SignOnly:
		return "sign"
	}
	return "nothing"
}

// showValue renders a value compactly for people, at most width runes.
// Binary values show their length and a short base64 prefix.
func showValue(v types.AttributeValue, width int) string {
	return truncate(render(v), width)
}

func render(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S " + strconv.Quote(v.Value)
	case *types.AttributeValueMemberN:
		return "N " + v.Value
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B(%d bytes) %s", len(v.Value), truncate(base64.StdEncoding.EncodeToString(v.Value), 10))
	case *types.AttributeValueMemberBOOL:
		return "BOOL " + strconv.FormatBool(v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		q := make([]string, len(v.Value))
		for i, e := range v.Value {
			q[i] = strconv.Quote(e)
		}
		return "SS [" + strings.Join(q, ", ") + "]"
	case *types.AttributeValueMemberNS:
		return "NS [" + strings.Join(v.Value, ", ") + "]"
	case *types.AttributeValueMemberBS:
		return fmt.Sprintf("BS (%d values)", len(v.Value))
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = render(e)
		}
		return "L [" + strings.Join(parts, ", ") + "]"
	case *types.AttributeValueMemberM:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v.Value)) {
			parts = append(parts, k+": "+render(v.Value[k]))
		}
		return "M {" + strings.Join(parts, ", ") + "}"
	case nil:
		return ""
	}
	return "?"
}

// truncate shortens s to at most width runes, ending in "…" when cut.
func truncate(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// isAdded reports whether name is an attribute the encryptor adds (DDBEC
// description and signature, DB-ESDK header and footer).
func isAdded(name string) bool {
	return actions.IsReserved(name) || strings.HasPrefix(name, "aws_dbe_")
}
