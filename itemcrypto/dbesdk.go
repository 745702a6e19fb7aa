package itemcrypto

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
)

// Format is an item format.
type Format uint8

const (
	// FormatDDBEC is the AWS DynamoDB Encryption Client's format (the
	// "legacy" format of the DB-ESDK): *amzn-ddb-map-desc* and
	// *amzn-ddb-map-sig*, keys from a cmp.Provider. It is the zero value.
	FormatDDBEC Format = iota
	// FormatDBESDK is the AWS Database Encryption SDK's format: aws_dbe_head
	// and aws_dbe_foot, AES-256-GCM per attribute, keys from a keyring.
	FormatDBESDK
)

func (f Format) String() string {
	switch f {
	case FormatDDBEC:
		return "ddbec"
	case FormatDBESDK:
		return "dbesdk"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat reads "ddbec" or "dbesdk".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "ddbec", "legacy":
		return FormatDDBEC, nil
	case "dbesdk", "db-esdk":
		return FormatDBESDK, nil
	}
	return 0, fmt.Errorf("itemcrypto: unknown format %q (want ddbec or dbesdk)", s)
}

// LegacyPolicy is the DB-ESDK legacy override: whether a DB-ESDK table
// still reads, and writes, DDBEC items (with Config.Provider), for a
// migration from the AWS DynamoDB Encryption Client.
type LegacyPolicy uint8

const (
	// ForbidLegacyEncryptForbidLegacyDecrypt: DDBEC items are refused. The
	// zero value.
	ForbidLegacyEncryptForbidLegacyDecrypt LegacyPolicy = iota
	// ForbidLegacyEncryptAllowLegacyDecrypt: DDBEC items are read, new
	// items are written in the DB-ESDK format.
	ForbidLegacyEncryptAllowLegacyDecrypt
	// ForceLegacyEncryptAllowLegacyDecrypt: DDBEC items are read and
	// written; DB-ESDK items are still read.
	ForceLegacyEncryptAllowLegacyDecrypt
)

func (p LegacyPolicy) String() string {
	return [...]string{"FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT", "FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT", "FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT"}[min(int(p), 2)]
}

// PlaintextPolicy is the DB-ESDK plaintext override, for a migration of a
// table of plaintext items.
type PlaintextPolicy uint8

const (
	// ForbidPlaintextWriteForbidPlaintextRead: every item is encrypted and
	// a plaintext item is an error. The zero value.
	ForbidPlaintextWriteForbidPlaintextRead PlaintextPolicy = iota
	// ForbidPlaintextWriteAllowPlaintextRead: items are encrypted; items
	// with neither DB-ESDK nor DDBEC attributes are returned as they are.
	ForbidPlaintextWriteAllowPlaintextRead
	// ForcePlaintextWriteAllowPlaintextRead: items are written as they are;
	// plaintext items are read as they are, encrypted ones decrypted.
	ForcePlaintextWriteAllowPlaintextRead
)

func (p PlaintextPolicy) String() string {
	return [...]string{"FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ", "FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ", "FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ"}[min(int(p), 2)]
}

// DBESDKConfig configures the AWS Database Encryption SDK format of a table.
// Config.TableName is its logical table name and Config.Policy its
// attribute actions and key names.
type DBESDKConfig struct {
	// Keyring wraps the data keys; or set MaterialsManager. Exactly one is
	// required. A Keyring is used through keyring.NewDefaultManager.
	Keyring          keyring.Keyring
	MaterialsManager keyring.MaterialsManager
	// Suite is the algorithm suite of new items; 0 is the DB-ESDK default,
	// keyring.SuiteECDSAP384. Reading takes the suite from the item.
	Suite keyring.Suite
	// AllowedUnsigned and AllowedUnsignedPrefix name the attributes outside
	// the signature (the DB-ESDK's allowedUnsignedAttributes and
	// allowedUnsignedAttributePrefix). Every DoNothing attribute must be
	// one of them, and none of them may have another action.
	AllowedUnsigned       []string
	AllowedUnsignedPrefix string
	// LegacyPolicy and PlaintextPolicy are the DB-ESDK overrides; at most
	// one of them may be set. A LegacyPolicy other than the zero value
	// needs Config.Provider.
	LegacyPolicy    LegacyPolicy
	PlaintextPolicy PlaintextPolicy
	// MaxEncryptedDataKeys is the most encrypted data keys (recipients) an
	// item may hold, the AWS Encryption SDK's maxEncryptedDataKeys: Decrypt
	// refuses an item with more before any keyring is asked, with an error
	// matching ErrTooManyEncryptedDataKeys and ErrAuthentication, and
	// Encrypt refuses a keyring that makes more. 0 is
	// DefaultMaxEncryptedDataKeys (8); at most MaxEncryptedDataKeysLimit
	// (255, the header's own limit). Raise it only for a multi-keyring of
	// more than 8 keys.
	MaxEncryptedDataKeys int
}

const (
	// DefaultMaxEncryptedDataKeys is the maximum of encrypted data keys per
	// item when DBESDKConfig.MaxEncryptedDataKeys is 0. An item has one per
	// key of the writer's (multi-)keyring: 1 for a single keyring, a
	// handful for a multi-keyring (a KMS key per region, an escrow RSA
	// key); 8 fits those, and caps what a forged item can make a custom
	// keyring try. The DB-ESDK sets no maximum (255, the header's).
	DefaultMaxEncryptedDataKeys = dbe.DefaultMaxEDKs
	// MaxEncryptedDataKeysLimit is the highest DBESDKConfig.MaxEncryptedDataKeys:
	// the header's one-byte count.
	MaxEncryptedDataKeysLimit = dbe.MaxEDKsLimit
)

// Errors of the DB-ESDK format.
var (
	// ErrUnsignedAttribute: a DoNothing attribute outside AllowedUnsigned
	// and the prefix, or an allowed-unsigned attribute with another action.
	ErrUnsignedAttribute = errors.New("itemcrypto: DoNothing attributes must be listed in AllowedUnsigned or carry AllowedUnsignedPrefix, and only they")
	// ErrFormatNotAllowed: the item's format is one the configuration does
	// not read (a DDBEC item without a legacy policy that allows it, a
	// plaintext item without a plaintext policy that allows it, a DB-ESDK
	// item without a DB-ESDK configuration).
	ErrFormatNotAllowed = errors.New("itemcrypto: item format not allowed by the configuration")
	// ErrMissingContextAttribute: an attribute that the policy's Overrides
	// name SignAndIncludeInEncryptionContext is missing from an item being
	// encrypted; the DB-ESDK refuses such an item too (an attribute that is
	// SignAndIncludeInEncryptionContext only through the Default is not
	// required).
	ErrMissingContextAttribute = errors.New("itemcrypto: attribute configured SignAndIncludeInEncryptionContext missing")
	// ErrOverrideWithBeacons: a searchable-encryption (beacon) configuration
	// beside a LegacyPolicy or PlaintextPolicy. The DB-ESDK specification
	// (ddb-table-encryption-config.md) makes the combination an error: items
	// written or read under an override carry no beacons (a beacon query
	// would miss them silently) or carry beacons outside the DDBEC
	// signature (every DDBEC reader rejects them).
	ErrOverrideWithBeacons = errors.New("itemcrypto: a LegacyPolicy or PlaintextPolicy cannot be combined with searchable encryption (beacons)")
	// ErrTooManyEncryptedDataKeys: an item with more encrypted data keys
	// than DBESDKConfig.MaxEncryptedDataKeys, refused before any keyring is
	// asked (it also matches ErrAuthentication); on Encrypt, a keyring that
	// made more. It is keyring.ErrTooManyEncryptedDataKeys.
	ErrTooManyEncryptedDataKeys = keyring.ErrTooManyEncryptedDataKeys
)

// CheckBeacons returns an error matching [ErrOverrideWithBeacons] when d
// sets a legacy or plaintext override, and nil otherwise: every
// configuration that adds beacons to a table (dynamodbenc's TableConfig.Search
// and the like) calls it when it is built.
func (d *DBESDKConfig) CheckBeacons() error {
	switch {
	case d == nil:
		return nil
	case d.LegacyPolicy != ForbidLegacyEncryptForbidLegacyDecrypt:
		return fmt.Errorf("%w: LegacyPolicy is %s", ErrOverrideWithBeacons, d.LegacyPolicy)
	case d.PlaintextPolicy != ForbidPlaintextWriteForbidPlaintextRead:
		return fmt.Errorf("%w: PlaintextPolicy is %s", ErrOverrideWithBeacons, d.PlaintextPolicy)
	}
	return nil
}

// dbesdkState is the validated DB-ESDK half of an Encryptor.
type dbesdkState struct {
	cfg       dbe.Config
	legacy    LegacyPolicy
	plaintext PlaintextPolicy
	unsigned  []string
	prefix    string
}

func newDBESDK(c Config, policy *actions.Policy, opts *Options) (*dbesdkState, error) {
	d := c.DBESDK
	if (d.Keyring == nil) == (d.MaterialsManager == nil) {
		return nil, errors.New("itemcrypto: DBESDKConfig needs exactly one of Keyring and MaterialsManager")
	}
	if d.Suite != 0 && !d.Suite.Valid() {
		return nil, fmt.Errorf("itemcrypto: DBESDKConfig.Suite: %w: %s", keyring.ErrUnsupportedSuite, d.Suite)
	}
	if d.LegacyPolicy != ForbidLegacyEncryptForbidLegacyDecrypt && d.PlaintextPolicy != ForbidPlaintextWriteForbidPlaintextRead {
		return nil, errors.New("itemcrypto: DBESDKConfig: LegacyPolicy and PlaintextPolicy cannot both be set")
	}
	if d.LegacyPolicy > ForceLegacyEncryptAllowLegacyDecrypt || d.PlaintextPolicy > ForcePlaintextWriteAllowPlaintextRead {
		return nil, errors.New("itemcrypto: DBESDKConfig: unknown LegacyPolicy or PlaintextPolicy")
	}
	if d.MaxEncryptedDataKeys < 0 || d.MaxEncryptedDataKeys > MaxEncryptedDataKeysLimit {
		return nil, fmt.Errorf("itemcrypto: DBESDKConfig.MaxEncryptedDataKeys %d: want 0 (the default, %d) to %d", d.MaxEncryptedDataKeys, DefaultMaxEncryptedDataKeys, MaxEncryptedDataKeysLimit)
	}
	if d.LegacyPolicy != ForbidLegacyEncryptForbidLegacyDecrypt && c.Provider == nil {
		return nil, fmt.Errorf("itemcrypto: DBESDKConfig.LegacyPolicy %s needs Config.Provider to read DDBEC items", d.LegacyPolicy)
	}
	pk, sk := policy.Keys()
	if pk == "" {
		return nil, errors.New("itemcrypto: the DB-ESDK format needs the partition key name (actions.Options.PartitionKey)")
	}
	mm := d.MaterialsManager
	if mm == nil {
		mm = keyring.NewDefaultManager(d.Keyring, func(o *keyring.ManagerOptions) { o.Rand = opts.Rand })
	}
	s := &dbesdkState{legacy: d.LegacyPolicy, plaintext: d.PlaintextPolicy, unsigned: slices.Clone(d.AllowedUnsigned), prefix: d.AllowedUnsignedPrefix}
	version := byte(1)
	if policy.HasContext() {
		version = 2
	}
	for _, k := range []string{pk, sk} {
		if k != "" && s.isUnsigned(k) {
			return nil, &AttributeError{Name: k, Action: policy.Action(k), Err: ErrUnsignedAttribute}
		}
	}
	for name, a := range policy.Overrides() {
		if (a == actions.DoNothing) != s.isUnsigned(name) && name != pk && name != sk {
			return nil, &AttributeError{Name: name, Action: a, Err: ErrUnsignedAttribute}
		}
		if (name == pk || name == sk) && a == actions.DoNothing {
			return nil, &AttributeError{Name: name, Action: a, Err: dbe.ErrKeyNotSigned}
		}
	}
	var required []string
	for name, a := range policy.Overrides() {
		if a == actions.SignAndIncludeInEncryptionContext && name != pk && name != sk {
			required = append(required, name)
		}
	}
	slices.Sort(required)
	s.cfg = dbe.Config{
		Table: c.TableName, PartitionKey: pk, SortKey: sk, Version: version, Suite: d.Suite, Manager: mm, Rand: opts.Rand,
		Required: required,
		MaxEDKs:  d.MaxEncryptedDataKeys,
		Unsigned: s.isUnsigned,
		Action: func(name string) (dbe.Action, error) {
			a := policy.Action(name)
			if name == pk || name == sk {
				if version == 2 {
					return dbe.SignAndIncludeInContext, nil
				}
				return dbe.SignOnly, nil
			}
			if (a == actions.DoNothing) != s.isUnsigned(name) {
				return 0, ErrUnsignedAttribute
			}
			return toDBE(a), nil
		},
	}
	return s, nil
}

func (s *dbesdkState) isUnsigned(name string) bool {
	return slices.Contains(s.unsigned, name) || (s.prefix != "" && strings.HasPrefix(name, s.prefix))
}

func toDBE(a actions.Action) dbe.Action {
	switch a {
	case actions.EncryptAndSign:
		return dbe.EncryptAndSign
	case actions.SignOnly:
		return dbe.SignOnly
	case actions.SignAndIncludeInEncryptionContext:
		return dbe.SignAndIncludeInContext
	}
	return dbe.DoNothing
}

func fromDBE(a dbe.Action) actions.Action {
	switch a {
	case dbe.EncryptAndSign:
		return actions.EncryptAndSign
	case dbe.SignOnly:
		return actions.SignOnly
	case dbe.SignAndIncludeInContext:
		return actions.SignAndIncludeInEncryptionContext
	}
	return actions.DoNothing
}

// isDDBECItem reports whether item carries the DDBEC signature or
// description attribute.
func isDDBECItem(item Item) bool {
	_, s := item[SignatureAttribute]
	_, d := item[MaterialDescriptionAttribute]
	return s || d
}

// writesDDBEC reports whether Encrypt writes the DDBEC format.
func (e *Encryptor) writesDDBEC() bool {
	return e.dbesdk == nil || e.format == FormatDDBEC || e.dbesdk.legacy == ForceLegacyEncryptAllowLegacyDecrypt
}

// readsDDBEC reports whether Decrypt reads DDBEC items.
func (e *Encryptor) readsDDBEC() bool {
	return e.provider != nil && (e.format == FormatDDBEC || e.dbesdk.legacy != ForbidLegacyEncryptForbidLegacyDecrypt)
}

func (e *Encryptor) encryptDBESDK(ctx context.Context, item Item) (Item, error) {
	if e.dbesdk.plaintext == ForcePlaintextWriteAllowPlaintextRead {
		return maps.Clone(item), nil
	}
	if isDDBECItem(item) {
		return nil, &AttributeError{Name: SignatureAttribute, Err: ErrReservedAttribute}
	}
	out, err := dbe.Encrypt(ctx, &e.dbesdk.cfg, item)
	if err != nil {
		var ae *dbe.AttrError
		if errors.As(err, &ae) {
			return nil, &AttributeError{Name: ae.Name, Action: fromDBE(ae.Action), Err: classifyDBE(ae.Err)}
		}
		return nil, fmt.Errorf("itemcrypto: %w", err)
	}
	if e.opts.MaxItemSize > 0 {
		if n := itemSize(out); n > e.opts.MaxItemSize {
			return nil, fmt.Errorf("%w: %d bytes protected, limit %d", ErrItemTooLarge, n, e.opts.MaxItemSize)
		}
	}
	return out, nil
}

func classifyDBE(err error) error {
	switch {
	case errors.Is(err, dbe.ErrMissingKey):
		return ErrMissingKeyAttribute
	case errors.Is(err, dbe.ErrMissingContext):
		return ErrMissingContextAttribute
	case errors.Is(err, dbe.ErrReservedName):
		return classErr{err, ErrReservedAttribute}
	case errors.Is(err, ddbattr.ErrNotUTF8):
		return classErr{err, ErrInvalidUTF8}
	case errors.Is(err, ErrUnsignedAttribute), errors.Is(err, dbe.ErrKeyNotSigned):
		return err
	}
	return classErr{err, ErrUnsupportedValue}
}

// itemSize approximates DynamoDB's item size: names plus values (a value
// ddbserial cannot measure, which the store will refuse, counts as 0).
func itemSize(item Item) int {
	n := 0
	for name, v := range item {
		s, _ := ddbserial.MeasureLoose(v)
		n += len(name) + s.Stored
	}
	return n
}

func (e *Encryptor) decryptDBESDK(ctx context.Context, item Item) (Item, error) {
	out, _, err := dbe.Decrypt(ctx, &e.dbesdk.cfg, item)
	if err != nil {
		if errors.Is(err, ErrAuthentication) {
			return nil, err
		}
		return nil, fmt.Errorf("itemcrypto: %w", err)
	}
	return out, nil
}

// Format returns the format Encrypt writes.
func (e *Encryptor) Format() Format {
	if e.writesDDBEC() {
		return FormatDDBEC
	}
	return FormatDBESDK
}

// ReservedAttributes returns the names of the attributes the encryptor adds
// to items and reads back (the DDBEC material description and signature,
// the DB-ESDK header and footer, or both when it reads both formats). No
// plaintext item may carry them, and adapters must read them along with
// the item.
func (e *Encryptor) ReservedAttributes() []string {
	var names []string
	if e.provider != nil && (e.dbesdk == nil || e.readsDDBEC() || e.writesDDBEC()) {
		names = append(names, MaterialDescriptionAttribute, SignatureAttribute)
	}
	if e.dbesdk != nil {
		names = append(names, dbe.HeaderAttribute, dbe.FooterAttribute)
	}
	return names
}

// IsReserved reports whether name is one of ReservedAttributes or, with a
// DB-ESDK configuration, any name the DB-ESDK reserves (prefix "aws_dbe_").
func (e *Encryptor) IsReserved(name string) bool {
	if name == MaterialDescriptionAttribute || name == SignatureAttribute {
		return true
	}
	return e.dbesdk != nil && strings.HasPrefix(name, dbe.ReservedPrefix)
}

// MarkerAttribute returns the attribute every item Encrypt writes carries:
// the DDBEC signature or the DB-ESDK footer ("" when Encrypt writes
// plaintext: a policy of DoNothing only, or a plaintext policy that forces
// plaintext writes). An update that must not create an unprotected item
// can require it to exist.
func (e *Encryptor) MarkerAttribute() string {
	switch {
	case e.writesDDBEC():
		if e.policy.NoOp() {
			return ""
		}
		return SignatureAttribute
	case e.dbesdk.plaintext == ForcePlaintextWriteAllowPlaintextRead:
		return ""
	}
	return dbe.FooterAttribute
}

// CheckBeacons returns an error matching [ErrOverrideWithBeacons] when e's
// DBESDKConfig sets a legacy or plaintext override (see
// [DBESDKConfig.CheckBeacons]), and nil otherwise, for code that adds
// beacons to the items of an encryptor it did not configure (rotate's
// TargetSearch). An encryptor without DBESDKConfig writes the DDBEC format,
// which has no beacons: check [Encryptor.Format] too.
func (e *Encryptor) CheckBeacons() error {
	if e.dbesdk == nil {
		return nil
	}
	d := DBESDKConfig{LegacyPolicy: e.dbesdk.legacy, PlaintextPolicy: e.dbesdk.plaintext}
	return d.CheckBeacons()
}
