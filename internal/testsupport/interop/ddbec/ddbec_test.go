package ddbec

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// runConfig reads the seed and the item count: ITEMCRYPTO_INTEROP_SEED
// (default: the clock, printed) and ITEMCRYPTO_INTEROP_ITEMS (default
// 1000, 100 with -short).
func runConfig(t *testing.T) (seed uint64, items int) {
	t.Helper()
	seed = uint64(time.Now().UnixNano())
	if s := os.Getenv("ITEMCRYPTO_INTEROP_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			t.Fatalf("ITEMCRYPTO_INTEROP_SEED: %v", err)
		}
		seed = v
	}
	items = 1000
	if testing.Short() {
		items = 100
	}
	if s := os.Getenv("ITEMCRYPTO_INTEROP_ITEMS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("ITEMCRYPTO_INTEROP_ITEMS: %v", err)
		}
		items = v
	}
	t.Logf("seed %d (ITEMCRYPTO_INTEROP_SEED=%d reproduces this run), %d items", seed, seed, items)
	return seed, items
}

// identity compares numbers as spelt: values Python returns as stored.
func identity(s string) (string, error) { return s, nil }

// sameItem reports the first difference between want and got: values of
// encrypted attributes compared under canon, the others as spelt.
func sameItem(tc *testCase, want, got itemcrypto.Item, canon func(string) (string, error)) error {
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		if !ok {
			return fmt.Errorf("attribute %q missing", k)
		}
		c := identity
		if tc.action(k) == actions.EncryptAndSign {
			c = canon
		}
		if !ddbjson.Equal(want[k], g, c) {
			wj, _ := ddbjson.MarshalValue(want[k])
			gj, _ := ddbjson.MarshalValue(g)
			return fmt.Errorf("attribute %q (%v): got %s, want %s", k, tc.action(k), gj, wj)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			return fmt.Errorf("unexpected attribute %q", k)
		}
	}
	return nil
}

// mutation is one change to a protected item that the reader must refuse.
type mutation struct {
	kind   string
	target string // attribute changed, dropped or renamed
	name   string // new name (added or renamed)
	value  types.AttributeValue
	pos    int
}

func (m *mutation) String() string {
	s := m.kind
	if m.target != "" {
		s += fmt.Sprintf(" %q", m.target)
	}
	if m.name != "" {
		s += fmt.Sprintf(" as %q", m.name)
	}
	if m.value != nil {
		j, _ := ddbjson.MarshalValue(m.value)
		s += " to " + string(j)
	}
	return s
}

// pickMutation chooses one mutation applicable to tc (whose item is the
// plaintext); g draws replacement values.
func pickMutation(g *gen, tc *testCase, wrapped bool) *mutation {
	var encrypted, signed []string
	for _, k := range slices.Sorted(maps.Keys(tc.item)) {
		switch tc.action(k) {
		case actions.EncryptAndSign:
			encrypted = append(encrypted, k)
			signed = append(signed, k)
		case actions.SignOnly:
			signed = append(signed, k)
		}
	}
	kinds := []string{"add-signed", "sig-flip", "sig-truncate", "sig-drop", "desc-truncate", "desc-version"}
	if wrapped {
		kinds = append(kinds, "desc-wrapped-key")
	}
	if len(encrypted) > 0 {
		kinds = append(kinds, "flip-ciphertext", "flip-ciphertext")
	}
	if len(signed) > 0 {
		kinds = append(kinds, "change-signed", "change-signed", "drop-signed", "rename-signed")
	}
	m := &mutation{kind: kinds[g.r.IntN(len(kinds))], pos: g.r.IntN(1 << 20)}
	switch m.kind {
	case "flip-ciphertext":
		m.target = encrypted[g.r.IntN(len(encrypted))]
	case "change-signed", "drop-signed":
		m.target = signed[g.r.IntN(len(signed))]
	case "rename-signed":
		m.target = signed[g.r.IntN(len(signed))]
		m.name = tc.ghosts[g.r.IntN(len(tc.ghosts))]
	case "add-signed":
		m.name = tc.ghosts[g.r.IntN(len(tc.ghosts))]
		m.value = g.value(2)
	}
	if m.kind == "change-signed" {
		old := tc.item[m.target]
		for {
			v := g.value(2)
			if m.target == tc.pk || m.target == tc.sk {
				v = g.keyValue()
			}
			if !ddbjson.Equal(old, v, ddbserial.CanonicalNumber) && !ddbjson.Equal(old, v, ddbserial.PythonNumber) {
				m.value = v
				break
			}
		}
	}
	return m
}

// apply returns a copy of the protected item with m applied; ok is false
// when m does not apply to it (after minimisation removed its target).
func (m *mutation) apply(tc *testCase, protected itemcrypto.Item) (itemcrypto.Item, bool) {
	out := maps.Clone(protected)
	flip := func(b []byte) []byte {
		c := slices.Clone(b)
		if len(c) == 0 {
			return []byte{1}
		}
		c[m.pos%len(c)] ^= byte(1 << (m.pos / 7 % 8))
		return c
	}
	bin := func(name string) ([]byte, bool) {
		v, ok := out[name].(*types.AttributeValueMemberB)
		if !ok {
			return nil, false
		}
		return v.Value, true
	}
	switch m.kind {
	case "flip-ciphertext":
		b, ok := bin(m.target)
		if !ok {
			return nil, false
		}
		out[m.target] = &types.AttributeValueMemberB{Value: flip(b)}
	case "change-signed":
		if _, ok := out[m.target]; !ok {
			return nil, false
		}
		if tc.action(m.target) == actions.EncryptAndSign {
			b, _ := bin(m.target)
			out[m.target] = &types.AttributeValueMemberB{Value: append(slices.Clone(b), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)}
		} else {
			out[m.target] = m.value
		}
	case "drop-signed":
		if _, ok := out[m.target]; !ok {
			return nil, false
		}
		delete(out, m.target)
	case "rename-signed":
		v, ok := out[m.target]
		if !ok {
			return nil, false
		}
		delete(out, m.target)
		out[m.name] = v
	case "add-signed":
		out[m.name] = m.value
	case "sig-flip":
		b, _ := bin(itemcrypto.SignatureAttribute)
		out[itemcrypto.SignatureAttribute] = &types.AttributeValueMemberB{Value: flip(b)}
	case "sig-truncate":
		b, _ := bin(itemcrypto.SignatureAttribute)
		out[itemcrypto.SignatureAttribute] = &types.AttributeValueMemberB{Value: b[:m.pos%max(len(b), 1)]}
	case "sig-drop":
		delete(out, itemcrypto.SignatureAttribute)
	case "desc-truncate":
		// Cut inside an entry: a description cut between entries is a
		// well-formed one that lacks its last entries, which our reader,
		// like Java's, needs only where it uses them (amzn-ddb-map-sym-mode
		// to decrypt an attribute, amzn-ddb-wrap-alg to unwrap), while
		// Python fails without them even when the item encrypts nothing
		// (spec section 10).
		b, _ := bin(itemcrypto.MaterialDescriptionAttribute)
		cut := 5 + m.pos%max(len(b)-5, 1)
		for at := 4; at+4 <= len(b); {
			if cut == at {
				cut--
				break
			}
			n := int(binary.BigEndian.Uint32(b[at:]))
			at += 4 + n
		}
		out[itemcrypto.MaterialDescriptionAttribute] = &types.AttributeValueMemberB{Value: b[:cut]}
	case "desc-version":
		b, _ := bin(itemcrypto.MaterialDescriptionAttribute)
		c := slices.Clone(b)
		c[m.pos%4] ^= byte(1 + m.pos/4%255)
		out[itemcrypto.MaterialDescriptionAttribute] = &types.AttributeValueMemberB{Value: c}
	case "desc-wrapped-key":
		b, _ := bin(itemcrypto.MaterialDescriptionAttribute)
		d, err := materialdesc.Decode(b)
		if err != nil {
			return nil, false
		}
		wk, err := base64Decode(d["amzn-ddb-env-key"])
		if err != nil {
			return nil, false
		}
		d = d.Clone()
		d["amzn-ddb-env-key"] = b64(flip(wk))
		out[itemcrypto.MaterialDescriptionAttribute] = &types.AttributeValueMemberB{Value: d.Encode()}
	}
	return out, true
}

// harness runs one direction of the differential test.
type harness struct {
	t     *testing.T
	py    *oracle
	specs []*providerSpec
	seed  uint64
	fails int
}

func newHarness(t *testing.T) (*harness, int) {
	seed, items := runConfig(t)
	py := startOracle(t)
	h := &harness{t: t, py: py, seed: seed}
	h.specs = providers(t, seed)
	for _, s := range h.specs {
		if _, err := py.call(s.req); err != nil {
			t.Fatalf("provider %s: %v", s.name, err)
		}
	}
	return h, items
}

func (h *harness) caseAt(i int) (*gen, *testCase, *providerSpec) {
	g := &gen{r: rand.New(rand.NewPCG(h.seed, uint64(i))), avoidNumber: pythonCannotWrite}
	return g, g.testCase(), h.specs[i%len(h.specs)]
}

func (h *harness) encryptor(tc *testCase, spec *providerSpec, opts ...func(*itemcrypto.Options)) (*itemcrypto.Encryptor, error) {
	pol, err := tc.policy()
	if err != nil {
		return nil, err
	}
	return itemcrypto.New(itemcrypto.Config{TableName: tc.table, Policy: pol, Provider: spec.p}, opts...)
}

// report prints a failure with the seed, the item index and a minimised
// item; check re-runs the failing check on a smaller case.
func (h *harness) report(i int, spec *providerSpec, tc *testCase, m *mutation, err error, check func(*testCase) error) {
	h.t.Helper()
	h.fails++
	keep := map[string]bool{tc.pk: true, tc.sk: true}
	if m != nil {
		keep[m.target] = true
	}
	small, serr := minimise(tc, keep, check)
	if serr == nil {
		small, serr = tc, err
	}
	j, _ := ddbjson.MarshalItemIndent(small.item, "\t", " ")
	over := map[string]string{}
	for k, a := range small.over {
		over[k] = a.String()
	}
	ms := "none"
	if m != nil {
		ms = m.String()
	}
	h.t.Errorf("item %d of seed %d (ITEMCRYPTO_INTEROP_SEED=%d), provider %s, mutation %s:\n\t%v\n\tminimised (%v): table %q, keys %q/%q, default %v, overrides %q\n\t%s",
		i, h.seed, h.seed, spec.name, ms, err, serr, small.table, small.pk, small.sk, small.def, over, j)
}

// minimise drops attributes, then set members and list and map entries,
// while check still fails; it returns the smallest failing case and its
// error (nil error: the case no longer fails at all).
func minimise(tc *testCase, keep map[string]bool, check func(*testCase) error) (*testCase, error) {
	err := check(tc)
	if err == nil {
		return tc, nil
	}
	budget := 400
	try := func(item itemcrypto.Item) bool {
		if budget <= 0 {
			return false
		}
		budget--
		c := tc.withItem(item)
		if e := check(c); e != nil {
			tc, err = c, e
			return true
		}
		return false
	}
	for _, k := range slices.Sorted(maps.Keys(tc.item)) {
		if keep[k] {
			continue
		}
		it := maps.Clone(tc.item)
		delete(it, k)
		try(it)
	}
	for progress := true; progress && budget > 0; {
		progress = false
		for _, k := range slices.Sorted(maps.Keys(tc.item)) {
			for _, v := range shrink(tc.item[k]) {
				it := maps.Clone(tc.item)
				it[k] = v
				if try(it) {
					progress = true
					break
				}
			}
		}
	}
	return tc, err
}

// shrink returns smaller variants of v.
func shrink(v types.AttributeValue) []types.AttributeValue {
	var out []types.AttributeValue
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		if r := []rune(v.Value); len(r) > 1 {
			out = append(out, &types.AttributeValueMemberS{Value: string(r[:len(r)/2])}, &types.AttributeValueMemberS{Value: string(r[len(r)/2:])})
		}
	case *types.AttributeValueMemberB:
		if len(v.Value) > 1 {
			out = append(out, &types.AttributeValueMemberB{Value: v.Value[:len(v.Value)/2]})
		}
	case *types.AttributeValueMemberSS:
		for i := range v.Value {
			if len(v.Value) > 1 {
				out = append(out, &types.AttributeValueMemberSS{Value: slices.Delete(slices.Clone(v.Value), i, i+1)})
			}
		}
	case *types.AttributeValueMemberNS:
		for i := range v.Value {
			if len(v.Value) > 1 {
				out = append(out, &types.AttributeValueMemberNS{Value: slices.Delete(slices.Clone(v.Value), i, i+1)})
			}
		}
	case *types.AttributeValueMemberBS:
		for i := range v.Value {
			if len(v.Value) > 1 {
				out = append(out, &types.AttributeValueMemberBS{Value: slices.Delete(slices.Clone(v.Value), i, i+1)})
			}
		}
	case *types.AttributeValueMemberL:
		for i, e := range v.Value {
			out = append(out, e, &types.AttributeValueMemberL{Value: slices.Delete(slices.Clone(v.Value), i, i+1)})
		}
		for i, e := range v.Value {
			for _, s := range shrink(e) {
				l := slices.Clone(v.Value)
				l[i] = s
				out = append(out, &types.AttributeValueMemberL{Value: l})
			}
		}
	case *types.AttributeValueMemberM:
		for _, k := range slices.Sorted(maps.Keys(v.Value)) {
			m := maps.Clone(v.Value)
			delete(m, k)
			out = append(out, v.Value[k], &types.AttributeValueMemberM{Value: m})
		}
		for _, k := range slices.Sorted(maps.Keys(v.Value)) {
			for _, s := range shrink(v.Value[k]) {
				m := maps.Clone(v.Value)
				m[k] = s
				out = append(out, &types.AttributeValueMemberM{Value: m})
			}
		}
	}
	return out
}

// TestPythonReadsOurs: items we write in the Python form decrypt in the
// Python client to the plaintext we encrypted, and one mutation of each
// fails there.
func TestPythonReadsOurs(t *testing.T) {
	t.Parallel()
	h, items := newHarness(t)
	ctx := context.Background()
	counts := map[string]int{}
	for i := range items {
		g, tc, spec := h.caseAt(i)
		m := pickMutation(g, tc, strings.HasPrefix(spec.name, "wrapped"))
		counts[spec.name]++
		counts[m.kind]++
		roundTrip := func(tc *testCase) error {
			enc, err := h.encryptor(tc, spec, itemcrypto.WithWriteForm(itemcrypto.FormPython))
			if err != nil {
				return fmt.Errorf("ours: New: %v", err)
			}
			ct, err := enc.Encrypt(ctx, tc.item)
			if err != nil {
				return fmt.Errorf("ours: Encrypt (FormPython): %v", err)
			}
			pt, err := h.py.item("decrypt", spec.name, tc.withItem(ct))
			if err != nil {
				return fmt.Errorf("Python decrypt of our item: %v", err)
			}
			if err := sameItem(tc, tc.item, pt, pythonReads); err != nil {
				return fmt.Errorf("Python decrypted our item to another plaintext: %v", err)
			}
			return nil
		}
		if err := roundTrip(tc); err != nil {
			h.report(i, spec, tc, nil, err, roundTrip)
		} else {
			mutated := func(tc *testCase) error {
				enc, err := h.encryptor(tc, spec, itemcrypto.WithWriteForm(itemcrypto.FormPython))
				if err != nil {
					return fmt.Errorf("ours: New: %v", err)
				}
				ct, err := enc.Encrypt(ctx, tc.item)
				if err != nil {
					return fmt.Errorf("ours: Encrypt (FormPython): %v", err)
				}
				bad, ok := m.apply(tc, ct)
				if !ok {
					return nil
				}
				if _, err := h.py.item("decrypt", spec.name, tc.withItem(bad)); err == nil {
					return errors.New("Python decrypted our item after the mutation")
				} else if !errors.Is(err, errPython) {
					return err
				}
				return nil
			}
			if err := mutated(tc); err != nil {
				h.report(i, spec, tc, m, err, mutated)
			}
		}
		if h.fails >= 5 {
			t.Fatalf("stopped after %d failures (item %d of %d)", h.fails, i+1, items)
		}
	}
	t.Logf("%d items: %v", items, counts)
}

// TestOursReadsPython: items the Python client writes decrypt with our
// default reader to the plaintext Python encrypted (numbers as Python
// stored them), and one mutation of each fails.
func TestOursReadsPython(t *testing.T) {
	t.Parallel()
	h, items := newHarness(t)
	ctx := context.Background()
	counts := map[string]int{}
	for i := range items {
		g, tc, spec := h.caseAt(i)
		m := pickMutation(g, tc, strings.HasPrefix(spec.name, "wrapped"))
		counts[spec.name]++
		counts[m.kind]++
		var ct itemcrypto.Item
		roundTrip := func(tc *testCase) error {
			c, err := h.py.item("encrypt", spec.name, tc)
			if err != nil {
				return fmt.Errorf("Python encrypt: %v", err)
			}
			enc, err := h.encryptor(tc, spec)
			if err != nil {
				return fmt.Errorf("ours: New: %v", err)
			}
			pt, err := enc.Decrypt(ctx, c)
			if err != nil {
				return fmt.Errorf("ours: Decrypt of Python's item: %v", err)
			}
			if err := sameItem(tc, tc.item, pt, pythonWrote); err != nil {
				return fmt.Errorf("we decrypted Python's item to another plaintext: %v", err)
			}
			ct = c
			return nil
		}
		if err := roundTrip(tc); err != nil {
			h.report(i, spec, tc, nil, err, roundTrip)
		} else {
			enc, err := h.encryptor(tc, spec)
			if err != nil {
				t.Fatal(err)
			}
			if bad, ok := m.apply(tc, ct); ok {
				if _, err := enc.Decrypt(ctx, bad); err == nil {
					mutated := func(tc *testCase) error {
						c, err := h.py.item("encrypt", spec.name, tc)
						if err != nil {
							return fmt.Errorf("Python encrypt: %v", err)
						}
						bad, ok := m.apply(tc, c)
						if !ok {
							return nil
						}
						enc, err := h.encryptor(tc, spec)
						if err != nil {
							return err
						}
						if _, err := enc.Decrypt(ctx, bad); err == nil {
							return errors.New("we decrypted Python's item after the mutation")
						}
						return nil
					}
					h.report(i, spec, tc, m, errors.New("we decrypted Python's item after the mutation"), mutated)
				}
			}
		}
		if h.fails >= 5 {
			t.Fatalf("stopped after %d failures (item %d of %d)", h.fails, i+1, items)
		}
	}
	t.Logf("%d items: %v", items, counts)
}
