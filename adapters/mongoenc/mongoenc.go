package mongoenc

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// IDField is the document key: the partition key of the core's item model,
// never encrypted and always signed (unless the policy does nothing at all).
const IDField = "_id"

// DefaultMaxDocumentSize bounds a protected document as the core counts it
// (field paths plus values): MongoDB's document size limit, 16 MiB.
const DefaultMaxDocumentSize = 16 << 20

// Config is how a collection's documents are protected. Readers and writers
// of a collection must agree on all of it.
type Config struct {
	// Provider hands out the keys of the DDBEC format. Required unless
	// Format is itemcrypto.FormatDBESDK.
	Provider cmp.Provider
	// Default is the action of every top-level field without an override.
	// Required: the zero value is refused by NewCollection (an error
	// matching actions.ErrDefaultNotSet). Most collections want
	// actions.EncryptAndSign.
	Default actions.Action
	// Overrides sets the action of individual fields: a top-level field
	// name ("email") or a dotted path into embedded documents
	// ("profile.ssn"). A nested path becomes a field of its own: it is
	// encrypted or signed on its own, and the rest of its parent document
	// keeps the parent's action (the nearest configured ancestor's, else
	// Default). The parent of a configured path cannot itself be encrypted
	// (set it to SignOnly or DoNothing), and "_id" can only be SignOnly.
	Overrides map[string]actions.Action
	// SigningName is the name bound into every signature, so a document
	// cannot be moved to another collection unnoticed. "" means the
	// collection's namespace, "database.collection". Set it when a
	// collection is renamed, or copied to another database on purpose.
	SigningName string
	// Format is what is written: itemcrypto.FormatDDBEC (the zero value) or
	// itemcrypto.FormatDBESDK (aws_dbe_head and aws_dbe_foot binary fields,
	// "_id" as the partition key); reading takes the format from each
	// document.
	Format itemcrypto.Format
	// DBESDK configures the DB-ESDK format (keyring, suite, allowed-unsigned
	// fields, legacy and plaintext policies). Required for
	// itemcrypto.FormatDBESDK.
	DBESDK *itemcrypto.DBESDKConfig
	// Search configures searchable encryption with the DB-ESDK's beacons,
	// stored beside each document outside the signature with the values the
	// DB-ESDK computes for the same strings: standard beacons as string
	// fields aws_dbe_b_<name> (an AsSet beacon, over an array of strings, as
	// an array of strings), compound beacons with an encrypted part as
	// aws_dbe_b_<name>, and the version tag aws_dbe_v_1; a signed beacon (a
	// compound beacon without an encrypted part) is a SignOnly field of the
	// document under its own name, signed with it. Filters then answer
	// beacon conditions (see [Collection.Find] and the package doc). Every
	// location (a beacon's Loc, its Name when empty; a signed part's; a
	// virtual field's parts') is a field path, top-level or dotted; a
	// standard beacon's field must be EncryptAndSign, a signed part's
	// SignOnly, and beacons read strings only (see [ErrBeaconValue]). A
	// multi-tenant key source's KeyFieldName is a top-level string field,
	// not encrypted. It requires Format itemcrypto.FormatDBESDK and refuses
	// the DB-ESDK's legacy and plaintext overrides
	// (itemcrypto.ErrOverrideWithBeacons). A partition selector sees an
	// item of the strings (AsSet: string sets) the beacons read, under
	// their field paths ("meta.region"), and the signed beacons the
	// document holds. An AsSet beacon on a virtual field and a beacon name
	// filters would confuse with a configured field are refused (a
	// *search.ConfigError).
	Search *search.Config
}

// Options tune a [Collection]. The zero value is the default.
type Options struct {
	// Registry marshals the documents, filters and updates handed to the
	// collection, and unmarshals what Decode returns. nil means the bson
	// package's default registry. The client's and the collection's own
	// registry and BSONOptions are not visible to this package: set the
	// same registry here, or pass bson.Raw documents.
	Registry *bson.Registry
	// EncryptorOptions are passed to itemcrypto.New after a first one that
	// sets MaxItemSize to DefaultMaxDocumentSize.
	EncryptorOptions []func(*itemcrypto.Options)
}

// Collection is a MongoDB collection whose methods have the driver's
// signatures (Find returns this package's [*Cursor]) and that encrypts and
// signs documents on the way in and verifies and decrypts them on the way
// out. It is safe for concurrent use.
type Collection struct {
	coll   *mongo.Collection
	ns     string
	enc    *itemcrypto.Encryptor
	schema *schema
	reg    *bson.Registry
	// beacons are the collection's beacons; nil without Config.Search.
	beacons *beacons
}

// NewCollection returns a collection that sends its requests through coll
// and protects its documents as cfg says.
func NewCollection(coll *mongo.Collection, cfg Config, optFns ...func(*Options)) (*Collection, error) {
	if coll == nil {
		return nil, errors.New("mongoenc: NewCollection: coll is nil")
	}
	if cfg.Provider == nil && cfg.Format != itemcrypto.FormatDBESDK {
		return nil, errors.New("mongoenc: NewCollection: Config.Provider is required (or Format: itemcrypto.FormatDBESDK with DBESDK)")
	}
	var opts Options
	for _, fn := range optFns {
		fn(&opts)
	}
	ns := coll.Database().Name() + "." + coll.Name()
	if cfg.Default == 0 {
		return nil, fmt.Errorf("mongoenc: NewCollection %s: Config.Default: %w", ns, actions.ErrDefaultNotSet)
	}
	if cfg.Search != nil {
		if cfg.Format != itemcrypto.FormatDBESDK || cfg.DBESDK == nil {
			return nil, fmt.Errorf("mongoenc: NewCollection %s: Search (beacons) needs the DB-ESDK format: Format itemcrypto.FormatDBESDK with DBESDK", ns)
		}
		if err := cfg.DBESDK.CheckBeacons(); err != nil {
			return nil, fmt.Errorf("mongoenc: NewCollection %s: Search: %w", ns, err)
		}
	}
	s, err := newSchema(cfg.Default, cfg.Overrides)
	if err != nil {
		return nil, fmt.Errorf("mongoenc: NewCollection %s: %w", ns, err)
	}
	signing := cfg.SigningName
	if signing == "" {
		signing = ns
	}
	encOpts := append([]func(*itemcrypto.Options){func(o *itemcrypto.Options) { o.MaxItemSize = DefaultMaxDocumentSize }},
		opts.EncryptorOptions...)
	enc, err := itemcrypto.New(itemcrypto.Config{
		TableName: signing, Policy: s.policy, Provider: cfg.Provider, Format: cfg.Format, DBESDK: cfg.DBESDK,
	}, encOpts...)
	if err != nil {
		return nil, fmt.Errorf("mongoenc: NewCollection %s: %w", ns, err)
	}
	s.enc = enc
	c := &Collection{coll: coll, ns: ns, enc: enc, schema: s, reg: opts.Registry}
	if cfg.Search != nil {
		if c.beacons, err = newBeacons(*cfg.Search, s, signing, cfg.DBESDK); err != nil {
			return nil, fmt.Errorf("mongoenc: NewCollection %s: Search: %w", ns, err)
		}
	}
	return c, nil
}

// Encryptor returns the encryptor of the collection's documents, as
// [Collection.StoredItem] maps them onto the core's items. Most users won't
// need it.
func (c *Collection) Encryptor() *itemcrypto.Encryptor { return c.enc }

// Unprotected returns the driver's collection underneath. What goes through
// it is neither encrypted nor verified; most users won't need it.
func (c *Collection) Unprotected() *mongo.Collection { return c.coll }

// Name returns the collection's name.
func (c *Collection) Name() string { return c.coll.Name() }

// Database returns the collection's database.
func (c *Collection) Database() *mongo.Database { return c.coll.Database() }

// Policy returns the resolved policy: Default and Overrides, with every
// parent of a nested path given the action it inherits, and "_id" as the
// partition key.
func (c *Collection) Policy() *actions.Policy { return c.schema.policy }

// Action returns the action of the field at path (a top-level name or a
// dotted path): the action of the configured path or top-level field that
// holds it.
func (c *Collection) Action(path string) actions.Action {
	return c.schema.cover(strings.Split(path, "."))
}

// schema is the resolved policy of a collection: which field paths are
// attributes of their own, and each one's action.
type schema struct {
	policy *actions.Policy
	// enc is the collection's encryptor; it names the reserved fields.
	enc *itemcrypto.Encryptor
	// nodes holds the top-level fields that have an override or a
	// configured descendant.
	nodes map[string]*node
	// noop: the policy does nothing; documents are stored as they are.
	noop bool
}

// node is a field with an override or a configured descendant: an attribute
// of its own (for an interior node: the rest of its document).
type node struct {
	path     string
	action   actions.Action
	explicit bool
	children map[string]*node
}

func (n *node) interior() bool { return len(n.children) > 0 }

func newSchema(def actions.Action, overrides map[string]actions.Action) (*schema, error) {
	s := &schema{nodes: map[string]*node{}}
	for _, path := range slices.Sorted(maps.Keys(overrides)) {
		a := overrides[path]
		parts := strings.Split(path, ".")
		for _, p := range parts {
			if p == "" {
				return nil, &actions.PolicyError{Attribute: path, Err: errors.New("empty path segment")}
			}
			if strings.HasPrefix(p, "$") {
				return nil, &actions.PolicyError{Attribute: path, Err: errors.New("path segment starts with '$'")}
			}
		}
		if parts[0] == IDField {
			if len(parts) > 1 {
				return nil, &actions.PolicyError{Attribute: path, Err: errors.New("_id is signed as a whole; it has no nested actions")}
			}
			if a != actions.SignOnly {
				return nil, &actions.PolicyError{Attribute: path, Err: errors.New("_id is the document key: it is always signed and never encrypted; its only valid action is SignOnly")}
			}
		}
		level := s.nodes
		prefix := ""
		var n *node
		for _, p := range parts {
			if prefix != "" {
				prefix += "."
			}
			prefix += p
			n = level[p]
			if n == nil {
				n = &node{path: prefix}
				level[p] = n
			}
			if n.children == nil {
				n.children = map[string]*node{}
			}
			level = n.children
		}
		n.action, n.explicit = a, true
	}
	// Resolve inherited actions and build the core policy over every node.
	resolved := map[string]actions.Action{}
	var walk func(level map[string]*node, inherited actions.Action, top bool) error
	walk = func(level map[string]*node, inherited actions.Action, top bool) error {
		for _, name := range slices.Sorted(maps.Keys(level)) {
			n := level[name]
			if len(n.children) == 0 {
				n.children = nil
			}
			if !n.explicit {
				n.action = inherited
				if top {
					n.action = def
				}
			}
			if n.action > actions.EncryptAndSign {
				return &actions.PolicyError{Attribute: n.path, Err: fmt.Errorf("unknown action %d", n.action)}
			}
			if n.interior() && n.action == actions.EncryptAndSign {
				return &actions.PolicyError{Attribute: n.path, Err: errors.New("has configured nested paths, so it cannot be " +
					"encrypted as a whole: give it SignOnly or DoNothing (the default applies to top-level fields without an override)")}
			}
			if n.explicit || n.interior() {
				resolved[n.path] = n.action
			}
			if err := walk(n.children, n.action, false); err != nil {
				return err
			}
		}
		return nil
	}
	if def > actions.EncryptAndSign {
		return nil, fmt.Errorf("%w: unknown default action %d", actions.ErrInvalidPolicy, def)
	}
	if err := walk(s.nodes, def, true); err != nil {
		return nil, err
	}
	p, err := actions.New(actions.Options{Default: def, Overrides: resolved, PartitionKey: IDField})
	if err != nil {
		return nil, err
	}
	s.policy = p
	s.noop = p.NoOp()
	return s, nil
}

// cover returns the action of the attribute that holds the field at path:
// the deepest node on the path, else the top-level field.
func (s *schema) cover(path []string) actions.Action {
	if len(path) == 0 {
		return actions.DoNothing
	}
	n := s.nodes[path[0]]
	if n == nil {
		return s.policy.Action(path[0])
	}
	for _, p := range path[1:] {
		c := n.children[p]
		if c == nil {
			break
		}
		n = c
	}
	return n.action
}

// descendants calls fn for every node strictly below path.
func (s *schema) descendants(path []string, fn func(n *node) bool) bool {
	if len(path) == 0 {
		return true
	}
	n := s.nodes[path[0]]
	for _, p := range path[1:] {
		if n == nil {
			return true
		}
		n = n.children[p]
	}
	if n == nil {
		return true
	}
	var walk func(n *node) bool
	walk = func(n *node) bool {
		for _, c := range n.children {
			if !fn(c) || !walk(c) {
				return false
			}
		}
		return true
	}
	return walk(n)
}

// encrypted reports whether the field at path is encrypted or holds an
// encrypted field: a filter or sort on it would see ciphertext.
func (s *schema) encrypted(path []string) bool {
	if s.cover(path) == actions.EncryptAndSign {
		return true
	}
	found := false
	s.descendants(path, func(n *node) bool {
		if n.action == actions.EncryptAndSign {
			found = true
		}
		return !found
	})
	return found
}

// untouchable returns a non-nil action when the field at path, or a field
// inside it, is signed or encrypted: an update of it would break the
// signature.
func (s *schema) untouchable(path []string) (actions.Action, string, bool) {
	if a := s.cover(path); a != actions.DoNothing {
		return a, strings.Join(path, "."), true
	}
	var bad *node
	s.descendants(path, func(n *node) bool {
		if n.action != actions.DoNothing {
			bad = n
		}
		return bad == nil
	})
	if bad != nil {
		return bad.action, bad.path, true
	}
	return actions.DoNothing, "", false
}
