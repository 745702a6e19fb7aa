package actions_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    actions.Action
		wantErr bool
	}{
		{"encrypt", actions.EncryptAndSign, false},
		{"EncryptAndSign", actions.EncryptAndSign, false},
		{"encrypt-and-sign", actions.EncryptAndSign, false},
		{"sign", actions.SignOnly, false},
		{"SignOnly", actions.SignOnly, false},
		{"sign-only", actions.SignOnly, false},
		{"nothing", actions.DoNothing, false},
		{"DoNothing", actions.DoNothing, false},
		{"do-nothing", actions.DoNothing, false},
		{"", 0, true},
		{"ENCRYPT", 0, true},
		{"encrypt ", 0, true},
		{"sign_only", 0, true},
		{"2", 0, true},
	}
	for _, tt := range tests {
		got, err := actions.Parse(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Parse(%q) = %v, nil; want an error", tt.in, got)
			} else if !errors.Is(err, actions.ErrInvalidPolicy) {
				t.Errorf("Parse(%q) error = %v; want it to match ErrInvalidPolicy", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseStringRoundTrip(t *testing.T) {
	for _, a := range []actions.Action{actions.DoNothing, actions.SignOnly, actions.EncryptAndSign} {
		got, err := actions.Parse(a.String())
		if err != nil || got != a {
			t.Errorf("Parse(%v.String()) = %v, %v; want %v, nil", a, got, err, a)
		}
	}
	if got := actions.Action(9).String(); got != "Action(9)" {
		t.Errorf("Action(9).String() = %q; want %q", got, "Action(9)")
	}
}

func TestOrdering(t *testing.T) {
	if !(actions.DoNothing < actions.SignOnly && actions.SignOnly < actions.EncryptAndSign) {
		t.Errorf("want DoNothing < SignOnly < EncryptAndSign, got %d %d %d", actions.DoNothing, actions.SignOnly, actions.EncryptAndSign)
	}
	// The zero value is no action at all (documented on Action): New
	// refuses it, see TestNewRefusesMissingSettings.
	var a actions.Action
	if a == actions.DoNothing || a == actions.SignOnly || a == actions.EncryptAndSign {
		t.Errorf("zero Action = %v; want it to be none of the actions", a)
	}
	if got := a.String(); got != "Action(unset)" {
		t.Errorf("zero Action String() = %q; want Action(unset)", got)
	}
}

func TestIsReserved(t *testing.T) {
	tests := map[string]bool{
		"*amzn-ddb-map-desc*": true,
		"*amzn-ddb-map-sig*":  true,
		"amzn-ddb-map-desc":   false,
		"*amzn-ddb-map-desc":  false,
		"":                    false,
		"pk":                  false,
	}
	for name, want := range tests {
		if got := actions.IsReserved(name); got != want {
			t.Errorf("IsReserved(%q) = %v; want %v", name, got, want)
		}
	}
	if actions.MaterialDescriptionAttribute != "*amzn-ddb-map-desc*" || actions.SignatureAttribute != "*amzn-ddb-map-sig*" {
		t.Errorf("reserved names = %q, %q", actions.MaterialDescriptionAttribute, actions.SignatureAttribute)
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name     string
		opts     actions.Options
		wantAttr string // "" when no *PolicyError is expected
		wantIs   []error
	}{
		{
			name:     "override on description attribute",
			opts:     actions.Options{Default: actions.SignOnly, NoPartitionKey: true, Overrides: map[string]actions.Action{"*amzn-ddb-map-desc*": actions.DoNothing}},
			wantAttr: "*amzn-ddb-map-desc*",
			wantIs:   []error{actions.ErrReservedName, actions.ErrInvalidPolicy},
		},
		{
			name:     "override on signature attribute",
			opts:     actions.Options{Default: actions.EncryptAndSign, NoPartitionKey: true, Overrides: map[string]actions.Action{"*amzn-ddb-map-sig*": actions.SignOnly}},
			wantAttr: "*amzn-ddb-map-sig*",
			wantIs:   []error{actions.ErrReservedName, actions.ErrInvalidPolicy},
		},
		{
			name:     "reserved partition key",
			opts:     actions.Options{Default: actions.SignOnly, PartitionKey: "*amzn-ddb-map-sig*"},
			wantAttr: "*amzn-ddb-map-sig*",
			wantIs:   []error{actions.ErrReservedName, actions.ErrInvalidPolicy},
		},
		{
			name:     "reserved sort key",
			opts:     actions.Options{Default: actions.SignOnly, PartitionKey: "pk", SortKey: "*amzn-ddb-map-desc*"},
			wantAttr: "*amzn-ddb-map-desc*",
			wantIs:   []error{actions.ErrReservedName, actions.ErrInvalidPolicy},
		},
		{
			name:     "explicit EncryptAndSign on partition key",
			opts:     actions.Options{Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"pk": actions.EncryptAndSign}},
			wantAttr: "pk",
			wantIs:   []error{actions.ErrEncryptedKey, actions.ErrInvalidPolicy},
		},
		{
			name:     "explicit EncryptAndSign on sort key",
			opts:     actions.Options{Default: actions.DoNothing, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"sk": actions.EncryptAndSign}},
			wantAttr: "sk",
			wantIs:   []error{actions.ErrEncryptedKey, actions.ErrInvalidPolicy},
		},
		{
			name:     "partition and sort key are the same",
			opts:     actions.Options{Default: actions.SignOnly, PartitionKey: "id", SortKey: "id"},
			wantAttr: "id",
			wantIs:   []error{actions.ErrInvalidPolicy},
		},
		{
			name:     "unknown override action",
			opts:     actions.Options{Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"a": actions.Action(9)}},
			wantAttr: "a",
			wantIs:   []error{actions.ErrInvalidPolicy},
		},
		{
			name:     "zero override action",
			opts:     actions.Options{Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"a": 0}},
			wantAttr: "a",
			wantIs:   []error{actions.ErrInvalidPolicy},
		},
		{
			name:   "no default",
			opts:   actions.Options{PartitionKey: "pk", Overrides: map[string]actions.Action{"a": actions.SignOnly}},
			wantIs: []error{actions.ErrDefaultNotSet, actions.ErrInvalidPolicy},
		},
		{
			name:   "no partition key",
			opts:   actions.Options{Default: actions.EncryptAndSign},
			wantIs: []error{actions.ErrPartitionKeyNotSet, actions.ErrInvalidPolicy},
		},
		{
			name:   "sort key without partition key",
			opts:   actions.Options{Default: actions.EncryptAndSign, SortKey: "sk"},
			wantIs: []error{actions.ErrPartitionKeyNotSet, actions.ErrInvalidPolicy},
		},
		{
			name:   "NoPartitionKey and a key",
			opts:   actions.Options{Default: actions.EncryptAndSign, NoPartitionKey: true, PartitionKey: "pk"},
			wantIs: []error{actions.ErrInvalidPolicy},
		},
		{
			name:   "unknown default action",
			opts:   actions.Options{Default: actions.Action(200), PartitionKey: "pk"},
			wantIs: []error{actions.ErrInvalidPolicy},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := actions.New(tt.opts)
			if err == nil {
				t.Fatalf("New() = %v, nil; want an error", p)
			}
			if p != nil {
				t.Errorf("New() returned a policy with error %v", err)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("New() error %v does not match %v", err, target)
				}
			}
			var pe *actions.PolicyError
			if tt.wantAttr == "" {
				return
			}
			if !errors.As(err, &pe) {
				t.Fatalf("New() error %T %v is not a *PolicyError", err, err)
			}
			if pe.Attribute != tt.wantAttr {
				t.Errorf("PolicyError.Attribute = %q; want %q", pe.Attribute, tt.wantAttr)
			}
		})
	}
}

func TestNewValid(t *testing.T) {
	tests := []actions.Options{
		{Default: actions.DoNothing, NoPartitionKey: true},
		{Default: actions.EncryptAndSign, PartitionKey: "pk", SortKey: "sk"},
		// Explicit SignOnly or DoNothing on a key is allowed.
		{Default: actions.EncryptAndSign, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"pk": actions.SignOnly, "sk": actions.DoNothing}},
		// Only a partition key.
		{Default: actions.SignOnly, PartitionKey: "pk"},
		// EncryptAndSign on an attribute that is not a key.
		{Default: actions.DoNothing, PartitionKey: "pk", Overrides: map[string]actions.Action{"secret": actions.EncryptAndSign}},
	}
	for _, opts := range tests {
		if _, err := actions.New(opts); err != nil {
			t.Errorf("New(%+v) = %v; want no error", opts, err)
		}
	}
}

func TestMust(t *testing.T) {
	if p := actions.Must(actions.Options{Default: actions.SignOnly, NoPartitionKey: true}); p == nil || p.Default() != actions.SignOnly {
		t.Errorf("Must(valid) = %v", p)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Must(invalid) did not panic")
		}
	}()
	actions.Must(actions.Options{Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"*amzn-ddb-map-sig*": actions.SignOnly}})
}

func TestAction(t *testing.T) {
	const (
		E = actions.EncryptAndSign
		S = actions.SignOnly
		N = actions.DoNothing
	)
	tests := []struct {
		name     string
		opts     actions.Options
		want     map[string]actions.Action
		wantNoOp bool
	}{
		{
			name: "default EncryptAndSign: keys become SignOnly",
			opts: actions.Options{Default: E, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"s": S, "n": N}},
			want: map[string]actions.Action{"pk": S, "sk": S, "s": S, "n": N, "other": E},
		},
		{
			name: "default SignOnly: keys SignOnly",
			opts: actions.Options{Default: S, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"e": E}},
			want: map[string]actions.Action{"pk": S, "sk": S, "e": E, "other": S},
		},
		{
			name: "default DoNothing with a signing override: keys SignOnly",
			opts: actions.Options{Default: N, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"secret": E}},
			want: map[string]actions.Action{"pk": S, "sk": S, "secret": E, "other": N},
		},
		{
			name: "default DoNothing with a SignOnly override: keys SignOnly",
			opts: actions.Options{Default: N, PartitionKey: "pk", Overrides: map[string]actions.Action{"s": S}},
			want: map[string]actions.Action{"pk": S, "s": S, "other": N},
		},
		{
			name: "explicit DoNothing on a key stays DoNothing",
			opts: actions.Options{Default: E, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"sk": N}},
			want: map[string]actions.Action{"pk": S, "sk": N, "other": E},
		},
		{
			name: "explicit DoNothing on a key with default DoNothing",
			opts: actions.Options{Default: N, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"pk": N, "x": S}},
			want: map[string]actions.Action{"pk": N, "sk": S, "x": S, "other": N},
		},
		{
			name: "explicit SignOnly on a key",
			opts: actions.Options{Default: E, PartitionKey: "pk", Overrides: map[string]actions.Action{"pk": S}},
			want: map[string]actions.Action{"pk": S, "other": E},
		},
		{
			name:     "all DoNothing: NoOp, keys DoNothing",
			opts:     actions.Options{Default: N, PartitionKey: "pk", SortKey: "sk", Overrides: map[string]actions.Action{"a": N}},
			want:     map[string]actions.Action{"pk": N, "sk": N, "a": N, "other": N},
			wantNoOp: true,
		},
		{
			name:     "DoNothing without keys: NoOp",
			opts:     actions.Options{Default: N, NoPartitionKey: true},
			want:     map[string]actions.Action{"": N, "x": N},
			wantNoOp: true,
		},
		{
			name: "no keys configured: the empty name is not a key",
			opts: actions.Options{Default: E, NoPartitionKey: true},
			want: map[string]actions.Action{"": E, "x": E},
		},
		{
			name: "key names are exact (case sensitive)",
			opts: actions.Options{Default: E, PartitionKey: "PK"},
			want: map[string]actions.Action{"PK": S, "pk": E, "PK ": E},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := actions.New(tt.opts)
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			for name, want := range tt.want {
				if got := p.Action(name); got != want {
					t.Errorf("Action(%q) = %v; want %v", name, got, want)
				}
			}
			if got := p.NoOp(); got != tt.wantNoOp {
				t.Errorf("NoOp() = %v; want %v", got, tt.wantNoOp)
			}
		})
	}
}

func TestEncrypts(t *testing.T) {
	tests := []struct {
		opts actions.Options
		want bool
	}{
		{actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"}, true},
		{actions.Options{Default: actions.SignOnly, PartitionKey: "pk"}, false},
		{actions.Options{Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"x": actions.EncryptAndSign}}, true},
		{actions.Options{Default: actions.DoNothing, PartitionKey: "pk", Overrides: map[string]actions.Action{"x": actions.SignOnly}}, false},
		{actions.Options{Default: actions.DoNothing, NoPartitionKey: true}, false},
	}
	for _, tt := range tests {
		p := actions.Must(tt.opts)
		if got := p.Encrypts(); got != tt.want {
			t.Errorf("Encrypts() for %+v = %v; want %v", tt.opts, got, tt.want)
		}
	}
}

func TestAccessorsAndImmutability(t *testing.T) {
	overrides := map[string]actions.Action{"a": actions.SignOnly, "b": actions.DoNothing}
	p, err := actions.New(actions.Options{Default: actions.EncryptAndSign, Overrides: overrides, PartitionKey: "pk", SortKey: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	if pk, sk := p.Keys(); pk != "pk" || sk != "sk" {
		t.Errorf("Keys() = %q, %q; want pk, sk", pk, sk)
	}
	if got := p.Default(); got != actions.EncryptAndSign {
		t.Errorf("Default() = %v; want EncryptAndSign", got)
	}

	// Changing the caller's map after New must not change the policy.
	overrides["a"] = actions.DoNothing
	overrides["c"] = actions.DoNothing
	if got := p.Action("a"); got != actions.SignOnly {
		t.Errorf("after changing Options.Overrides, Action(a) = %v; want SignOnly", got)
	}
	if got := p.Action("c"); got != actions.EncryptAndSign {
		t.Errorf("after changing Options.Overrides, Action(c) = %v; want EncryptAndSign", got)
	}

	// Overrides returns a copy.
	o := p.Overrides()
	if len(o) != 2 || o["a"] != actions.SignOnly || o["b"] != actions.DoNothing {
		t.Errorf("Overrides() = %v; want map[a:SignOnly b:DoNothing]", o)
	}
	o["a"] = actions.DoNothing
	o["d"] = actions.SignOnly
	if got := p.Action("a"); got != actions.SignOnly {
		t.Errorf("after changing Overrides() result, Action(a) = %v; want SignOnly", got)
	}
	if got := p.Action("d"); got != actions.EncryptAndSign {
		t.Errorf("after changing Overrides() result, Action(d) = %v; want EncryptAndSign", got)
	}

	// A policy built with nil overrides still returns a usable (non-nil) map.
	if o := actions.Must(actions.Options{Default: actions.DoNothing, NoPartitionKey: true}).Overrides(); o == nil {
		t.Errorf("Overrides() of a policy without overrides = nil; want an empty map")
	}
}

func TestPolicyErrorMessage(t *testing.T) {
	_, err := actions.New(actions.Options{Default: actions.SignOnly, PartitionKey: "pk-name", Overrides: map[string]actions.Action{"pk-name": actions.EncryptAndSign}})
	if err == nil {
		t.Fatal("want an error")
	}
	var pe *actions.PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T is not a *PolicyError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "pk-name") {
		t.Errorf("error message %q does not name the attribute", msg)
	}
}

// TestNewRefusesMissingSettings pins the messages of the settings New
// refuses to guess: each names the missing setting and what to put there.
func TestNewRefusesMissingSettings(t *testing.T) {
	tests := []struct {
		opts actions.Options
		want string
	}{
		{actions.Options{PartitionKey: "pk"},
			"actions: Options.Default: default action not set (choose EncryptAndSign, SignOnly or DoNothing; most tables want EncryptAndSign)"},
		{actions.Options{Default: actions.EncryptAndSign},
			"actions: Options.PartitionKey: partition key not named (name it, or set Options.NoPartitionKey if the items have none)"},
		{actions.Options{Default: actions.EncryptAndSign, SortKey: "sk"},
			"actions: Options.SortKey is set, Options.PartitionKey is not: partition key not named"},
		{actions.Options{Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"pk": actions.EncryptAndSign}},
			`actions: attribute "pk": primary-key attributes cannot be encrypted`},
		{actions.Options{Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"x": 0}},
			`actions: attribute "x": override with no action (the zero Action)`},
	}
	for _, tt := range tests {
		_, err := actions.New(tt.opts)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) error = %v;\nwant %s", tt.opts, err, tt.want)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := actions.Parse("encrpyt")
	if want := `unknown action "encrpyt" (want encrypt, sign, context or nothing)`; err == nil || err.Error() != want {
		t.Errorf("Parse(encrpyt) error = %v; want %s", err, want)
	}
	_, err = actions.Parse(strings.Repeat("x", 100))
	if want := `unknown action "` + strings.Repeat("x", 40) + `..." (want encrypt, sign, context or nothing)`; err == nil || err.Error() != want {
		t.Errorf("Parse(100 x) error = %v; want %s", err, want)
	}
}
