package vectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// DBESDKTable is a DB-ESDK test vector table configuration turned into what
// an encrypting client needs (the fields of dynamodbenc.TableConfig), with
// the harness's defaults applied.
type DBESDKTable struct {
	// Vanilla: the configuration is {}, for which the harness uses a plain
	// DynamoDB client (no encryption at all).
	Vanilla bool
	// LogicalTableName is bound into the encryption context
	// (GazelleVectorTable by default).
	LogicalTableName string
	// PartitionKey (RecNum by default) and SortKey ("" by default).
	PartitionKey, SortKey string
	// Default is DoNothing (see DBESDKConfig); Overrides are
	// attributeActionsOnEncrypt.
	Default   actions.Action
	Overrides map[string]actions.Action
	// DBESDK holds the keyring (hierarchical, over the described static
	// branch key), suite, allowed-unsigned attributes and plaintext policy.
	DBESDK *itemcrypto.DBESDKConfig
	// Search is nil without a search section.
	Search *search.Config
}

// Policy is the table's attribute policy.
func (t *DBESDKTable) Policy() (*actions.Policy, error) {
	return actions.New(actions.Options{Default: t.Default, Overrides: t.Overrides, PartitionKey: t.PartitionKey, SortKey: t.SortKey})
}

// DBESDKTableConfig is one entry of a vector file's table configurations
// (configs.json "tableEncryptionConfigs", large_records.json
// "largeEncryptionConfigs"): a DBESDKConfig with an optional search
// section.
type DBESDKTableConfig struct {
	DBESDKConfig
	Search *DBESDKSearch `json:"search,omitempty"`
}

// DBESDKSearch is a search section: the DB-ESDK SearchConfig.
type DBESDKSearch struct {
	Versions     []DBESDKBeaconVersion `json:"versions"`
	WriteVersion int                   `json:"writeVersion,omitempty"`
}

// DBESDKBeaconVersion is one beacon version. Every field is optional but
// standardBeacons (the DB-ESDK requires at least one).
type DBESDKBeaconVersion struct {
	KeySource                 *DBESDKKeySource       `json:"keySource,omitempty"`
	StandardBeacons           []DBESDKStandardBeacon `json:"standardBeacons"`
	CompoundBeacons           []DBESDKCompoundBeacon `json:"compoundBeacons,omitempty"`
	VirtualFields             []DBESDKVirtualField   `json:"virtualFields,omitempty"`
	MaximumNumberOfPartitions int                    `json:"maximumNumberOfPartitions,omitempty"`
	DefaultNumberOfPartitions int                    `json:"defaultNumberOfPartitions,omitempty"`
	EncryptedParts            []search.EncryptedPart `json:"encryptedParts,omitempty"`
	SignedParts               []DBESDKSignedPart     `json:"signedParts,omitempty"`
}

// DBESDKKeySource is a keySource: keyId (a single key) or keyFieldName
// (multi-tenant), cacheTTL in seconds (42 by default, as the harness).
type DBESDKKeySource struct {
	KeyID        string `json:"keyId,omitempty"`
	KeyFieldName string `json:"keyFieldName,omitempty"`
	CacheTTL     int    `json:"cacheTTL,omitempty"`
	MaxCacheSize int    `json:"maxCacheSize,omitempty"`
}

// DBESDKStandardBeacon is a standard beacon (the harness reads no style).
type DBESDKStandardBeacon struct {
	Name               string `json:"Name"`
	Length             int    `json:"Length"`
	Loc                string `json:"Loc,omitempty"`
	NumberOfPartitions int    `json:"numberOfPartitions,omitempty"`
}

// DBESDKSignedPart is a signed part of a compound beacon.
type DBESDKSignedPart struct {
	Name   string `json:"Name"`
	Prefix string `json:"Prefix"`
	Loc    string `json:"Loc,omitempty"`
}

// DBESDKCompoundBeacon is a compound beacon; a constructor part is
// Required unless it says "Required": false.
type DBESDKCompoundBeacon struct {
	Name         string                 `json:"Name"`
	Split        string                 `json:"Split"`
	Encrypted    []search.EncryptedPart `json:"Encrypted,omitempty"`
	Signed       []DBESDKSignedPart     `json:"Signed,omitempty"`
	Constructors [][]struct {
		Name     string `json:"Name"`
		Required *bool  `json:"Required,omitempty"`
	} `json:"Constructors,omitempty"`
}

// DBESDKVirtualField is a virtual field: parts of a location and
// transforms, each transform a one-key object ({"upper": null},
// {"prefix": {"length": 3}}, {"segment": {"split": ".", "index": 1}}, ...).
type DBESDKVirtualField struct {
	Name  string `json:"name"`
	Parts []struct {
		Loc   string            `json:"loc"`
		Trans []json.RawMessage `json:"trans,omitempty"`
	} `json:"parts"`
}

// DBESDKTableConfigs is a file of named table configurations and the keys
// file beside it.
type DBESDKTableConfigs struct {
	Configs map[string]DBESDKTableConfig
	Keys    map[string]DBESDKKey
}

// LoadDBESDKTableConfigs reads the table configurations under member
// ("tableEncryptionConfigs" or "largeEncryptionConfigs") of the vector file
// at path, and keys.json from the same directory. Unknown fields are
// refused, as the harness refuses them.
func LoadDBESDKTableConfigs(path, member string) (*DBESDKTableConfigs, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vectors: %w", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("vectors: %s: %w", filepath.Base(path), err)
	}
	sect, ok := doc[member]
	if !ok {
		return nil, fmt.Errorf("vectors: %s has no %q", filepath.Base(path), member)
	}
	var f DBESDKTableConfigs
	d := json.NewDecoder(bytes.NewReader(sect))
	d.DisallowUnknownFields()
	if err := d.Decode(&f.Configs); err != nil {
		return nil, fmt.Errorf("vectors: %s %s: %w", filepath.Base(path), member, err)
	}
	var keys struct {
		Keys map[string]DBESDKKey `json:"keys"`
	}
	if err := readJSON(filepath.Join(filepath.Dir(path), "keys.json"), &keys); err != nil {
		return nil, err
	}
	f.Keys = keys.Keys
	return &f, nil
}

// Names returns the configuration names in the harness's order (sorted).
func (f *DBESDKTableConfigs) Names() []string {
	return slices.Sorted(maps.Keys(f.Configs))
}

// Table builds the named configuration: the keyring over its key
// description (static-branch-key-1 without one) and, with a search section,
// a *search.Config whose beacon keys are that branch key's beacon key
// (search.NewStaticKeys) and whose default key source is a single key, that
// branch key, cached 42 s. The harness itself gives the beacons a static
// key store of its own with a 5-byte key, which search (like the MPL's
// key store) cannot hold; beacon values are only compared with beacon
// values this client computes, so the query results do not depend on it.
func (f *DBESDKTableConfigs) Table(name string) (*DBESDKTable, error) {
	c, ok := f.Configs[name]
	if !ok {
		return nil, fmt.Errorf("vectors: no table configuration %q", name)
	}
	bk, err := branchKey(f.Keys, c.Key)
	if err != nil {
		return nil, err
	}
	kr, err := hierarchicalKeyring(bk)
	if err != nil {
		return nil, err
	}
	t, err := c.table(kr)
	if err != nil {
		return nil, err
	}
	t.Vanilla = c.isEmpty()
	if c.Search != nil {
		if t.Search, err = c.Search.Config(bk); err != nil {
			return nil, fmt.Errorf("vectors: table configuration %q: %w", name, err)
		}
	}
	return t, nil
}

func (c DBESDKTableConfig) isEmpty() bool {
	return c.Search == nil && len(c.Actions) == 0 && len(c.AllowedUnsigned) == 0 && c.UnsignedPrefix == "" &&
		c.Suite == "" && c.PlaintextPolicy == "" && c.LogicalTableName == "" && c.PartitionKeyName == "" &&
		c.SortKeyName == "" && len(c.Key) == 0
}

// Config is the search configuration of the section, with the beacon keys
// of bk (which must carry a beacon key) and bk as the default single key
// source. It does not validate the beacons: search.New does.
func (s DBESDKSearch) Config(bk *hierarchy.BranchKey) (*search.Config, error) {
	keys, err := search.NewStaticKeys(bk)
	if err != nil {
		return nil, err
	}
	if len(s.Versions) == 0 {
		return nil, errors.New("search: no beacon version")
	}
	// The harness reads writeVersion but always configures version 1.
	cfg := &search.Config{WriteVersion: 1}
	for _, v := range s.Versions {
		bv := search.BeaconVersion{Version: 1, KeyStore: keys,
			MaximumNumberOfPartitions: v.MaximumNumberOfPartitions, DefaultNumberOfPartitions: v.DefaultNumberOfPartitions,
			EncryptedParts: v.EncryptedParts}
		ttl := 42
		if v.KeySource != nil && v.KeySource.CacheTTL > 0 {
			ttl = v.KeySource.CacheTTL
		}
		switch {
		case v.KeySource == nil:
			bv.KeySource.Single = &search.SingleKeySource{BranchKeyID: bk.ID(), CacheTTL: time.Duration(ttl) * time.Second}
		case v.KeySource.KeyID != "" && v.KeySource.KeyFieldName == "":
			bv.KeySource.Single = &search.SingleKeySource{BranchKeyID: v.KeySource.KeyID, CacheTTL: time.Duration(ttl) * time.Second, CacheSize: v.KeySource.MaxCacheSize}
		case v.KeySource.KeyFieldName != "" && v.KeySource.KeyID == "":
			bv.KeySource.Multi = &search.MultiKeySource{KeyFieldName: v.KeySource.KeyFieldName, CacheTTL: time.Duration(ttl) * time.Second, CacheSize: v.KeySource.MaxCacheSize}
		default:
			return nil, errors.New("search: a keySource needs exactly one of keyId and keyFieldName")
		}
		for _, sb := range v.StandardBeacons {
			bv.StandardBeacons = append(bv.StandardBeacons, search.StandardBeacon{Name: sb.Name, Length: sb.Length, Loc: sb.Loc, NumberOfPartitions: sb.NumberOfPartitions})
		}
		for _, sp := range v.SignedParts {
			bv.SignedParts = append(bv.SignedParts, search.SignedPart(sp))
		}
		for _, cb := range v.CompoundBeacons {
			c := search.CompoundBeacon{Name: cb.Name, Split: cb.Split, Encrypted: cb.Encrypted}
			for _, sp := range cb.Signed {
				c.Signed = append(c.Signed, search.SignedPart(sp))
			}
			for _, ct := range cb.Constructors {
				var con search.Constructor
				for _, p := range ct {
					con.Parts = append(con.Parts, search.ConstructorPart{Name: p.Name, Required: p.Required == nil || *p.Required})
				}
				c.Constructors = append(c.Constructors, con)
			}
			bv.CompoundBeacons = append(bv.CompoundBeacons, c)
		}
		for _, vf := range v.VirtualFields {
			f := search.VirtualField{Name: vf.Name}
			for _, p := range vf.Parts {
				part := search.VirtualPart{Loc: p.Loc}
				for _, raw := range p.Trans {
					tr, err := virtualTransform(raw)
					if err != nil {
						return nil, fmt.Errorf("search: virtual field %q: %w", vf.Name, err)
					}
					part.Transforms = append(part.Transforms, tr)
				}
				f.Parts = append(f.Parts, part)
			}
			bv.VirtualFields = append(bv.VirtualFields, f)
		}
		cfg.Versions = append(cfg.Versions, bv)
	}
	return cfg, nil
}

// virtualTransform reads one transform object.
func virtualTransform(raw json.RawMessage) (search.Transform, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return search.Transform{}, errors.New("a transform must be an object of one key")
	}
	for kind, v := range m {
		var a struct {
			Literal *string `json:"literal"`
			Length  *int    `json:"length"`
			Low     *int    `json:"low"`
			High    *int    `json:"high"`
			Index   *int    `json:"index"`
			Split   *string `json:"split"`
		}
		if kind != "upper" && kind != "lower" {
			d := json.NewDecoder(bytes.NewReader(v))
			d.DisallowUnknownFields()
			if err := d.Decode(&a); err != nil {
				return search.Transform{}, fmt.Errorf("transform %q: %w", kind, err)
			}
		}
		lacks := fmt.Errorf("transform %q lacks an argument", kind)
		switch kind {
		case "upper":
			return search.Upper(), nil
		case "lower":
			return search.Lower(), nil
		case "insert":
			if a.Literal == nil {
				return search.Transform{}, lacks
			}
			return search.Insert(*a.Literal), nil
		case "prefix", "suffix":
			if a.Length == nil {
				return search.Transform{}, lacks
			}
			if kind == "prefix" {
				return search.Prefix(*a.Length), nil
			}
			return search.Suffix(*a.Length), nil
		case "substring":
			if a.Low == nil || a.High == nil {
				return search.Transform{}, lacks
			}
			return search.Substring(*a.Low, *a.High), nil
		case "segment":
			if a.Split == nil || a.Index == nil {
				return search.Transform{}, lacks
			}
			return search.Segment(*a.Split, *a.Index), nil
		case "segments":
			if a.Split == nil || a.Low == nil || a.High == nil {
				return search.Transform{}, lacks
			}
			return search.Segments(*a.Split, *a.Low, *a.High), nil
		}
		return search.Transform{}, fmt.Errorf("unknown transform %q", kind)
	}
	return search.Transform{}, errors.New("a transform must be an object of one key")
}

// DBESDKQuery is a query of the harness (JsonConfig.dfy GetOneQuery): with
// a Key it is a Query, without one a Scan. Fail names the table
// configurations it must fail for (the harness skips them; they name
// encrypted attributes that have no beacon). A JSON string is a Filter.
type DBESDKQuery struct {
	Index  string   `json:"Index,omitempty"`
	Key    string   `json:"Key,omitempty"`
	Filter string   `json:"Filter,omitempty"`
	Fail   []string `json:"Fail,omitempty"`
}

// UnmarshalJSON reads a query object or a filter string.
func (q *DBESDKQuery) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil {
		*q = DBESDKQuery{Filter: str}
		return nil
	}
	type plain DBESDKQuery
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode((*plain)(q))
}

// FailsFor reports whether config is among q.Fail.
func (q DBESDKQuery) FailsFor(config string) bool { return slices.Contains(q.Fail, config) }

// DBESDKComplexTest is an entry of data.json "Complex": queries run on the
// records written under one configuration, each naming record numbers that
// must (Pass) and must not (Fail) be among its results, and queries that
// must fail (Failing).
type DBESDKComplexTest struct {
	Config  string `json:"Config"`
	Queries []struct {
		Query DBESDKQuery `json:"Query"`
		Pass  []int       `json:"Pass,omitempty"`
		Fail  []int       `json:"Fail,omitempty"`
	} `json:"Queries"`
	Failing []DBESDKQuery `json:"Failing,omitempty"`
}

// DBESDKQueryData is what a data file (data.json) holds for the query
// tests; its other members are ignored.
type DBESDKQueryData struct {
	Queries []DBESDKQuery
	Failing []DBESDKQuery // queries every client must refuse
	Names   map[string]string
	Values  map[string]types.AttributeValue
	Complex []DBESDKComplexTest
	Records []map[string]types.AttributeValue
}

// LoadDBESDKQueryData reads the query members (Queries, Failing, Names,
// Values, Complex) and the Records of the harness's data files, merged in
// order (the harness reads data.json and records.json into one
// configuration).
func LoadDBESDKQueryData(paths ...string) (*DBESDKQueryData, error) {
	out := &DBESDKQueryData{Names: map[string]string{}, Values: map[string]types.AttributeValue{}}
	for _, path := range paths {
		var doc struct {
			Queries []DBESDKQuery              `json:"Queries"`
			Failing []DBESDKQuery              `json:"Failing"`
			Names   map[string]string          `json:"Names"`
			Values  map[string]json.RawMessage `json:"Values"`
			Complex []DBESDKComplexTest        `json:"Complex"`
			Records []json.RawMessage          `json:"Records"`
		}
		if err := readJSON(path, &doc); err != nil {
			return nil, err
		}
		out.Queries = append(out.Queries, doc.Queries...)
		out.Failing = append(out.Failing, doc.Failing...)
		out.Complex = append(out.Complex, doc.Complex...)
		maps.Copy(out.Names, doc.Names)
		for ph, raw := range doc.Values {
			v, err := SimpleValue(raw)
			if err != nil {
				return nil, fmt.Errorf("vectors: %s: value %s: %w", filepath.Base(path), ph, err)
			}
			out.Values[ph] = v
		}
		for i, raw := range doc.Records {
			item, err := SimpleItem(raw)
			if err != nil {
				return nil, fmt.Errorf("vectors: %s: record %d: %w", filepath.Base(path), i, err)
			}
			out.Records = append(out.Records, item)
		}
	}
	return out, nil
}

var placeholders = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

// Used returns the names and values q's expressions mention (the harness's
// TrimMaps: DynamoDB refuses unused ones), nil when none.
func (d *DBESDKQueryData) Used(q DBESDKQuery) (map[string]string, map[string]types.AttributeValue) {
	var names map[string]string
	var values map[string]types.AttributeValue
	for _, ph := range placeholders.FindAllString(q.Key+" "+q.Filter, -1) {
		if v, ok := d.Names[ph]; ok {
			if names == nil {
				names = map[string]string{}
			}
			names[ph] = v
		}
		if v, ok := d.Values[ph]; ok {
			if values == nil {
				values = map[string]types.AttributeValue{}
			}
			values[ph] = v
		}
	}
	return names, values
}
