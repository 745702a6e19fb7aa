package itemcrypto_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// The item of the tamper matrix: partition and sort key, EncryptAndSign
// attributes of varied types (by default), SignOnly attributes, one
// DoNothing attribute ("note"; "note2" is another DoNothing name).
func tamperOptions() actions.Options {
	return actions.Options{
		Default:      actions.EncryptAndSign,
		PartitionKey: "pk",
		SortKey:      "sk",
		Overrides: map[string]actions.Action{
			"sign_s":      actions.SignOnly,
			"sign_bool":   actions.SignOnly,
			"sign_l":      actions.SignOnly,
			"sign_ns":     actions.SignOnly,
			"sign_null":   actions.SignOnly,
			"sign_absent": actions.SignOnly, // never in the plaintext
			"note":        actions.DoNothing,
			"note2":       actions.DoNothing,
		},
	}
}

func tamperPolicy() *actions.Policy { return actions.Must(tamperOptions()) }

// plaintextMarkers are the plaintext values of the encrypted attributes:
// none may ever appear in an error message.
var plaintextMarkers = []string{"PLAINTEXT-S-secret", "31415926", "PLAINTEXT-B-secret", "PLAINTEXT-M-secret", "PLAINTEXT-SS-a", "PLAINTEXT-L-secret"}

func tamperPlaintext() item {
	return item{
		"pk":        s("customer-42"),
		"sk":        n("1700000000"),
		"secret_s":  s("PLAINTEXT-S-secret"),
		"secret_n":  n("31415926"),
		"secret_b":  b([]byte("PLAINTEXT-B-secret")),
		"secret_m":  mapOf(map[string]av{"inner": s("PLAINTEXT-M-secret"), "n": n("7")}),
		"secret_ss": ss("PLAINTEXT-SS-a", "PLAINTEXT-SS-b"),
		"secret_l":  list(s("PLAINTEXT-L-secret"), boolean(true)),
		"sign_s":    s("signed-visible"),
		"sign_bool": boolean(true),
		"sign_l":    list(s("x"), n("1")),
		"sign_ns":   ns("1", "2", "3"),
		"sign_null": null(),
		"note":      s("free text"),
	}
}

// alter returns a different value of the same type where possible.
func alter(v av) av {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return s(v.Value + "!")
	case *types.AttributeValueMemberN:
		return n(v.Value + "1")
	case *types.AttributeValueMemberB:
		c := bytes.Clone(v.Value)
		c[len(c)/2] ^= 0x01
		return b(c)
	case *types.AttributeValueMemberBOOL:
		return boolean(!v.Value)
	case *types.AttributeValueMemberNULL:
		return boolean(false)
	case *types.AttributeValueMemberSS:
		return ss(append(slices.Clone(v.Value), "extra")...)
	case *types.AttributeValueMemberNS:
		return ns(append(slices.Clone(v.Value), "99")...)
	case *types.AttributeValueMemberBS:
		return bs(append(slices.Clone(v.Value), []byte{9})...)
	case *types.AttributeValueMemberL:
		return list(append(slices.Clone(v.Value), null())...)
	case *types.AttributeValueMemberM:
		m := cloneItem(v.Value)
		m["zz"] = null()
		return mapOf(m)
	}
	panic(fmt.Sprintf("alter: %T", v))
}

// retype returns the "same" content under another type.
func retype(v av) av {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return b([]byte(v.Value))
	case *types.AttributeValueMemberN:
		return s(v.Value)
	case *types.AttributeValueMemberB:
		return bs(v.Value)
	case *types.AttributeValueMemberNS:
		return ss(v.Value...)
	case *types.AttributeValueMemberL:
		return mapOf(map[string]av{"0": v.Value[0]})
	case *types.AttributeValueMemberBOOL:
		return n("1")
	case *types.AttributeValueMemberNULL:
		return s("")
	}
	panic(fmt.Sprintf("retype: %T", v))
}

type tamperCase struct {
	name   string
	mutate func(it item) // changes a deep copy of the stored item in place
	reader *itemcrypto.Encryptor
	// wantErr is the error Decrypt must match; nil means Decrypt succeeds
	// and returns want.
	wantErr error
	want    item
	// orPlaintext also accepts success with exactly the original plaintext:
	// for description entries the provider may legitimately ignore.
	orPlaintext bool
	// alsoAuth: the error must match ErrAuthentication as well as wantErr.
	alsoAuth bool
}

func withDesc(t *testing.T, stored item, change func(d materialdesc.Description)) []byte {
	d := descOf(t, stored)
	change(d)
	return d.Encode()
}

func TestTamperMatrix(t *testing.T) {
	ctx := context.Background()
	for _, pc := range testProviders(t) {
		t.Run(pc.name, func(t *testing.T) {
			policy := tamperPolicy()
			e := newEncryptor(t, "TamperTable", policy, pc.p)
			otherTable := newEncryptor(t, "TamperTable2", policy, pc.p)
			plain := tamperPlaintext()
			stored := encryptOK(t, e, plain)
			// Sanity: the untouched item decrypts.
			if got, err := e.Decrypt(ctx, stored); err != nil || !sameItem(got, plain) {
				t.Fatalf("untampered item: Decrypt = %v; diff %s", err, diffItems(got, plain))
			}
			otherPlain := tamperPlaintext()
			otherPlain["secret_s"] = s("another item")
			other := encryptOK(t, e, otherPlain)
			// Same plaintext, encrypted again: another signature over other ciphertexts.
			again := encryptOK(t, e, plain)

			var names, encrypted, signed []string
			for name := range plain {
				names = append(names, name)
				switch policy.Action(name) {
				case actions.EncryptAndSign:
					encrypted = append(encrypted, name)
					signed = append(signed, name)
				case actions.SignOnly:
					signed = append(signed, name)
				}
			}
			slices.Sort(encrypted)
			slices.Sort(signed)
			if len(encrypted) < 4 || !slices.Contains(signed, "pk") || !slices.Contains(signed, "sk") || len(signed)-len(encrypted) < 4 {
				t.Fatalf("fixture: encrypted %v, signed %v", encrypted, signed)
			}

			var cases []tamperCase
			add := func(name string, mutate func(it item)) {
				cases = append(cases, tamperCase{name: name, mutate: mutate, wantErr: itemcrypto.ErrAuthentication})
			}

			for _, name := range encrypted {
				for _, pos := range []struct {
					label string
					index func(n int) int
				}{
					{"first IV byte", func(int) int { return 0 }},
					{"last IV byte", func(int) int { return 15 }},
					{"middle byte", func(n int) int { return n / 2 }},
					{"last byte", func(n int) int { return n - 1 }},
				} {
					add(fmt.Sprintf("flip %s of encrypted %s", pos.label, name), func(it item) {
						ct := it[name].(*types.AttributeValueMemberB).Value
						ct[pos.index(len(ct))] ^= 0x01
					})
				}
				add("truncate encrypted "+name+" by one block", func(it item) {
					ct := it[name].(*types.AttributeValueMemberB)
					ct.Value = ct.Value[:len(ct.Value)-16]
				})
				add("replace encrypted "+name+" by its plaintext", func(it item) { it[name] = cloneValue(plain[name]) })
			}
			for _, name := range signed {
				if policy.Action(name) == actions.SignOnly {
					add("alter signed "+name, func(it item) { it[name] = alter(it[name]) })
					add("change type of signed "+name, func(it item) { it[name] = retype(it[name]) })
				}
				add("drop signed "+name, func(it item) { delete(it, name) })
				add("rename signed "+name, func(it item) { it[name+"_renamed"] = it[name]; delete(it, name) })
				add("replace "+name+" by the value of another item", func(it item) {
					if v := other[name]; !sameValue(v, it[name]) {
						it[name] = cloneValue(v)
					} else {
						it[name] = alter(it[name])
					}
				})
			}
			add("swap encrypted secret_s and secret_b", func(it item) { it["secret_s"], it["secret_b"] = it["secret_b"], it["secret_s"] })
			add("swap encrypted secret_n and secret_m", func(it item) { it["secret_n"], it["secret_m"] = it["secret_m"], it["secret_n"] })
			add("swap encrypted secret_s and signed sign_s", func(it item) { it["secret_s"], it["sign_s"] = it["sign_s"], it["secret_s"] })
			add("swap partition and sort key", func(it item) { it["pk"], it["sk"] = it["sk"], it["pk"] })
			add("swap signed sign_s and sign_l", func(it item) { it["sign_s"], it["sign_l"] = it["sign_l"], it["sign_s"] })
			add("rename signed sign_s to DoNothing name note2", func(it item) { it["note2"] = it["sign_s"]; delete(it, "sign_s") })
			add("rename encrypted secret_s to DoNothing name note2", func(it item) { it["note2"] = it["secret_s"]; delete(it, "secret_s") })
			add("rename encrypted secret_s to SignOnly name sign_s", func(it item) { it["sign_s"] = it["secret_s"]; delete(it, "secret_s") })
			add("move DoNothing note to EncryptAndSign name", func(it item) { it["note_moved"] = it["note"]; delete(it, "note") })
			add("add attribute the policy encrypts (S)", func(it item) { it["extra"] = s("new") })
			add("add attribute the policy encrypts (B)", func(it item) { it["extra"] = b(make([]byte, 32)) })
			add("add attribute the policy encrypts, copied ciphertext", func(it item) { it["extra"] = cloneValue(it["secret_s"]) })
			add("add attribute the policy signs (SignOnly override)", func(it item) { it["sign_absent"] = s("added") })
			add("replace the whole item body by another item's", func(it item) {
				for _, name := range names {
					if policy.Action(name) != actions.DoNothing {
						it[name] = cloneValue(other[name])
					}
				}
			})
			add("mix ciphertexts from a re-encryption of the same item", func(it item) { it["secret_n"] = cloneValue(again["secret_n"]) })

			// Signature.
			add("drop signature", func(it item) { delete(it, itemcrypto.SignatureAttribute) })
			add("empty signature", func(it item) { it[itemcrypto.SignatureAttribute] = b([]byte{}) })
			add("flip first signature byte", func(it item) { it[itemcrypto.SignatureAttribute].(*types.AttributeValueMemberB).Value[0] ^= 1 })
			add("flip last signature byte", func(it item) {
				sig := it[itemcrypto.SignatureAttribute].(*types.AttributeValueMemberB).Value
				sig[len(sig)-1] ^= 0x80
			})
			add("truncate signature", func(it item) {
				sig := it[itemcrypto.SignatureAttribute].(*types.AttributeValueMemberB)
				sig.Value = sig.Value[:len(sig.Value)-1]
			})
			add("extend signature", func(it item) {
				sig := it[itemcrypto.SignatureAttribute].(*types.AttributeValueMemberB)
				sig.Value = append(sig.Value, 0)
			})
			add("signature of another item", func(it item) { it[itemcrypto.SignatureAttribute] = cloneValue(other[itemcrypto.SignatureAttribute]) })
			add("signature of a re-encryption of the same item", func(it item) {
				it[itemcrypto.SignatureAttribute] = cloneValue(again[itemcrypto.SignatureAttribute])
			})
			add("signature as S", func(it item) {
				it[itemcrypto.SignatureAttribute] = s(string(it[itemcrypto.SignatureAttribute].(*types.AttributeValueMemberB).Value))
			})
			add("signature as BS", func(it item) {
				it[itemcrypto.SignatureAttribute] = bs(it[itemcrypto.SignatureAttribute].(*types.AttributeValueMemberB).Value)
			})

			// Material description.
			add("description as S", func(it item) {
				it[itemcrypto.MaterialDescriptionAttribute] = s(string(it[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value))
			})
			add("description truncated by 3 bytes", func(it item) {
				d := it[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
				d.Value = d.Value[:len(d.Value)-3]
			})
			add("description truncated to 2 bytes", func(it item) {
				d := it[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
				d.Value = d.Value[:2]
			})
			add("description with a trailing partial entry", func(it item) {
				d := it[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
				d.Value = append(d.Value, 0, 0, 0, 9, 'x')
			})
			add("description removed", func(it item) { delete(it, itemcrypto.MaterialDescriptionAttribute) })
			add("description emptied (version header only)", func(it item) { it[itemcrypto.MaterialDescriptionAttribute] = b([]byte{0, 0, 0, 0}) })
			add("description without sym-mode", func(it item) {
				it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) { delete(d, materialdesc.KeySymMode) }))
			})
			add("description with another sym-mode", func(it item) {
				it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) { d[materialdesc.KeySymMode] = "/ECB/PKCS5Padding" }))
			})
			if pc.wrapped {
				for _, pos := range []string{"first", "middle", "last"} {
					add("flip "+pos+" byte of wrapped key", func(it item) {
						it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) {
							w, err := base64.StdEncoding.DecodeString(d[materialdesc.KeyEnvelopeKey])
							if err != nil {
								t.Fatal(err)
							}
							i := map[string]int{"first": 0, "middle": len(w) / 2, "last": len(w) - 1}[pos]
							w[i] ^= 0x01
							d[materialdesc.KeyEnvelopeKey] = base64.StdEncoding.EncodeToString(w)
						}))
					})
				}
				add("truncate wrapped key", func(it item) {
					it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) {
						w, _ := base64.StdEncoding.DecodeString(d[materialdesc.KeyEnvelopeKey])
						d[materialdesc.KeyEnvelopeKey] = base64.StdEncoding.EncodeToString(w[:len(w)-8])
					}))
				})
				add("wrapped key not base64", func(it item) {
					it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) { d[materialdesc.KeyEnvelopeKey] = "%%%" }))
				})
				add("wrapped key of another item", func(it item) {
					it[itemcrypto.MaterialDescriptionAttribute] = cloneValue(other[itemcrypto.MaterialDescriptionAttribute])
				})
				add("wrapped key removed from description", func(it item) {
					it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) { delete(d, materialdesc.KeyEnvelopeKey) }))
				})
				// The AES KEK checks the unwrapped length against env-alg; RSA-OAEP
				// unwraps the real key whatever env-alg says. Either way no wrong
				// plaintext may come out.
				cases = append(cases, tamperCase{
					name: "env-alg claims AES/128",
					mutate: func(it item) {
						it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) { d[materialdesc.KeyEnvelopeAlg] = "AES/128" }))
					},
					wantErr: itemcrypto.ErrAuthentication, want: plain, orPlaintext: true,
				})
				add("wrap-alg removed", func(it item) {
					it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) { delete(d, materialdesc.KeyWrapAlg) }))
				})
			}
			cases = append(cases, tamperCase{name: "other table name", mutate: func(item) {}, reader: otherTable, wantErr: itemcrypto.ErrAuthentication})

			// Version of the description header.
			for _, v := range [][]byte{{0, 0, 0, 1}, {0xff, 0xff, 0xff, 0xff}, {1, 0, 0, 0}} {
				cases = append(cases, tamperCase{
					name: fmt.Sprintf("description version %x", v),
					mutate: func(it item) {
						d := it[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
						copy(d.Value, v)
					},
					wantErr:  itemcrypto.ErrUnsupportedVersion,
					alsoAuth: true,
				})
			}

			// DoNothing attributes and unsigned description entries may change freely.
			withNote := func(change func(it item)) item {
				w := cloneItem(plain)
				change(w)
				return w
			}
			free := []struct {
				name   string
				change func(it item)
			}{
				{"change DoNothing value", func(it item) { it["note"] = s("edited") }},
				{"change DoNothing type", func(it item) { it["note"] = ns("1", "2") }},
				{"remove DoNothing attribute", func(it item) { delete(it, "note") }},
				{"add DoNothing attribute", func(it item) { it["note2"] = b([]byte("added")) }},
			}
			for _, f := range free {
				cases = append(cases, tamperCase{name: f.name, mutate: f.change, want: withNote(f.change)})
			}
			cases = append(cases, tamperCase{
				name: "unknown description entry added",
				mutate: func(it item) {
					it[itemcrypto.MaterialDescriptionAttribute] = b(withDesc(t, it, func(d materialdesc.Description) { d["x-unknown"] = "1" }))
				},
				want: plain,
			})

			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tampered := cloneItem(stored)
					tc.mutate(tampered)
					if !slices.Contains([]string{"other table name", "unknown description entry added"}, tc.name) && sameItem(tampered, stored) && tc.wantErr != nil {
						t.Fatalf("fixture: mutation left the item unchanged")
					}
					reader := e
					if tc.reader != nil {
						reader = tc.reader
					}
					before := cloneItem(tampered)
					got, err := reader.Decrypt(ctx, tampered)
					if !sameItem(tampered, before) {
						t.Errorf("Decrypt modified its input")
					}
					if tc.orPlaintext && err == nil {
						if !sameItem(got, tc.want) {
							t.Errorf("Decrypt succeeded with another plaintext: %s", diffItems(got, tc.want))
						}
						return
					}
					if tc.wantErr == nil {
						if err != nil {
							t.Fatalf("Decrypt = %v; want success", err)
						}
						if !sameItem(got, tc.want) {
							t.Errorf("Decrypt returned %s", diffItems(got, tc.want))
						}
						return
					}
					if !errors.Is(err, tc.wantErr) {
						t.Errorf("Decrypt error = %v; want %v", err, tc.wantErr)
					}
					if tc.alsoAuth && !errors.Is(err, itemcrypto.ErrAuthentication) {
						t.Errorf("Decrypt error = %v; want it to match ErrAuthentication too", err)
					}
					if got != nil {
						t.Errorf("Decrypt returned an item (%d attributes) with error %v", len(got), err)
					}
					if err != nil {
						msg := err.Error()
						for _, m := range plaintextMarkers {
							if strings.Contains(msg, m) {
								t.Errorf("error message %q contains plaintext %q", msg, m)
							}
						}
					}
				})
			}
		})
	}
}

// An item copied between two tables with the same keys fails, in both directions.
func TestTableNameBinding(t *testing.T) {
	ctx := context.Background()
	for _, pc := range testProviders(t)[:2] {
		a := newEncryptor(t, "table-a", tamperPolicy(), pc.p)
		bb := newEncryptor(t, "table-b", tamperPolicy(), pc.p)
		// Names that differ only in the framing characters.
		c := newEncryptor(t, "table-a<TABLE", tamperPolicy(), pc.p)
		stored := encryptOK(t, a, tamperPlaintext())
		for _, reader := range []*itemcrypto.Encryptor{bb, c} {
			if got, err := reader.Decrypt(ctx, stored); !errors.Is(err, itemcrypto.ErrAuthentication) || got != nil {
				t.Errorf("%s: item of table-a read as %q: Decrypt = %v, %v; want nil, ErrAuthentication", pc.name, reader.TableName(), got != nil, err)
			}
		}
		if _, err := a.Decrypt(ctx, stored); err != nil {
			t.Errorf("%s: same table: %v", pc.name, err)
		}
	}
}
