package dbesdk

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

var (
	flagItems = flag.Int("dbesdk.items", 0, "items per direction in TestDifferential (0: 2000, or 200 with -short)")
	flagSeed  = flag.Uint64("dbesdk.seed", 0, "first case seed of TestDifferential (0: from the clock, printed)")
	flagCase  = flag.Uint64("dbesdk.case", 0, "run only this case seed (as printed by a failure)")
)

const (
	headAttr = "aws_dbe_head"
	footAttr = "aws_dbe_foot"
)

// failure is one divergence: the stage that diverged and what was seen.
type failure struct {
	stage  string
	detail string
}

func (f *failure) Error() string { return f.stage + ": " + f.detail }

func fail(stage, format string, args ...any) *failure {
	return &failure{stage: stage, detail: fmt.Sprintf(format, args...)}
}

// safe calls f, turning a panic (the reference is translated code) into an error.
func safe(f func() (Item, error)) (it Item, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("PANIC: %v", p)
			if strings.Contains(string(debug.Stack()), "ECDH.CompanionStruct_Default___.DecompressPublicKey") {
				err = fmt.Errorf("%w: %v", errRefDecompressPanic, err)
			}
		}
	}()
	return f()
}

// errRefDecompressPanic: the reference's ECDH DecompressPublicKey (MPL
// primitives v0.4.0, ECDH/externs.go) panics on a compressed point that is
// not on the curve (it does not check elliptic.UnmarshalCompressed's nil
// result before ecdsa.PublicKey.ECDH), so a header whose raw ECDH sender
// key was changed makes the reference's discovery keyring panic where ours
// refuses the item (TestECDHReferencePanicsOnInvalidSenderKey).
var errRefDecompressPanic = errors.New("reference panic in ECDH DecompressPublicKey (known)")

func enc(ctx context.Context, s Side, it Item) (Item, error) {
	return safe(func() (Item, error) { return s.Encrypt(ctx, cloneItem(it)) })
}
func dec(ctx context.Context, s Side, it Item) (Item, error) {
	return safe(func() (Item, error) { return s.Decrypt(ctx, cloneItem(it)) })
}

// stats counts what a run did.
type stats struct {
	items, bothRejected, mutations, controls, otherTag int
	refPanics                                          int // errRefDecompressPanic, ours refusing
	perKeyring                                         map[string]int
	perVersion                                         [3]int
	perSuite                                           map[string]int
	mutationKinds                                      map[string]int
	rejections                                         []string
}

// check runs one item through both directions and one mutation each way.
// mutSeed draws the mutations.
func check(ctx context.Context, c *Config, o, r Side, it Item, mutSeed uint64, st *stats) *failure {
	eo, errO := enc(ctx, o, it)
	er, errR := enc(ctx, r, it)
	switch {
	case errO != nil && errR != nil:
		if st != nil {
			st.bothRejected++
			if len(st.rejections) < 8 {
				st.rejections = append(st.rejections, fmt.Sprintf("ours: %v / reference: %v", errO, errR))
			}
		}
		return nil
	case errO != nil:
		return fail("encrypt: ours refuses, the reference accepts", "%v", errO)
	case errR != nil:
		return fail("encrypt: the reference refuses, ours accepts", "%v", errR)
	}
	// What is not encrypted is stored as given, on both sides.
	for name, v := range it {
		a := c.Actions[name]
		if a == actions.EncryptAndSign {
			if _, ok := eo[name].(*types.AttributeValueMemberB); !ok {
				return fail("encrypt: ours does not store an encrypted attribute as B", "%q: %s", name, short(eo[name]))
			}
			if _, ok := er[name].(*types.AttributeValueMemberB); !ok {
				return fail("encrypt: the reference does not store an encrypted attribute as B", "%q: %s", name, short(er[name]))
			}
			continue
		}
		if !exact(eo[name], er[name]) {
			return fail("encrypt: a plaintext attribute is stored differently", "%q: given %s ours %s reference %s", name, short(v), short(eo[name]), short(er[name]))
		}
	}
	namesO, namesR := slices.Sorted(mapsKeys(eo)), slices.Sorted(mapsKeys(er))
	if !slices.Equal(namesO, namesR) {
		return fail("encrypt: the stored items have different attributes", "ours %q reference %q", namesO, namesR)
	}
	// ours → reference, and ours → ours for an exact comparison.
	if f := crossDecrypt(ctx, "ours→reference", eo, it, r, o); f != nil {
		return f
	}
	if f := crossDecrypt(ctx, "reference→ours", er, it, o, r); f != nil {
		return f
	}
	mr := rand.New(rand.NewPCG(mutSeed, 7))
	if f := mutateCheck(ctx, c, "ours→reference", eo, r, o, mr, st); f != nil {
		return f
	}
	if f := mutateCheck(ctx, c, "reference→ours", er, o, r, mr, st); f != nil {
		return f
	}
	if st != nil {
		st.items++
	}
	return nil
}

// crossDecrypt decrypts stored (written by writer) with reader and with
// writer: reader's plaintext must equal the original by value and writer's
// to the byte.
func crossDecrypt(ctx context.Context, dir string, stored, orig Item, reader, writer Side) *failure {
	p, err := dec(ctx, reader, stored)
	if err != nil {
		return fail(dir+": decrypt fails", "%v", err)
	}
	if !equalByValue(orig, p) {
		return fail(dir+": decrypted item differs from the plaintext", "%s", diffItems(orig, p, byValue))
	}
	self, err := dec(ctx, writer, stored)
	if err != nil {
		return fail(dir+": the writer cannot decrypt its own item", "%v", err)
	}
	if !equalExact(self, p) {
		return fail(dir+": the two decryptions differ", "writer vs reader: %s", diffItems(self, p, exact))
	}
	return nil
}

var mutationKinds = []string{"flip-field", "flip-head", "flip-foot", "change-signed", "drop-signed", "add-signed", "rename-signed", "change-unsigned"}

// mutate applies one mutation to a copy of stored. ok reports whether the
// result must still decrypt (a change outside the signature).
func mutate(c *Config, stored Item, r *rand.Rand) (m Item, kind string, mustPass bool, desc string) {
	m = cloneItem(stored)
	pick := func(pred func(name string) bool) string {
		var names []string
		for _, n := range slices.Sorted(mapsKeys(m)) {
			if n != headAttr && n != footAttr && pred(n) {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return ""
		}
		return names[r.IntN(len(names))]
	}
	signed := func(n string) bool { a, ok := c.Actions[n]; return ok && a != actions.DoNothing }
	flip := func(b []byte) int {
		i := r.IntN(len(b))
		b[i] ^= byte(1 << r.IntN(8))
		return i
	}
	g := &gen{r: r}
	fresh := func() string {
		for {
			n := "zz" + g.name()
			if _, ok := c.Actions[n]; !ok && !c.isUnsigned(n) && m[n] == nil {
				return n
			}
		}
	}
	kind = mutationKinds[r.IntN(len(mutationKinds))]
	switch kind {
	case "flip-field":
		if n := pick(func(n string) bool { return c.Actions[n] == actions.EncryptAndSign }); n != "" {
			b := m[n].(*types.AttributeValueMemberB).Value
			i := flip(b)
			return m, kind, false, fmt.Sprintf("byte %d of %q", i, n)
		}
	case "flip-foot":
		b := m[footAttr].(*types.AttributeValueMemberB).Value
		i := flip(b)
		return m, kind, false, fmt.Sprintf("byte %d of %d", i, len(b))
	case "change-signed":
		if n := pick(func(n string) bool { return signed(n) && c.Actions[n] != actions.EncryptAndSign }); n != "" {
			old := m[n]
			var v types.AttributeValue
			for v = g.value(2); byValue(v, old); v = g.value(2) {
			}
			if n == c.PK || n == c.SK {
				for v = g.keyValue(); byValue(v, old); v = g.keyValue() {
				}
			}
			m[n] = v
			return m, kind, false, fmt.Sprintf("%q: %s → %s", n, short(old), short(v))
		}
	case "drop-signed":
		if n := pick(signed); n != "" {
			delete(m, n)
			return m, kind, false, fmt.Sprintf("%q", n)
		}
	case "add-signed":
		n := fresh()
		m[n] = g.value(1)
		return m, kind, false, fmt.Sprintf("%q: %s", n, short(m[n]))
	case "rename-signed":
		if n := pick(signed); n != "" {
			nn := fresh()
			m[nn] = m[n]
			delete(m, n)
			return m, kind, false, fmt.Sprintf("%q → %q", n, nn)
		}
	case "change-unsigned":
		if n := pick(func(n string) bool { return c.isUnsigned(n) }); n != "" {
			old := m[n]
			m[n] = g.value(2)
			return m, kind, true, fmt.Sprintf("%q: %s → %s", n, short(old), short(m[n]))
		}
		if c.Prefix != "" {
			n := c.Prefix + "added"
			m[n] = g.value(1)
			return m, kind, true, fmt.Sprintf("new %q", n)
		}
	}
	kind = "flip-head"
	b := m[headAttr].(*types.AttributeValueMemberB).Value
	i := flip(b)
	return m, kind, false, fmt.Sprintf("byte %d of %d", i, len(b))
}

func mutateCheck(ctx context.Context, c *Config, dir string, stored Item, reader, writer Side, r *rand.Rand, st *stats) *failure {
	m, kind, mustPass, desc := mutate(c, stored, r)
	if st != nil {
		st.mutationKinds[kind]++
		if mustPass {
			st.controls++
		} else {
			st.mutations++
		}
	}
	p, err := dec(ctx, reader, m)
	_, errW := dec(ctx, writer, m)
	switch {
	case errors.Is(err, errRefDecompressPanic) && reader.Name() == "reference" && errW != nil && !strings.Contains(errW.Error(), "PANIC"):
		if st != nil {
			st.refPanics++
		}
	case err != nil && strings.Contains(err.Error(), "PANIC"):
		return fail(dir+": "+kind+" panics", "%s: %v", desc, err)
	case mustPass && err != nil:
		return fail(dir+": "+kind+" (outside the signature) is refused", "%s: %v", desc, err)
	case mustPass:
		for n, v := range m {
			if n != headAttr && n != footAttr && c.isUnsigned(n) && !exact(v, p[n]) {
				return fail(dir+": "+kind+" not returned as stored", "%s", desc)
			}
		}
	case (err == nil) != (errW == nil):
		return fail(dir+": "+kind+" refused by one side only", "%s: reader (%s) %v, writer (%s) %v", desc, reader.Name(), err, writer.Name(), errW)
	case err == nil && kind == "flip-foot":
		// Both accept: a reader verifies the recipient tag of the data key
		// it decrypted and no other (the DB-ESDK's footer rule), so a flip
		// in another recipient's tag goes unseen on both sides.
		if st != nil {
			st.otherTag++
		}
	case err == nil:
		return fail(dir+": "+kind+" accepted by both sides", "%s", desc)
	}
	return nil
}

// runCase draws the configuration and items of one seed and checks them.
func runCase(ctx context.Context, t testing.TB, seed uint64, pairs map[string]KeyringPair, names []string, big bool, st *stats) (*Config, Item, *failure) {
	g := newGen(seed)
	g.big = big
	c := g.config(names)
	kp := pairs[c.Keyring]
	o, errO := newOurs(c, kp.Ours)
	r, errR := newRef(c, kp.Ref)
	switch {
	case errO != nil && errR != nil:
		return c, nil, nil
	case errO != nil:
		return c, nil, fail("config: ours refuses, the reference accepts", "%v", errO)
	case errR != nil:
		return c, nil, fail("config: the reference refuses, ours accepts", "%v", errR)
	}
	nitems := 1 + g.n(3)
	for range nitems {
		it := g.item(c)
		mutSeed := g.r.Uint64()
		if f := check(ctx, c, o, r, it, mutSeed, st); f != nil {
			return c, it, f
		}
		if st != nil {
			st.perKeyring[c.Keyring]++
			st.perVersion[c.Version()]++
			st.perSuite[fmt.Sprintf("0x%04x", uint16(c.Suite))]++
		}
		_ = mutSeed
	}
	return c, nil, nil
}

func newStats() *stats {
	return &stats{perKeyring: map[string]int{}, perSuite: map[string]int{}, mutationKinds: map[string]int{}}
}

// report prints a divergence with its seed and a minimised item.
func report(t testing.TB, ctx context.Context, seed uint64, c *Config, it Item, f *failure, pairs map[string]KeyringPair) {
	t.Helper()
	msg := fmt.Sprintf("seed %d (rerun: go test -run 'TestDifferential$' -dbesdk.case=%d)\n%s\nconfig: %s", seed, seed, f, c)
	if it != nil {
		kp := pairs[c.Keyring]
		o, _ := newOurs(c, kp.Ours)
		r, _ := newRef(c, kp.Ref)
		g := newGen(seed)
		mutSeed := g.r.Uint64()
		min := minimise(it, c, func(cand Item) bool {
			g := check(ctx, c, o, r, cand, mutSeed, nil)
			return g != nil && g.stage == f.stage
		})
		again := check(ctx, c, o, r, min, mutSeed, nil)
		msg += fmt.Sprintf("\nitem (%d attributes): %s\nminimised item: %s\nminimised failure: %v", len(it), trunc(itemJSON(it), 2000), itemJSON(min), again)
	}
	t.Error(msg)
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// minimise shrinks an item while fails still holds: it drops attributes
// (never the keys) and simplifies values, to a fixed point.
func minimise(it Item, c *Config, fails func(Item) bool) Item {
	cur := cloneItem(it)
	deadline := time.Now().Add(60 * time.Second)
	for changed := true; changed && time.Now().Before(deadline); {
		changed = false
		for _, n := range slices.Sorted(mapsKeys(cur)) {
			if n == c.PK || n == c.SK {
				continue
			}
			cand := cloneItem(cur)
			delete(cand, n)
			if fails(cand) {
				cur, changed = cand, true
			}
		}
		for _, n := range slices.Sorted(mapsKeys(cur)) {
			for _, v := range shrinkValue(cur[n]) {
				cand := cloneItem(cur)
				cand[n] = v
				if fails(cand) {
					cur, changed = cand, true
					break
				}
			}
		}
	}
	return cur
}

// shrinkValue proposes simpler values than v.
func shrinkValue(v types.AttributeValue) []types.AttributeValue {
	var out []types.AttributeValue
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		if len(v.Value) > 0 {
			rs := []rune(v.Value)
			out = append(out, &types.AttributeValueMemberS{Value: string(rs[:len(rs)/2])}, &types.AttributeValueMemberS{Value: string(rs[1:])})
		}
	case *types.AttributeValueMemberB:
		if len(v.Value) > 0 {
			out = append(out, &types.AttributeValueMemberB{Value: v.Value[:len(v.Value)/2]}, &types.AttributeValueMemberB{Value: v.Value[1:]})
		}
	case *types.AttributeValueMemberN:
		if v.Value != "0" && v.Value != "1" {
			out = append(out, &types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberN{Value: canonPlain(v.Value)})
		}
	case *types.AttributeValueMemberSS:
		if len(v.Value) > 1 {
			out = append(out, &types.AttributeValueMemberSS{Value: v.Value[:len(v.Value)/2]}, &types.AttributeValueMemberSS{Value: v.Value[1:]})
		}
	case *types.AttributeValueMemberNS:
		if len(v.Value) > 1 {
			out = append(out, &types.AttributeValueMemberNS{Value: v.Value[:len(v.Value)/2]}, &types.AttributeValueMemberNS{Value: v.Value[1:]})
		}
	case *types.AttributeValueMemberBS:
		if len(v.Value) > 1 {
			out = append(out, &types.AttributeValueMemberBS{Value: v.Value[:len(v.Value)/2]}, &types.AttributeValueMemberBS{Value: v.Value[1:]})
		}
	case *types.AttributeValueMemberL:
		for i := range v.Value {
			out = append(out, v.Value[i])
			l := slices.Clone(v.Value)
			out = append(out, &types.AttributeValueMemberL{Value: slices.Delete(l, i, i+1)})
			for _, s := range shrinkValue(v.Value[i]) {
				l := slices.Clone(v.Value)
				l[i] = s
				out = append(out, &types.AttributeValueMemberL{Value: l})
			}
		}
	case *types.AttributeValueMemberM:
		for _, k := range slices.Sorted(mapsKeys(v.Value)) {
			out = append(out, v.Value[k])
			m := cloneItem(v.Value)
			delete(m, k)
			out = append(out, &types.AttributeValueMemberM{Value: m})
			for _, s := range shrinkValue(v.Value[k]) {
				m := cloneItem(v.Value)
				m[k] = s
				out = append(out, &types.AttributeValueMemberM{Value: m})
			}
		}
	}
	return out
}

// canonPlain is a plain spelling of the number ("1e2" → "100") when short.
func canonPlain(s string) string {
	c := canonNumber(s)
	if c == "0" || strings.HasPrefix(c, "!") {
		return "0"
	}
	return c
}

func isCI() bool { return os.Getenv("CI") == "true" }

func itemsPerDirection() int {
	if *flagItems > 0 {
		return *flagItems
	}
	if testing.Short() {
		return 200
	}
	return 2000
}

func pairsOf(ps []KeyringPair) (map[string]KeyringPair, []string) {
	m := map[string]KeyringPair{}
	var names []string
	for _, p := range ps {
		m[p.Name] = p
		names = append(names, p.Name)
	}
	return m, names
}

func allKeyrings(t testing.TB) []KeyringPair {
	ps := slices.Clone(rawKeyrings(t))
	ps = append(ps, ecdhKeyrings(t)...)
	ps = append(ps, kmsAsymKeyrings(t)...)
	ps = append(ps, kmsMRKKeyrings(t)...)
	ps = append(ps, kmsMultiKeyrings(t)...)
	return append(ps, kmsKeyring(t), *hierStaticKeyring(t))
}

// TestDifferential: generated items, both directions, one mutation each
// way, over the keyrings that need no service.
func TestDifferential(t *testing.T) {
	ctx := context.Background()
	pairs, names := pairsOf(allKeyrings(t))
	if *flagCase != 0 {
		c, it, f := runCase(ctx, t, *flagCase, pairs, names, true, newStats())
		if f != nil {
			report(t, ctx, *flagCase, c, it, f, pairs)
		}
		return
	}
	runMany(t, ctx, pairs, names, itemsPerDirection())
}

// runMany checks generated cases from the base seed until want items per
// direction have passed.
func runMany(t *testing.T, ctx context.Context, pairs map[string]KeyringPair, names []string, want int) {
	base := *flagSeed
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	t.Logf("base seed %d (-dbesdk.seed=%d reproduces the run)", base, base)
	st := newStats()
	start := time.Now()
	failures := 0
	for i := uint64(0); st.items < want; i++ {
		seed := base + i
		c, it, f := runCase(ctx, t, seed, pairs, names, i%8 == 0, st)
		if f != nil {
			report(t, ctx, seed, c, it, f, pairs)
			if failures++; failures >= 5 {
				t.Fatalf("stopping after %d failures", failures)
			}
		}
		if i > uint64(want)*4 {
			t.Fatalf("only %d items of %d after %d cases", st.items, want, i)
		}
	}
	for _, r := range st.rejections {
		t.Logf("refused by both: %s", trunc(r, 300))
	}
	t.Logf("%d items per direction in %v (%d refused by both sides); %d mutations refused (%d foot flips in another recipient's tag accepted by both, as the format has it; %d by a known reference panic on an invalid ECDH sender key, ours refusing), %d unsigned changes accepted; by keyring %v; by version %v; by suite %v; mutation kinds %v",
		st.items, time.Since(start).Round(time.Millisecond), st.bothRejected, st.mutations, st.otherTag, st.refPanics, st.controls, st.perKeyring, st.perVersion[1:], st.perSuite, st.mutationKinds)
}

// FuzzDifferential: the same generator, driven by the fuzzer's seed.
func FuzzDifferential(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42, 1 << 40} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, seed uint64) {
		pairs, names := pairsOf(allKeyrings(t))
		c, it, fl := runCase(ctx, t, seed, pairs, names, false, nil)
		if fl != nil {
			report(t, ctx, seed, c, it, fl, pairs)
		}
	})
}

// TestRoundTripAES is the smallest check: one fixed item, raw AES, both ways.
func TestRoundTripAES(t *testing.T) {
	ctx := context.Background()
	var kp KeyringPair
	for _, p := range rawKeyrings(t) {
		if p.Name == "aes256" {
			kp = p
		}
	}
	c := &Config{Table: "table", PK: "pk", SK: "sk", Suite: suites[1], Keyring: kp.Name, Prefix: ":",
		Actions: map[string]actions.Action{"pk": actions.SignOnly, "sk": actions.SignOnly, "a": actions.EncryptAndSign, "b": actions.SignOnly, ":c": actions.DoNothing}}
	it := Item{
		"pk": &types.AttributeValueMemberS{Value: "p"}, "sk": &types.AttributeValueMemberN{Value: "1.50"},
		"a": &types.AttributeValueMemberS{Value: "secret"}, "b": &types.AttributeValueMemberNS{Value: []string{"1", "2e3"}},
		":c": &types.AttributeValueMemberBOOL{Value: true},
	}
	o, r := newSides(t, c, kp.Ours, kp.Ref)
	if f := check(ctx, c, o, r, it, 1, nil); f != nil {
		t.Fatal(f)
	}
	_ = errors.New
}
