package itemcrypto

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
)

// Form is a writer's canonical form of signed values: how numbers are
// canonicalised and how set members, map keys and attribute names are
// ordered in the string to sign. The Java and Python reference clients
// differ in four cases (spec §11):
//
//	                                  FormDefault    FormJava        FormPython
//	a signed -0                       0              0               -0
//	signed numbers of 29-38 digits    exact          exact           rounded to 28 digits
//	binary sets (members differing    unsigned       signed bytes    unsigned
//	  in the high bit)
//	strings mixing U+10000.. with     code points    UTF-16 units    code points
//	  U+E000..U+FFFF (SS members,
//	  map keys, attribute names)
//
// Every other item is signed identically in all three forms. Encrypted
// values never depend on the form: the signature covers their ciphertext.
type Form uint8

const (
	// FormDefault signs numbers as the Java client and orders as the
	// Python client: each reader verifies every item that has no case of
	// the other's column.
	FormDefault Form = Form(ddbserial.FormDefault)
	// FormJava signs exactly as the Java client does, for tables whose
	// other readers are Java clients.
	FormJava Form = Form(ddbserial.FormJava)
	// FormPython signs exactly as the Python client does, for tables whose
	// other readers are Python clients. A signed number of more than 38
	// significant digits, which the Python client cannot write, is then
	// refused with ErrInvalidNumber.
	FormPython Form = Form(ddbserial.FormPython)
)

// String returns "default", "java" or "python".
func (f Form) String() string { return ddbserial.Form(f).String() }

// ParseForm parses "default" (or ""), "java" or "python".
func ParseForm(s string) (Form, error) {
	for _, f := range []Form{FormDefault, FormJava, FormPython} {
		if s == f.String() {
			return f, nil
		}
	}
	if s == "" {
		return FormDefault, nil
	}
	return 0, fmt.Errorf("itemcrypto: unknown form %q (want default, java or python)", s)
}

// WithWriteForm sets [Options.WriteForm].
func WithWriteForm(f Form) func(*Options) {
	return func(o *Options) { o.WriteForm = f }
}

// otherWriters are the forms a failed verification is retried under, once
// each, when the item holds a value that diverges in that form.
// Python's comes first: it keeps the byte order of names, which Java's form
// then sorts in place.
var otherWriters = [...]ddbserial.Form{ddbserial.FormPython, ddbserial.FormJava}

// verifiesAsOtherWriter reports whether the signature verifies over the
// string to sign of item in the Java or the Python client's form. It only
// tries a form in which item's string to sign differs from the default one,
// so items without a divergent signed value cost nothing more.
func (e *Encryptor) verifiesAsOtherWriter(item Item, vk cmp.VerificationKey, sig []byte, signingAlg string) bool {
	var buf []byte // one string-to-sign buffer and one name list for both forms
	names := sortedNames(item)
	for _, f := range otherWriters {
		sts, differs, err := stringToSignFormInto(buf, names, e.tableHash, item, e.policy, f, false)
		if err != nil || !differs {
			continue
		}
		if vk.Verify(sts, sig, signingAlg) == nil {
			return true
		}
		buf = sts
	}
	return false
}

// stringToSignForm is the string to sign of item in form f; differs reports
// whether it differs from the default form's.
func stringToSignForm(th [32]byte, item Item, policy *actions.Policy, f ddbserial.Form) (sts []byte, differs bool, err error) {
	return stringToSignFormInto(nil, sortedNames(item), th, item, policy, f, false)
}

// stringToSignFormInto is stringToSignForm reusing buf's storage, for the
// attribute names of item in byte order, which it sorts into f's order.
// With always, it is built even when it is the default form's.
func stringToSignFormInto(buf []byte, names []string, th [32]byte, item Item, policy *actions.Policy, f ddbserial.Form, always bool) (sts []byte, differs bool, err error) {
	differs = always || f.NamesDiverge(names)
	for _, name := range names {
		if differs {
			break
		}
		a := policy.Action(name)
		differs = !actions.IsReserved(name) && a != actions.DoNothing && ddbserial.Diverges(item[name], f)
	}
	if !differs {
		return nil, false, nil // the default form's string to sign: nothing to try
	}
	f.SortNames(names)
	b := newSTS(th, 0)
	defer b.done()
	if need := 32 + 96*len(names); cap(buf) >= need {
		b.sts = append(buf[:0], th[:]...)
	} else {
		b.sts = append(make([]byte, 0, need), th[:]...)
	}
	var scratch []byte
	defer func() { clear(scratch) }()
	for _, name := range names {
		a := policy.Action(name)
		if actions.IsReserved(name) || a == actions.DoNothing {
			continue
		}
		v := item[name]
		if bv, ok := v.(*types.AttributeValueMemberB); ok && bv != nil {
			b.addB(name, a == actions.EncryptAndSign, bv.Value)
			continue
		}
		if scratch, err = ddbserial.AppendForm(scratch[:0], v, f); err != nil {
			return nil, false, valueError(name, a, err)
		}
		b.add(name, a == actions.EncryptAndSign, scratch)
	}
	return b.sts, true, nil
}

// sortForm puts names (sorted in byte order) and their parallel sizes into
// form f's order of attribute names; only FormJava's differs.
func sortForm(names []string, sizes []int, f Form) {
	if f != FormJava || !ddbserial.Form(f).NamesDiverge(names) {
		return
	}
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return ddbserial.CompareUTF16(names[a], names[b]) })
	n, z := slices.Clone(names), slices.Clone(sizes)
	for i, j := range idx {
		names[i], sizes[i] = n[j], z[j]
	}
}

// appendSigned serializes a value for the string to sign (form f) or, when
// encrypted, for its ciphertext (always the default form: exact numbers,
// whatever reader the table has).
func appendSigned(dst []byte, v types.AttributeValue, a actions.Action, f Form) ([]byte, error) {
	if a == actions.EncryptAndSign {
		return ddbserial.Append(dst, v)
	}
	return ddbserial.AppendForm(dst, v, ddbserial.Form(f))
}

// StringToSignForm is [StringToSign] in form f: the bytes a writer of that
// form signs. Like StringToSign, it is here to debug interoperability.
func StringToSignForm(tableName string, item Item, policy *actions.Policy, f Form) ([]byte, error) {
	sts, _, err := stringToSignFormInto(nil, sortedNames(item), tableHash(tableName), item, policy, ddbserial.Form(f), true)
	return sts, err
}
