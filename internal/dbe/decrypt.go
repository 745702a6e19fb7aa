package dbe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/aesgcm"
	"github.com/itemcrypto/go-itemcrypto/internal/bufpool"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/canon"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/footer"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
)

// Parsed describes a decrypted item's header.
type Parsed struct {
	Version byte
	Suite   keyring.Suite
	// Signed names the signed attributes in canonical order, and Legend
	// gives the action the writer gave each (header.LegendEncrypt,
	// LegendSign or LegendContext).
	Signed []string
	Legend []byte
	EDKs   []keyring.EncryptedDataKey
	// StoredContext is the header's context; Context the full one.
	StoredContext, Context map[string]string
}

// authErr is an authentication failure that also says why where the reason
// is public (a keyring that holds none of the item's keys).
type authErr struct{ cause error }

func (e authErr) Error() string   { return ErrAuthentication.Error() + ": " + e.cause.Error() }
func (e authErr) Unwrap() []error { return []error{ErrAuthentication, e.cause} }

// Decrypt verifies item and returns its plaintext without the header, the
// footer and any other aws_dbe_ attribute (beacons). Every failure of
// authenticity matches ErrAuthentication and returns no item; errors of a
// keyring's backend (a KMS that cannot be reached) are returned wrapped.
func Decrypt(ctx context.Context, cfg *Config, item map[string]types.AttributeValue) (map[string]types.AttributeValue, Parsed, error) {
	out, p, err := decrypt(ctx, cfg, item)
	if err != nil {
		return nil, Parsed{}, err
	}
	return out, p, nil
}

// Action returns the writer's action for a signed attribute, or DoNothing.
func (p *Parsed) Action(name string) Action {
	i := slices.Index(p.Signed, name)
	if i < 0 {
		return DoNothing
	}
	switch p.Legend[i] {
	case header.LegendEncrypt:
		return EncryptAndSign
	case header.LegendContext:
		return SignAndIncludeInContext
	}
	return SignOnly
}

func decrypt(ctx context.Context, cfg *Config, item map[string]types.AttributeValue) (map[string]types.AttributeValue, Parsed, error) {
	headAV, ok1 := item[HeaderAttribute].(*types.AttributeValueMemberB)
	footAV, ok2 := item[FooterAttribute].(*types.AttributeValueMemberB)
	if !ok1 || !ok2 || headAV == nil || footAV == nil {
		return nil, Parsed{}, ErrAuthentication
	}
	for _, k := range []string{cfg.PartitionKey, cfg.SortKey} {
		if k == "" {
			continue
		}
		if _, ok := item[k]; !ok {
			return nil, Parsed{}, ErrAuthentication
		}
	}
	raw := headAV.Value
	h, err := header.Parse(raw)
	if err != nil {
		return nil, Parsed{}, ErrAuthentication
	}
	if len(h.EDKs) > cfg.maxEDKs() {
		// Before any keyring is asked: each EDK may cost an unwrap.
		return nil, Parsed{}, authErr{fmt.Errorf("%w: the item holds %d, the maximum is %d", keyring.ErrTooManyEncryptedDataKeys, len(h.EDKs), cfg.maxEDKs())}
	}
	// The signed attributes in canonical order, and their actions from the
	// legend.
	names := make([]string, 0, len(item))
	for name := range item {
		if strings.HasPrefix(name, ReservedPrefix) || cfg.Unsigned(name) {
			// aws_dbe_head, aws_dbe_foot, beacons (aws_dbe_b_...) and the
			// beacon version tag (aws_dbe_v_...) are outside the signature
			// scope, as in the DB-ESDK's item encryptor.
			continue
		}
		names = append(names, name)
	}
	if len(names) == 0 || len(names) != len(h.Legend) {
		return nil, Parsed{}, ErrAuthentication
	}
	slices.SortFunc(names, canon.ComparePaths)
	fields := make([]field, len(names))
	sp, scratch := bufpool.Get()
	defer func() { bufpool.Put(sp, scratch) }()
	for i, name := range names {
		f := field{name: name}
		switch h.Legend[i] {
		case header.LegendEncrypt:
			f.action = EncryptAndSign
			b, ok := item[name].(*types.AttributeValueMemberB)
			if !ok || b == nil || len(b.Value) < 2+16 {
				return nil, Parsed{}, ErrAuthentication
			}
			f.value = b.Value
		case header.LegendContext:
			f.action = SignAndIncludeInContext
		default:
			f.action = SignOnly
		}
		if f.action != EncryptAndSign {
			f.start = len(scratch)
			if scratch, f.typeID, err = ddbattr.Append(scratch, item[name]); err != nil {
				return nil, Parsed{}, ErrAuthentication
			}
			f.end = len(scratch)
		}
		fields[i] = f
	}
	for i := range fields {
		if fields[i].action != EncryptAndSign {
			fields[i].value = scratch[fields[i].start:fields[i].end:fields[i].end]
		}
	}
	ec, required, err := baseContext(cfg, h.Version, item, fields)
	if err != nil {
		return nil, Parsed{}, ErrAuthentication
	}
	mat, err := cfg.Manager.DecryptionMaterials(ctx, keyring.DecryptionRequest{
		Suite: h.Suite, EncryptedDataKeys: h.EDKs, StoredContext: h.Context, ReproducedContext: ec, RequiredKeys: required,
	})
	if err != nil {
		switch {
		case errors.Is(err, ErrAuthentication):
			return nil, Parsed{}, ErrAuthentication
		case errors.Is(err, keyring.ErrNoDecryptableKey), errors.Is(err, keyring.ErrEncryptionContext), errors.Is(err, keyring.ErrUnsupportedSuite):
			return nil, Parsed{}, authErr{err} // decided by unsigned header fields
		}
		return nil, Parsed{}, fmt.Errorf("decryption materials: %w", err)
	}
	defer mat.Zero()
	if mat.Suite() != h.Suite {
		return nil, Parsed{}, ErrAuthentication
	}
	dataKey := mat.DataKey()
	ck := header.CommitKey(dataKey, &h.MessageID)
	okCommit := header.VerifyCommitment(ck[:], raw)
	clear(ck[:])
	if !okCommit {
		return nil, Parsed{}, ErrAuthentication
	}
	foot, err := footer.Parse(footAV.Value, len(h.EDKs), h.Suite.Signed())
	if err != nil {
		return nil, Parsed{}, ErrAuthentication
	}
	aad, err := mat.SerializedContext() // never empty: it holds the table name
	if err != nil {
		return nil, Parsed{}, ErrAuthentication
	}
	hash := canon.NewHash(cfg.Table, raw, aad)
	for _, f := range fields {
		if f.action == EncryptAndSign {
			hash.AddEncrypted(f.name, f.value)
		} else {
			hash.AddPlaintext(f.name, f.typeID, f.value)
		}
	}
	sum := hash.Sum()
	if !foot.AnyTagMatches(mat.SymmetricSigningKey(), &sum) {
		return nil, Parsed{}, ErrAuthentication
	}
	if h.Suite.Signed() && !footer.Verify(mat.VerificationKey(), &sum, foot.Signature) {
		return nil, Parsed{}, ErrAuthentication
	}

	// Verified: decrypt.
	root, err := fieldRoot(dataKey, &h.MessageID)
	if err != nil {
		return nil, Parsed{}, err
	}
	defer root.Zero()
	out := make(map[string]types.AttributeValue, len(item))
	for name, v := range item {
		if !strings.HasPrefix(name, ReservedPrefix) {
			out[name] = v
		}
	}
	path := make([]byte, 0, len(cfg.Table)+17+maxNameLen(fields))
	offset := uint32(0)
	for _, f := range fields {
		if f.action != EncryptAndSign {
			continue
		}
		key, nonce := root.FieldKey(offset)
		offset++
		g, err := aesgcm.New(key)
		if err != nil {
			clear(out)
			return nil, Parsed{}, err
		}
		path = canon.AppendPath(path[:0], cfg.Table, f.name)
		pt, err := g.Open(nil, nonce, f.value[2:], path)
		if err != nil {
			clear(out)
			return nil, Parsed{}, ErrAuthentication
		}
		t := uint16(f.value[0])<<8 | uint16(f.value[1])
		v, err := ddbattr.Parse(t, pt)
		if err != nil {
			clear(pt)
			clear(out)
			return nil, Parsed{}, ErrAuthentication
		}
		out[f.name] = v
	}
	return out, Parsed{
		Version: h.Version, Suite: h.Suite, Signed: names, Legend: h.Legend, EDKs: h.EDKs,
		StoredContext: h.Context, Context: mat.EncryptionContext(),
	}, nil
}
