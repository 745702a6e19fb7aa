package search

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// Attribute names the DB-ESDK reserves for searchable encryption.
const (
	// ReservedPrefix starts every attribute name the DB-ESDK reserves.
	ReservedPrefix = "aws_dbe_"
	// BeaconPrefix starts the name of every stored beacon except signed
	// beacons: aws_dbe_b_<beacon name>.
	BeaconPrefix = "aws_dbe_b_"
	// VersionTag is the attribute every item written with beacons carries:
	// aws_dbe_v_1, holding a single space.
	VersionTag = "aws_dbe_v_1"
	// PartitionPlaceholder is the ExpressionAttributeValues key that selects
	// the beacon partition of a query.
	PartitionPlaceholder = ":aws_dbe_partition"
)

// Options are the settings of New beyond the configuration.
type Options struct {
	// LogicalTableName is passed to the PartitionSelector.
	LogicalTableName string
	// AllowedUnsigned and AllowedUnsignedPrefix are the table's
	// DBESDKConfig.AllowedUnsigned and AllowedUnsignedPrefix: names no
	// beacon or virtual field may take.
	AllowedUnsigned       []string
	AllowedUnsignedPrefix string
	// Now is the clock of the beacon key cache; nil means time.Now.
	Now func() time.Time
}

// Search computes a table's beacons and rewrites its queries. It is
// immutable apart from its beacon key cache, and safe for concurrent use.
type Search struct {
	policy   *actions.Policy
	opts     Options
	maxPart  int
	selector PartitionSelector

	std      map[string]*standard
	stdOrder []*standard // by name
	cmp      map[string]*compound
	cmpOrder []*compound // by name
	virt     map[string]*virtual

	keys           *keyCache
	singleKeyID    string
	keyField       string // multi key source
	deleteKeyField bool
}

// standard is a compiled standard beacon.
type standard struct {
	name       string
	length     int
	loc        termLoc
	partOnly   bool
	asSet      bool
	keyName    string // the beacon whose HMAC key is used (Shared)
	partitions int
}

// part is a compiled compound beacon part.
type part struct {
	name   string
	prefix string
	std    *standard // encrypted part
	loc    termLoc   // signed part
}

func (p *part) encrypted() bool { return p.std != nil }

type ctorPart struct {
	p        *part
	required bool
}

// compound is a compiled compound beacon.
type compound struct {
	name   string
	split  string
	parts  []*part // signed, then encrypted
	ctors  [][]ctorPart
	signed bool // no encrypted part: a signed beacon, stored as name
}

// storedName is the attribute the beacon is stored under.
func (c *compound) storedName() string {
	if c.signed {
		return c.name
	}
	return BeaconPrefix + c.name
}

// New validates cfg against the table's attribute actions (policy) as the
// DB-ESDK's search-config.md specifies, and returns the table's Search.
// Every refusal is a *ConfigError naming the beacon, part, virtual field or
// attribute, matching ErrInvalidConfig.
//
// The policy must give each signed beacon (a compound beacon with no
// encrypted part) the action SignOnly; Config.SignedBeacons lists them, to
// add to actions.Options.Overrides.
//
// A "configured field" of the DB-ESDK (a name the beacons may not take) is
// here a name with an explicit action in the policy (an override or a key),
// one of Options.AllowedUnsigned, or one starting with
// Options.AllowedUnsignedPrefix; the action of any other attribute is the
// policy's default.
func New(cfg Config, policy *actions.Policy, optFns ...func(*Options)) (*Search, error) {
	var opts Options
	for _, f := range optFns {
		f(&opts)
	}
	opts.AllowedUnsigned = slices.Clone(opts.AllowedUnsigned)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if policy == nil {
		return nil, &ConfigError{Reason: "no attribute actions (policy)"}
	}
	if len(cfg.Versions) != 1 {
		return nil, &ConfigError{Reason: fmt.Sprintf("%d beacon versions, want exactly 1", len(cfg.Versions))}
	}
	if cfg.WriteVersion != 1 {
		return nil, &ConfigError{Reason: fmt.Sprintf("write version %d, want 1", cfg.WriteVersion)}
	}
	c := &compiler{policy: policy, opts: &opts, s: &Search{policy: policy, opts: opts}}
	if err := c.version(&cfg.Versions[0]); err != nil {
		return nil, err
	}
	return c.s, nil
}

// SignOnlyOverrides returns a copy of overrides (a table's per-attribute
// actions) in which each signed beacon of cfg is SignOnly under its own
// name, as the DB-ESDK configures it, ready for actions.New. A signed beacon
// that has the name of an attribute overrides already configures, or of
// one of keys (the partition and sort key), is a *ConfigError naming it.
func (cfg Config) SignOnlyOverrides(overrides map[string]actions.Action, keys ...string) (map[string]actions.Action, error) {
	out := maps.Clone(overrides)
	if out == nil {
		out = map[string]actions.Action{}
	}
	for _, name := range cfg.SignedBeacons() {
		if _, ok := overrides[name]; ok || (name != "" && slices.Contains(keys, name)) {
			return nil, &ConfigError{Name: name, Attribute: name, Reason: "a signed beacon has the name of a configured attribute"}
		}
		out[name] = actions.SignOnly
	}
	return out, nil
}

// SignedBeacons returns the names of the signed beacons of cfg's write
// version (compound beacons with no encrypted part). Each is stored under
// its own name and must be SignOnly in the table's policy.
func (cfg Config) SignedBeacons() []string {
	var names []string
	for _, v := range cfg.Versions {
		if v.Version != cfg.WriteVersion {
			continue
		}
		for _, cb := range v.CompoundBeacons {
			encrypted := len(cb.Encrypted) > 0
			for _, ct := range cb.Constructors {
				for _, p := range ct.Parts {
					if slices.ContainsFunc(v.EncryptedParts, func(e EncryptedPart) bool { return e.Name == p.Name }) {
						encrypted = true
					}
				}
			}
			if !encrypted {
				names = append(names, cb.Name)
			}
		}
	}
	return names
}

type compiler struct {
	policy *actions.Policy
	opts   *Options
	s      *Search
	vf     map[string]*virtual
}

func cerr(name, attr, format string, args ...any) error {
	return &ConfigError{Name: name, Attribute: attr, Reason: fmt.Sprintf(format, args...)}
}

// explicit reports whether the policy names the attribute.
func (c *compiler) explicit(name string) bool {
	if _, ok := c.policy.Overrides()[name]; ok {
		return true
	}
	pk, sk := c.policy.Keys()
	return name != "" && (name == pk || name == sk)
}

func (c *compiler) unsigned(name string) bool {
	return slices.Contains(c.opts.AllowedUnsigned, name) ||
		(c.opts.AllowedUnsignedPrefix != "" && strings.HasPrefix(name, c.opts.AllowedUnsignedPrefix))
}

// nameAllowed checks a beacon name against the configured fields.
func (c *compiler) nameAllowed(name, kind string, signedBeacon bool) error {
	switch {
	case name == "":
		return cerr("", "", "%s with an empty name", kind)
	case strings.HasPrefix(name, ReservedPrefix):
		return cerr(name, "", "%s name begins with the reserved prefix %q", kind, ReservedPrefix)
	case c.unsigned(name):
		return cerr(name, name, "%s name is an allowed unsigned attribute", kind)
	case signedBeacon && c.policy.Action(name) != actions.SignOnly:
		return cerr(name, name, "a signed beacon is stored under its own name, which must be SignOnly in the policy (add it to actions.Options.Overrides; see Config.SignedBeacons)")
	case !signedBeacon && c.explicit(name) && c.policy.Action(name) != actions.EncryptAndSign:
		return cerr(name, name, "%s name is already an unencrypted attribute (%s)", kind, c.policy.Action(name))
	}
	return nil
}

// encryptedLoc: the location is in an EncryptAndSign attribute, or is a
// virtual field with such a part.
func (c *compiler) encryptedLoc(l termLoc) bool {
	if v, ok := c.vf[l.raw]; ok && l.single() {
		return slices.ContainsFunc(v.parts, func(p virtualPart) bool { return c.policy.Action(p.loc.top()) == actions.EncryptAndSign })
	}
	return c.policy.Action(l.top()) == actions.EncryptAndSign
}

// signOnlyLoc: the location (or every part of the virtual field) is signed
// and not encrypted.
func (c *compiler) signOnlyLoc(l termLoc) bool {
	ok := func(name string) bool {
		a := c.policy.Action(name)
		return a == actions.SignOnly || a == actions.SignAndIncludeInEncryptionContext
	}
	if v, isVF := c.vf[l.raw]; isVF && l.single() {
		for _, p := range v.parts {
			if !ok(p.loc.top()) {
				return false
			}
		}
		return true
	}
	return ok(l.top())
}

func oneChar(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n == len(s) && n > 0 && r != utf8.RuneError && r < 0x10000 && (r < 0xd800 || r > 0xdfff)
}

func (c *compiler) version(v *BeaconVersion) error {
	s := c.s
	if v.Version != 1 {
		return cerr("", "", "beacon version %d, want 1", v.Version)
	}
	if v.KeyStore == nil {
		return cerr("", "", "no key store (BeaconVersion.KeyStore)")
	}
	if len(v.StandardBeacons) == 0 {
		return cerr("", "", "no standard beacon (at least one is required)")
	}
	// Partitions.
	s.maxPart = v.MaximumNumberOfPartitions
	if s.maxPart == 0 {
		s.maxPart = 1
	}
	if s.maxPart < 1 || s.maxPart > 255 {
		return cerr("", "", "maximum number of partitions %d, want 1..255", v.MaximumNumberOfPartitions)
	}
	defPart := v.DefaultNumberOfPartitions
	switch {
	case defPart == 0:
		defPart = s.maxPart
	case defPart < 0 || defPart >= s.maxPart:
		return cerr("", "", "default number of partitions %d, want 1..%d (less than the maximum)", defPart, s.maxPart-1)
	}
	s.selector = v.PartitionSelector

	// Virtual fields.
	c.vf = map[string]*virtual{}
	for _, f := range v.VirtualFields {
		if f.Name == "" || c.explicit(f.Name) || c.unsigned(f.Name) || strings.HasPrefix(f.Name, ReservedPrefix) {
			return cerr(f.Name, "", "virtual field name is empty, a configured attribute, or reserved")
		}
		if _, dup := c.vf[f.Name]; dup {
			return cerr(f.Name, "", "two virtual fields of this name")
		}
		if len(f.Parts) == 0 {
			return cerr(f.Name, "", "virtual field without parts")
		}
		vf := &virtual{name: f.Name}
		for _, p := range f.Parts {
			l, ok := parseLoc(p.Loc)
			if !ok {
				return cerr(f.Name, p.Loc, "not a valid terminal location")
			}
			for _, t := range p.Transforms {
				if err := checkTransform(t); err != nil {
					return cerr(f.Name, p.Loc, "%s", err)
				}
			}
			if c.policy.Action(l.top()) == actions.DoNothing {
				return cerr(f.Name, l.top(), "virtual field part is not signed (DoNothing)")
			}
			vf.parts = append(vf.parts, virtualPart{loc: l, trans: slices.Clone(p.Transforms)})
		}
		for _, other := range c.vf {
			if sameLocs(other, vf) {
				return cerr(f.Name, "", "virtual field has the same locations as virtual field %q", other.name)
			}
		}
		c.vf[f.Name] = vf
	}
	s.virt = c.vf

	// Standard beacons.
	s.std = map[string]*standard{}
	locs := map[string]string{}
	for _, b := range v.StandardBeacons {
		if err := c.nameAllowed(b.Name, "standard beacon", false); err != nil {
			return err
		}
		if _, dup := s.std[b.Name]; dup {
			return cerr(b.Name, "", "two standard beacons of this name")
		}
		if b.Length < 1 || b.Length > 63 {
			return cerr(b.Name, "", "length %d, want 1..63 bits", b.Length)
		}
		raw := b.Loc
		if raw == "" {
			raw = b.Name
		}
		l, ok := parseLoc(raw)
		if !ok {
			return cerr(b.Name, raw, "not a valid terminal location")
		}
		if other, dup := locs[raw]; dup {
			return cerr(b.Name, raw, "standard beacon %q has the same location", other)
		}
		locs[raw] = b.Name
		if !c.encryptedLoc(l) {
			return cerr(b.Name, l.top(), "a standard beacon's location must be EncryptAndSign (a beacon on a readable attribute would only reveal it)")
		}
		for _, vf := range c.vf {
			if len(vf.parts) == 1 && vf.parts[0].loc.raw == raw {
				return cerr(b.Name, raw, "virtual field %q has this beacon's location as its only location", vf.name)
			}
		}
		sb := &standard{name: b.Name, length: b.Length, loc: l, keyName: b.Name}
		switch b.Style.Kind {
		case StylePlain:
		case StylePartOnly:
			sb.partOnly = true
		case StyleAsSet:
			sb.asSet = true
		case StyleShared, StyleSharedSet:
			sb.asSet = b.Style.Kind == StyleSharedSet
			sb.keyName = b.Style.Other
			if b.Style.Other == b.Name {
				return cerr(b.Name, "", "a beacon cannot share with itself")
			}
		default:
			return cerr(b.Name, "", "unknown beacon style %d", b.Style.Kind)
		}
		if b.Style.Other != "" && b.Style.Kind != StyleShared && b.Style.Kind != StyleSharedSet {
			return cerr(b.Name, "", "Style.Other is set on a style that shares nothing")
		}
		switch {
		case b.NumberOfPartitions == 0:
			sb.partitions = defPart
		case b.NumberOfPartitions < 1 || b.NumberOfPartitions >= s.maxPart:
			return cerr(b.Name, "", "number of partitions %d, want 1..%d (less than the maximum)", b.NumberOfPartitions, s.maxPart-1)
		default:
			sb.partitions = b.NumberOfPartitions
		}
		s.std[b.Name] = sb
	}
	for _, b := range v.StandardBeacons {
		sb := s.std[b.Name]
		if sb.keyName == sb.name {
			continue
		}
		other, ok := s.std[sb.keyName]
		switch {
		case sb.keyName == "" || !ok:
			return cerr(b.Name, "", "shares with %q, which is not a standard beacon", sb.keyName)
		case other.keyName != other.name:
			return cerr(b.Name, "", "shares with %q, which itself shares with another beacon", sb.keyName)
		case other.length != sb.length:
			return cerr(b.Name, "", "shares with %q, whose length %d differs from %d", sb.keyName, other.length, sb.length)
		}
	}
	s.stdOrder = slices.SortedFunc(maps.Values(s.std), func(a, b *standard) int { return strings.Compare(a.name, b.name) })

	// Global parts.
	global := map[string]*part{}
	for _, p := range v.SignedParts {
		gp, err := c.signedPart("", p)
		if err != nil {
			return err
		}
		if _, dup := global[p.Name]; dup {
			return cerr(p.Name, "", "two global parts of this name")
		}
		global[p.Name] = gp
	}
	for _, p := range v.EncryptedParts {
		gp, err := c.encryptedPart("", p)
		if err != nil {
			return err
		}
		if _, dup := global[p.Name]; dup {
			return cerr(p.Name, "", "two global parts of this name")
		}
		global[p.Name] = gp
	}
	if err := checkPrefixes("", slices.Collect(maps.Values(global))); err != nil {
		return err
	}

	// Compound beacons.
	s.cmp = map[string]*compound{}
	for _, b := range v.CompoundBeacons {
		cb, err := c.compound(b, global)
		if err != nil {
			return err
		}
		if _, dup := s.std[b.Name]; dup {
			return cerr(b.Name, "", "a compound beacon has the name of a standard beacon")
		}
		if _, dup := s.cmp[b.Name]; dup {
			return cerr(b.Name, "", "two compound beacons of this name")
		}
		if _, dup := c.vf[b.Name]; dup {
			return cerr(b.Name, "", "a compound beacon has the name of a virtual field")
		}
		s.cmp[b.Name] = cb
	}
	s.cmpOrder = slices.SortedFunc(maps.Values(s.cmp), func(a, b *compound) int { return strings.Compare(a.name, b.name) })
	for _, sb := range s.stdOrder {
		if !sb.partOnly {
			continue
		}
		used := false
		for _, cb := range s.cmp {
			used = used || slices.ContainsFunc(cb.parts, func(p *part) bool { return p.std == sb })
		}
		if !used {
			return cerr(sb.name, "", "a PartOnly beacon must be a part of a compound beacon")
		}
	}

	// Key source.
	ks := v.KeySource
	names := make([]string, 0, len(s.std))
	for _, sb := range s.stdOrder {
		names = append(names, sb.name)
	}
	cache := &keyCache{src: v.KeyStore, names: names, now: c.opts.Now, entries: map[string]cacheEntry{}}
	switch {
	case (ks.Single == nil) == (ks.Multi == nil):
		return cerr("", "", "the key source must be exactly one of Single and Multi")
	case ks.Single != nil:
		if ks.Single.BranchKeyID == "" {
			return cerr("", "", "single key source without a branch key id")
		}
		s.singleKeyID = ks.Single.BranchKeyID
		cache.ttl, cache.size = ks.Single.CacheTTL, ks.Single.CacheSize
		if cache.size == 0 {
			cache.size = 1
		}
	default:
		f := ks.Multi.KeyFieldName
		if f == "" {
			return cerr("", "", "multi key source without a key field name")
		}
		if _, clash := c.vf[f]; clash {
			return cerr(f, f, "the key field name is the name of a virtual field")
		}
		if _, clash := s.std[f]; clash {
			return cerr(f, f, "the key field name is the name of a standard beacon")
		}
		if _, clash := s.cmp[f]; clash {
			return cerr(f, f, "the key field name is the name of a compound beacon")
		}
		switch c.policy.Action(f) {
		case actions.EncryptAndSign:
			return cerr(f, f, "the key field must not be EncryptAndSign (make it SignOnly to store it, DoNothing not to)")
		case actions.DoNothing:
			s.deleteKeyField = true
		}
		s.keyField = f
		cache.ttl, cache.size = ks.Multi.CacheTTL, ks.Multi.CacheSize
		if cache.size == 0 {
			cache.size = 1000
		}
	}
	if cache.ttl <= 0 {
		return cerr("", "", "the key source's CacheTTL must be greater than zero")
	}
	if cache.size < 0 {
		return cerr("", "", "negative CacheSize")
	}
	s.keys = cache
	return nil
}

func sameLocs(a, b *virtual) bool {
	set := func(v *virtual) map[string]bool {
		m := map[string]bool{}
		for _, p := range v.parts {
			m[p.loc.raw] = true
		}
		return m
	}
	return maps.Equal(set(a), set(b))
}

func checkTransform(t Transform) error {
	switch t.Kind {
	case TransformUpper, TransformLower, TransformInsert, TransformPrefix, TransformSuffix, TransformSubstring:
	case TransformSegment, TransformSegments:
		if !oneChar(t.Split) {
			return fmt.Errorf("segment transform split %q is not one character", t.Split)
		}
	default:
		return fmt.Errorf("unknown transform %d", t.Kind)
	}
	return nil
}

func (c *compiler) signedPart(beacon string, p SignedPart) (*part, error) {
	raw := p.Loc
	if raw == "" {
		raw = p.Name
	}
	if p.Name == "" || p.Prefix == "" {
		return nil, cerr(beacon, p.Name, "a signed part needs a name and a non-empty prefix")
	}
	l, ok := parseLoc(raw)
	if !ok {
		return nil, cerr(beacon, raw, "signed part %q: not a valid terminal location", p.Name)
	}
	if !c.signOnlyLoc(l) {
		return nil, cerr(beacon, l.top(), "signed part %q is built from an attribute that is not SignOnly", p.Name)
	}
	return &part{name: p.Name, prefix: p.Prefix, loc: l}, nil
}

func (c *compiler) encryptedPart(beacon string, p EncryptedPart) (*part, error) {
	if p.Name == "" || p.Prefix == "" {
		return nil, cerr(beacon, p.Name, "an encrypted part needs a name and a non-empty prefix")
	}
	sb, ok := c.s.std[p.Name]
	if !ok {
		return nil, cerr(beacon, "", "encrypted part %q is not a standard beacon", p.Name)
	}
	if sb.asSet {
		return nil, cerr(beacon, "", "encrypted part %q is an AsSet or SharedSet beacon, which cannot be a part", p.Name)
	}
	return &part{name: p.Name, prefix: p.Prefix, std: sb}, nil
}

// checkPrefixes refuses two parts one of whose prefixes starts the other.
func checkPrefixes(beacon string, parts []*part) error {
	slices.SortFunc(parts, func(a, b *part) int { return strings.Compare(a.name, b.name) })
	for i, a := range parts {
		for _, b := range parts[i+1:] {
			if strings.HasPrefix(a.prefix, b.prefix) || strings.HasPrefix(b.prefix, a.prefix) {
				return cerr(beacon, "", "part %q has prefix %q, incompatible with part %q's prefix %q (neither may start the other)", a.name, a.prefix, b.name, b.prefix)
			}
		}
	}
	return nil
}

func (c *compiler) compound(b CompoundBeacon, global map[string]*part) (*compound, error) {
	if b.Name == "" {
		return nil, cerr("", "", "compound beacon with an empty name")
	}
	if !oneChar(b.Split) {
		return nil, cerr(b.Name, "", "split %q is not one character", b.Split)
	}
	cb := &compound{name: b.Name, split: b.Split}
	local := map[string]*part{}
	var signed, encrypted []*part
	// addLocal records a local part, refusing a name taken locally or
	// globally.
	addLocal := func(to *[]*part, lp *part, err error) error {
		if err != nil {
			return err
		}
		if _, dup := local[lp.name]; dup {
			return cerr(b.Name, "", "two parts named %q", lp.name)
		}
		if _, dup := global[lp.name]; dup {
			return cerr(b.Name, "", "part %q is defined both locally and globally", lp.name)
		}
		local[lp.name] = lp
		*to = append(*to, lp)
		return nil
	}
	for _, p := range b.Signed {
		lp, err := c.signedPart(b.Name, p)
		if err := addLocal(&signed, lp, err); err != nil {
			return nil, err
		}
	}
	for _, p := range b.Encrypted {
		lp, err := c.encryptedPart(b.Name, p)
		if err := addLocal(&encrypted, lp, err); err != nil {
			return nil, err
		}
	}
	if len(b.Constructors) == 0 {
		if len(local) == 0 {
			return nil, cerr(b.Name, "", "a compound beacon without constructors needs local parts")
		}
		var ct []ctorPart
		for _, p := range append(slices.Clone(signed), encrypted...) {
			ct = append(ct, ctorPart{p: p, required: true})
		}
		cb.ctors = [][]ctorPart{ct}
	}
	var reqSets []map[string]bool
	for i, ct := range b.Constructors {
		if len(ct.Parts) == 0 {
			return nil, cerr(b.Name, "", "constructor %d has no parts", i+1)
		}
		var parts []ctorPart
		req := map[string]bool{}
		for _, cp := range ct.Parts {
			p, ok := local[cp.Name]
			if !ok {
				if p, ok = global[cp.Name]; !ok {
					return nil, cerr(b.Name, "", "constructor %d names %q, which is no part", i+1, cp.Name)
				}
			}
			if p.encrypted() {
				encrypted = appendNew(encrypted, p)
			} else {
				signed = appendNew(signed, p)
			}
			parts = append(parts, ctorPart{p: p, required: cp.Required})
			if cp.Required {
				req[cp.Name] = true
			}
		}
		if len(req) == 0 {
			return nil, cerr(b.Name, "", "constructor %d has no required part", i+1)
		}
		for j, other := range reqSets {
			if maps.Equal(other, req) {
				return nil, cerr(b.Name, "", "constructors %d and %d have the same required parts", j+1, i+1)
			}
		}
		reqSets = append(reqSets, req)
		cb.ctors = append(cb.ctors, parts)
	}
	cb.parts = append(signed, encrypted...)
	cb.signed = len(encrypted) == 0
	if err := checkPrefixes(b.Name, slices.Clone(cb.parts)); err != nil {
		return nil, err
	}
	if err := c.nameAllowed(b.Name, "compound beacon", cb.signed); err != nil {
		return nil, err
	}
	return cb, nil
}

func appendNew(ps []*part, p *part) []*part {
	if slices.Contains(ps, p) {
		return ps
	}
	return append(ps, p)
}

// IsReserved reports whether name is an attribute this package writes and
// RemoveBeacons removes (a name starting with ReservedPrefix: beacons and
// the version tag). Signed beacons are stored under their own names and are
// not reserved.
func IsReserved(name string) bool { return strings.HasPrefix(name, ReservedPrefix) }

// BeaconAttributes returns the attribute names this configuration writes:
// aws_dbe_b_<name> for each stored standard and compound beacon, the name
// of each signed beacon, and VersionTag. Index the beacons you query with
// a global secondary index on these names.
func (s *Search) BeaconAttributes() []string {
	var out []string
	for _, b := range s.stdOrder {
		if !b.partOnly {
			out = append(out, BeaconPrefix+b.name)
		}
	}
	for _, b := range s.cmpOrder {
		out = append(out, b.storedName())
	}
	return append(out, VersionTag)
}

// SignedBeacons returns the names of the signed beacons (stored under their
// own names, SignOnly).
func (s *Search) SignedBeacons() []string {
	var out []string
	for _, b := range s.cmpOrder {
		if b.signed {
			out = append(out, b.name)
		}
	}
	return out
}

// String, GoString, Format, LogValue and MarshalJSON describe the
// configuration without key material.
func (s Search) String() string                { return s.redacted().String() }
func (s Search) GoString() string              { return s.redacted().GoString() }
func (s Search) Format(f fmt.State, verb rune) { s.redacted().Format(f, verb) }
func (s Search) LogValue() slog.Value          { return s.redacted().LogValue() }
func (s Search) MarshalJSON() ([]byte, error)  { return s.redacted().MarshalJSON() }
func (s Search) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("search.Search{%d standard, %d compound beacons, %d virtual fields, keys: [redacted]}", len(s.std), len(s.cmp), len(s.virt)))
}
