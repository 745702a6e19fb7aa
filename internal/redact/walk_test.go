package redact_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The walk finds the types that hold key material by reading the source of
// the module, so that a new key type cannot be forgotten by a list.
//
// It parses every non-test .go file of the module, skipping directories
// named testdata, internal/testsupport, cmd, vectors (the test-vector
// runner: its keys and expected data keys are the public keys of published
// test vectors, read from their files), hidden directories and
// directories that are modules of their own (a go.mod). A type holds key
// material, by this rule, when its definition (a struct's fields, exported
// or not, embedded or not, followed through pointers, slices, arrays, maps,
// channels and type arguments; never through interfaces or funcs) has
//
//   - a []byte or [N]byte whose field (or type) name matches keyName:
//     key, secret, material, aes, hmac, mac, beacon, priv, seed;
//   - a hash.Hash whose field name matches keyName (an HMAC);
//   - one of keyTypes: *rsa.PrivateKey, *ecdsa.PrivateKey, ecdh and ed25519
//     private keys, cipher.Block, cipher.AEAD, cipher.Stream, and Tink's
//     primitives and keyset handles;
//   - a type of the module that holds key material (transitively).
//
// Every exported type of the module that holds key material must declare
// String, GoString, Format, LogValue and MarshalJSON with value receivers
// (so that T and *T both redact), and must be in the behaviour table of
// TestKeyHoldersRedact, or, for the packages that become modules of their
// own (ownTests), be tested in its package.
// publicName excludes the bytes of public keys (an EDK description's
// recipient public key) from keyName's rule: they are no secret.
var publicName = regexp.MustCompile(`(?i)public`)

var keyName = regexp.MustCompile(`(?i)key|secret|material|aes|hmac|mac|beacon|priv|seed`)

// keyTypes hold key material whatever the field's name.
var keyTypes = map[string]bool{
	"crypto/rsa.PrivateKey":                                    true,
	"crypto/ecdsa.PrivateKey":                                  true,
	"crypto/ecdh.PrivateKey":                                   true,
	"crypto/ed25519.PrivateKey":                                true,
	"crypto/cipher.Block":                                      true,
	"crypto/cipher.AEAD":                                       true,
	"crypto/cipher.Stream":                                     true,
	"github.com/tink-crypto/tink-go/v2/tink.AEAD":              true,
	"github.com/tink-crypto/tink-go/v2/tink.AEADWithContext":   true,
	"github.com/tink-crypto/tink-go/v2/tink.DeterministicAEAD": true,
	"github.com/tink-crypto/tink-go/v2/tink.MAC":               true,
	"github.com/tink-crypto/tink-go/v2/tink.Signer":            true,
	"github.com/tink-crypto/tink-go/v2/keyset.Handle":          true,
	"github.com/tink-crypto/tink-go/v2/tink.HybridDecrypt":     true,
	"github.com/tink-crypto/tink-go/v2/tink.StreamingAEAD":     true,
	"github.com/tink-crypto/tink-go/v2/keyset.Manager":         true,
}

// redactingMethods are the methods every key holder declares.
var redactingMethods = []string{"String", "GoString", "Format", "LogValue", "MarshalJSON"}

// ownTests are the packages that become modules of their own: their key
// holders (tinkcmp.Provider: TestRedaction in cmp/tinkcmp) are tested in
// their own package, which this module's tests cannot import once they
// are split off; from then on the walk skips them as modules of their own.
var ownTests = map[string]bool{
	"adapters/mongoenc": true,
	"cmp/tinkcmp":       true,
}

type typeDecl struct {
	pkg     string // import path
	dir     string // relative to the module root
	name    string
	spec    *ast.TypeSpec
	imports map[string]string // file's import name -> path
}

type method struct {
	pointer bool
}

type module struct {
	path    string
	root    string
	types   map[string]*typeDecl         // "pkg.Name"
	methods map[string]map[string]method // "pkg.Name" -> method name
	memo    map[string]int               // 0 unknown, 1 in progress, 2 no, 3 yes
	why     map[string]string
}

func moduleRoot(t *testing.T) (root, modPath string) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
					return dir, f[1]
				}
			}
			t.Fatalf("%s/go.mod has no module line", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

func skipDir(root, p string, d fs.DirEntry) bool {
	if p == root {
		return false
	}
	rel, _ := filepath.Rel(root, p)
	rel = filepath.ToSlash(rel)
	name := d.Name()
	if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
		rel == "internal/testsupport" || rel == "cmd" || rel == "vectors" || name == "vendor" {
		return true
	}
	_, err := os.Stat(filepath.Join(p, "go.mod"))
	return err == nil // a module of its own
}

func loadModule(t *testing.T) *module {
	t.Helper()
	root, modPath := moduleRoot(t)
	m := &module{
		path: modPath, root: root,
		types:   map[string]*typeDecl{},
		methods: map[string]map[string]method{},
		memo:    map[string]int{},
		why:     map[string]string{},
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDir(root, p, d) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		pkg := modPath
		if rel != "." {
			pkg += "/" + rel
		}
		imports := map[string]string{}
		for _, is := range f.Imports {
			ip, _ := strconv.Unquote(is.Path.Value)
			name := importName(ip)
			if is.Name != nil {
				name = is.Name.Name
			}
			imports[name] = ip
		}
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.GenDecl:
				for _, s := range decl.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						m.types[pkg+"."+ts.Name.Name] = &typeDecl{pkg: pkg, dir: rel, name: ts.Name.Name, spec: ts, imports: imports}
					}
				}
			case *ast.FuncDecl:
				if decl.Recv == nil || len(decl.Recv.List) != 1 {
					continue
				}
				rt := decl.Recv.List[0].Type
				_, ptr := rt.(*ast.StarExpr)
				if ptr {
					rt = rt.(*ast.StarExpr).X
				}
				switch x := rt.(type) {
				case *ast.IndexExpr:
					rt = x.X
				case *ast.IndexListExpr:
					rt = x.X
				}
				id, ok := rt.(*ast.Ident)
				if !ok {
					continue
				}
				k := pkg + "." + id.Name
				if m.methods[k] == nil {
					m.methods[k] = map[string]method{}
				}
				m.methods[k][decl.Name.Name] = method{pointer: ptr}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// importName is the default name of an import path: its last element, or
// the one before a major version suffix.
func importName(ip string) string {
	base := path.Base(ip)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(ip))
	}
	return strings.TrimPrefix(strings.TrimPrefix(base, "go-"), "golang-")
}

// holds reports whether the named type of the module holds key material.
func (m *module) holds(key string) bool {
	switch m.memo[key] {
	case 1, 2:
		return false
	case 3:
		return true
	}
	td := m.types[key]
	if td == nil {
		m.memo[key] = 2
		return false
	}
	m.memo[key] = 1
	ok := m.expr(td, td.spec.Type, td.name, key)
	m.memo[key] = 2
	if ok {
		m.memo[key] = 3
	}
	return ok
}

// expr reports whether a type expression in td holds key material; name is
// the field's (or type's) name, for the byte and hash rules.
func (m *module) expr(td *typeDecl, e ast.Expr, name, owner string) bool {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return m.expr(td, e.X, name, owner)
	case *ast.StarExpr:
		return m.expr(td, e.X, name, owner)
	case *ast.ArrayType:
		if id, ok := e.Elt.(*ast.Ident); ok && (id.Name == "byte" || id.Name == "uint8") {
			if keyName.MatchString(name) && !publicName.MatchString(name) {
				m.note(owner, "[]byte "+name)
				return true
			}
			return false
		}
		return m.expr(td, e.Elt, name, owner)
	case *ast.MapType:
		return m.expr(td, e.Key, name, owner) || m.expr(td, e.Value, name, owner)
	case *ast.ChanType:
		return m.expr(td, e.Value, name, owner)
	case *ast.IndexExpr:
		return m.expr(td, e.X, name, owner) || m.expr(td, e.Index, name, owner)
	case *ast.IndexListExpr:
		held := m.expr(td, e.X, name, owner)
		for _, x := range e.Indices {
			held = m.expr(td, x, name, owner) || held
		}
		return held
	case *ast.StructType:
		held := false
		for _, f := range e.Fields.List {
			names := []string{embeddedName(f.Type)}
			if len(f.Names) > 0 {
				names = names[:0]
				for _, n := range f.Names {
					names = append(names, n.Name)
				}
			}
			for _, n := range names {
				if m.expr(td, f.Type, n, owner) {
					held = true
				}
			}
		}
		return held
	case *ast.Ident:
		k := td.pkg + "." + e.Name
		if _, ok := m.types[k]; ok && m.holds(k) {
			m.note(owner, name+" "+e.Name)
			return true
		}
		return false
	case *ast.SelectorExpr:
		pkgID, ok := e.X.(*ast.Ident)
		if !ok {
			return false
		}
		ip, ok := td.imports[pkgID.Name]
		if !ok {
			return false
		}
		q := ip + "." + e.Sel.Name
		if keyTypes[q] || (q == "hash.Hash" && keyName.MatchString(name)) {
			m.note(owner, name+" "+q)
			return true
		}
		if _, ok := m.types[q]; ok && m.holds(q) {
			m.note(owner, name+" "+q)
			return true
		}
	}
	return false
}

func (m *module) note(owner, why string) {
	if m.why[owner] == "" {
		m.why[owner] = why
	}
}

func embeddedName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return embeddedName(e.X)
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return embeddedName(e.X)
	case *ast.IndexListExpr:
		return embeddedName(e.X)
	}
	return ""
}

// keyHolder is an exported type that holds key material.
type keyHolder struct {
	name string // "cmp.AESKey": package name and type
	key  string // import path and type
	dir  string
	why  string
}

// keyHolders walks the module for its exported key-holding types.
func keyHolders(t *testing.T) (*module, []keyHolder) {
	m := loadModule(t)
	var out []keyHolder
	for k, td := range m.types {
		if !ast.IsExported(td.name) || !m.holds(k) {
			continue
		}
		out = append(out, keyHolder{name: path.Base(td.pkg) + "." + td.name, key: k, dir: td.dir, why: m.why[k]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return m, out
}

// TestKeyHoldersDeclareRedaction is the static half: every key holder the
// walk finds declares the redacting methods with value receivers.
func TestKeyHoldersDeclareRedaction(t *testing.T) {
	m, holders := keyHolders(t)
	for _, h := range holders {
		t.Logf("%s holds key material (%s)", h.key, h.why)
		for _, name := range redactingMethods {
			meth, ok := m.methods[h.key][name]
			switch {
			case !ok:
				t.Errorf("%s holds key material (%s) but has no %s method", h.name, h.why, name)
			case meth.pointer:
				t.Errorf("%s.%s has a pointer receiver: a %s value would print its fields", h.name, name, h.name)
			}
		}
	}
}
