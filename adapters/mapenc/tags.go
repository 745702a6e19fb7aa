package mapenc

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// typeInfo is what a Codec knows of one struct type: its attributes, and
// the encryptor of its policy (the Config's, plus its itemcrypto tags).
type typeInfo struct {
	enc    *protector
	err    error // a *TagError: every use of the type fails with it
	fields []field
	byName map[string]int // attribute name → index in fields
	// filterFolded: attributevalue decodes t field by field, matching an
	// attribute to a field case-insensitively when no name matches exactly.
	filterFolded bool
}

// exactFields returns item without the attributes that are no field's
// name but match one case-insensitively: attributevalue would decode them
// into that field, so an attribute outside the signature ("amount", under
// DoNothing) could overwrite a signed field ("Amount"), in random order.
// item is copied only when there is something to drop.
func (info *typeInfo) exactFields(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if info == nil || !info.filterFolded {
		return item
	}
	var out map[string]types.AttributeValue
	for name := range item {
		if _, ok := info.byName[name]; ok || !info.foldsToField(name) {
			continue
		}
		if out == nil {
			out = maps.Clone(item)
		}
		delete(out, name)
	}
	if out == nil {
		return item
	}
	return out
}

func (info *typeInfo) foldsToField(name string) bool {
	for _, f := range info.fields {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}

type typeEntry struct {
	once sync.Once
	info *typeInfo
}

// typeInfo returns the info of struct type t, reflecting on t once per
// Codec, however many goroutines ask at once.
func (c *Codec) typeInfo(t reflect.Type) *typeInfo {
	v, ok := c.types.m.Load(t)
	if !ok {
		v, _ = c.types.m.LoadOrStore(t, new(typeEntry))
	}
	e := v.(*typeEntry)
	e.once.Do(func() { e.info = c.buildTypeInfo(t) })
	return e.info
}

func (c *Codec) buildTypeInfo(t reflect.Type) *typeInfo {
	c.types.builds.Add(1)
	fields, stray, _ := structFields(t, c.opts.TagKey)
	info := &typeInfo{enc: c.base, err: c.baseErr, fields: fields, byName: make(map[string]int, len(fields)), filterFolded: !codesItself(t)}
	for i, f := range fields {
		info.byName[f.name] = i
	}
	if len(stray) > 0 {
		// A stray tag is the more specific error.
		info.err = &TagError{Type: t, Field: stray[0].goName, Err: fmt.Errorf("%w: %s", ErrInvalidTag, stray[0].why)}
		return info
	}
	if te := layoutError(t, c.opts.TagKey); te != nil {
		info.err = te
		return info
	}

	ao, tagged, te := tagOptions(t, fields, actions.Options{
		Default: c.cfg.Default, Overrides: c.cfg.Overrides, PartitionKey: c.cfg.PartitionKey, SortKey: c.cfg.SortKey, NoPartitionKey: c.cfg.NoPartitionKey,
	})
	if !tagged {
		return info
	}
	info.err = nil
	if te != nil {
		info.err = te
		return info
	}
	policy, err := actions.New(ao)
	if err != nil {
		info.err = policyTagError(t, info, err)
		return info
	}
	enc, err := c.newProtector(policy)
	if err != nil {
		info.err = fmt.Errorf("mapenc: type %v: %w", t, err)
		return info
	}
	info.enc = enc
	return info
}

// structOf is the struct type t is or points to, and the options of
// optFns, for StructPolicy and StructAttributes (named by fn in the error).
func structOf(fn string, t reflect.Type, optFns []func(*Options)) (reflect.Type, Options, error) {
	var o Options
	for _, f := range optFns {
		f(&o)
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, o, fmt.Errorf("mapenc: %s: %v is not a struct type", fn, t)
	}
	return t, o, nil
}

// StructPolicy returns the attribute actions and key names that the
// itemcrypto tags of struct type t (or of the struct a pointer type points
// to) describe, merged with base: base's Default, its Overrides with each
// tagged field's action added, and the key names a tag gives (itemcrypto:"partition",
// itemcrypto:"sort") where base names none. Attribute names are those
// attributevalue writes for t under o.TagKey ("dynamodbav" by default).
//
// It is the one reading of the tags: a [Codec] reads them with it, and it
// builds the configuration of the adapters that take attribute maps and so
// cannot see tags, such as dynamodbenc.TableConfig:
//
//	o, err := mapenc.StructPolicy(reflect.TypeFor[Customer](), actions.Options{Default: actions.SignOnly})
//	tc := dynamodbenc.TableConfig{Default: o.Default, Overrides: o.Overrides, PartitionKey: o.PartitionKey, SortKey: o.SortKey, ...}
//
// A tag that disagrees with base (another action in base.Overrides, another
// key name) or with another tag, a tag that cannot be read or sits on a
// field attributevalue never writes, and two fields with one attribute name
// are a [*TagError]; the result then is never used. The returned Options
// pass actions.New. A struct without itemcrypto tags returns base.
func StructPolicy(t reflect.Type, base actions.Options, optFns ...func(*Options)) (actions.Options, error) {
	t, o, err := structOf("StructPolicy", t, optFns)
	if err != nil {
		return actions.Options{}, err
	}
	fields, stray, _ := structFields(t, o.TagKey)
	if len(stray) > 0 {
		return actions.Options{}, &TagError{Type: t, Field: stray[0].goName, Err: fmt.Errorf("%w: %s", ErrInvalidTag, stray[0].why)}
	}
	if te := layoutError(t, o.TagKey); te != nil {
		return actions.Options{}, te
	}
	ao, _, te := tagOptions(t, fields, base)
	if te != nil {
		return actions.Options{}, te
	}
	if _, err := actions.New(ao); err != nil {
		byName := make(map[string]int, len(fields))
		for i, f := range fields {
			byName[f.name] = i
		}
		return actions.Options{}, policyTagError(t, &typeInfo{fields: fields, byName: byName}, err)
	}
	return ao, nil
}

// tagOptions merges the itemcrypto tags of t's fields into base, and
// reports whether any field is tagged.
func tagOptions(t reflect.Type, fields []field, base actions.Options) (actions.Options, bool, *TagError) {
	out := base
	out.Overrides = maps.Clone(base.Overrides)
	if out.Overrides == nil {
		out.Overrides = map[string]actions.Action{}
	}
	pk, sk := base.PartitionKey, base.SortKey
	var pkField, skField string // the fields whose tags named the keys
	tagged := false
	for _, f := range fields {
		if !f.hasTag {
			continue
		}
		tagged = true
		fail := func(err error) (actions.Options, bool, *TagError) {
			return actions.Options{}, true, &TagError{Type: t, Field: f.goName, Attribute: f.name, Err: err}
		}
		a, hasAction, role, err := parseTag(f.tag)
		if err != nil {
			return fail(err)
		}
		if hasAction {
			if o, ok := base.Overrides[f.name]; ok && o != a {
				return fail(fmt.Errorf("%w: the tag says %v, Config.Overrides says %v", ErrTagConflict, a, o))
			}
			out.Overrides[f.name] = a
		}
		switch role {
		case rolePartition:
			switch {
			case base.NoPartitionKey:
				return fail(fmt.Errorf("%w: the tag says partition key, Config.NoPartitionKey says the items have none", ErrTagConflict))
			case base.PartitionKey != "" && base.PartitionKey != f.name:
				return fail(fmt.Errorf("%w: the tag says partition key, Config.PartitionKey is %q", ErrTagConflict, base.PartitionKey))
			case pkField != "":
				return fail(fmt.Errorf("%w: field %s is tagged partition too", ErrTagConflict, pkField))
			case f.name == sk:
				return fail(fmt.Errorf("%w: the tag says partition key, Config.SortKey names the attribute", ErrTagConflict))
			}
			pk, pkField = f.name, f.goName
		case roleSort:
			switch {
			case base.SortKey != "" && base.SortKey != f.name:
				return fail(fmt.Errorf("%w: the tag says sort key, Config.SortKey is %q", ErrTagConflict, base.SortKey))
			case skField != "":
				return fail(fmt.Errorf("%w: field %s is tagged sort too", ErrTagConflict, skField))
			case f.name == pk:
				return fail(fmt.Errorf("%w: the tag says sort key, Config.PartitionKey names the attribute", ErrTagConflict))
			}
			sk, skField = f.name, f.goName
		}
	}
	if !tagged {
		return base, false, nil
	}
	if pk == "" && !base.NoPartitionKey {
		return actions.Options{}, true, &TagError{Type: t, Err: fmt.Errorf(`%w (tag a field itemcrypto:"partition", name it in Config.PartitionKey, or set Config.NoPartitionKey if the items have none)`,
			actions.ErrPartitionKeyNotSet)}
	}
	out.PartitionKey, out.SortKey, out.NoPartitionKey = pk, sk, pk == ""
	return out, true, nil
}

// policyTagError is actions.New's refusal of a tagged policy, naming the
// field where the error names an attribute.
func policyTagError(t reflect.Type, info *typeInfo, err error) *TagError {
	te := &TagError{Type: t, Err: fmt.Errorf("%w: %w", ErrTagConflict, err)}
	var pe *actions.PolicyError
	if errors.As(err, &pe) {
		te.Attribute = pe.Attribute
		if i, ok := info.byName[pe.Attribute]; ok {
			te.Field = info.fields[i].goName
		}
	}
	return te
}

const (
	rolePartition = "partition"
	roleSort      = "sort"
)

// parseTag reads an itemcrypto tag: an action, a key role, or both, comma
// separated.
func parseTag(s string) (a actions.Action, hasAction bool, role string, err error) {
	if strings.TrimSpace(s) == "" {
		return 0, false, "", fmt.Errorf("%w: empty tag (want encrypt, sign, nothing, partition or sort)", ErrInvalidTag)
	}
	for w := range strings.SplitSeq(s, ",") {
		w = strings.TrimSpace(w)
		switch w {
		case rolePartition, roleSort:
			if role != "" {
				return 0, false, "", fmt.Errorf("%w: two key roles", ErrInvalidTag)
			}
			role = w
			continue
		}
		act, perr := actions.Parse(w)
		if perr != nil {
			return 0, false, "", fmt.Errorf("%w: unknown word %q (want encrypt, sign, nothing, partition or sort)", ErrInvalidTag, w)
		}
		if hasAction {
			return 0, false, "", fmt.Errorf("%w: two actions", ErrInvalidTag)
		}
		a, hasAction = act, true
	}
	return a, hasAction, role, nil
}
