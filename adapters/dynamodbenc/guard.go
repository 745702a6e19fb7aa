package dynamodbenc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// guard builds the refusals of one request on one table.
type guard struct {
	op, table string
	policy    *actions.Policy
	enc       *itemcrypto.Encryptor
	search    *search.Search // nil without beacons
	indexes   []index        // the table's GSIs, when DescribeTable told them
}

// protect encrypts and signs a plaintext item for writing, with its beacons
// when the table has them: the signed beacons join the item before it is
// signed, the stored beacons (aws_dbe_b_..., outside the signature) after.
func (g guard) protect(ctx context.Context, item itemcrypto.Item) (itemcrypto.Item, error) {
	if g.search == nil {
		return g.enc.Encrypt(ctx, item)
	}
	return g.search.Protect(ctx, item, g.enc.Encrypt)
}

// refuseQuery is a query the table's beacons cannot answer.
func (g guard) refuseQuery(err error) error {
	var qe *search.QueryError
	if !errors.As(err, &qe) {
		return &OpError{Op: g.op, Table: g.table, Err: err}
	}
	return &UnsafeOperationError{Op: g.op, Table: g.table, Attribute: qe.Attribute, Reason: qe.Error(), Err: err}
}

// beaconIndex refuses a Query of the table itself (no IndexName) whose
// rewritten key condition is on a stored beacon (aws_dbe_b_NAME): no table
// has a beacon as its key, so DynamoDB would reject it; only a global
// secondary index keyed on the beacon can answer it. The refusal names the
// index to use when DescribeTable told the table's indexes.
func (g guard) beaconIndex(keyCond *string, names map[string]string) error {
	if keyCond == nil || *keyCond == "" {
		return nil
	}
	p, err := parseExpr(*keyCond, names)
	if err != nil {
		return g.refuse("", "KeyConditionExpression: %v", err)
	}
	for _, r := range p.refs {
		stored := r.path.top()
		name, ok := strings.CutPrefix(stored, search.BeaconPrefix)
		if !ok {
			continue
		}
		hint := ""
		for _, ix := range g.indexes {
			if ix.pk == stored || ix.sk == stored {
				hint = fmt.Sprintf(" (use IndexName %q)", ix.name)
				break
			}
		}
		return g.refuse(name, "KeyConditionExpression names %q, which the beacons rewrite to its beacon %s, and the query has no IndexName: "+
			"a global secondary index whose partition (or sort) key is %s must be given as IndexName%s", name, stored, stored, hint)
	}
	return nil
}

func (g guard) refuse(attr, format string, args ...any) error {
	return &UnsafeOperationError{Op: g.op, Table: g.table, Attribute: attr, Reason: fmt.Sprintf(format, args...)}
}

// legacy refuses a pre-expression parameter (AttributesToGet, Expected,
// QueryFilter, ...) when present: they have an expression equivalent, which
// the client can check.
func (g guard) legacy(present bool, param string) error {
	if !present {
		return nil
	}
	return g.refuse("", "the legacy parameter %s is not supported on an encrypted table; use its expression form", param)
}

// condition refuses a condition, filter or key-condition expression that
// names an encrypted attribute: DynamoDB would compare its ciphertext.
// attribute_exists and attribute_not_exists of a whole attribute are allowed,
// since encryption keeps an attribute's presence.
func (g guard) condition(param string, expr *string, names map[string]string) error {
	if expr == nil || *expr == "" {
		return nil
	}
	p, err := parseExpr(*expr, names)
	if err != nil {
		return g.refuse("", "%s: %v", param, err)
	}
	for _, r := range p.refs {
		name := r.path.top()
		if g.enc.IsReserved(name) || r.existence {
			continue
		}
		if g.policy.Action(name) == actions.EncryptAndSign {
			return g.refuse(name, "%s names the encrypted attribute %q, whose value DynamoDB only sees as ciphertext; "+
				"only attribute_exists and attribute_not_exists may test an encrypted attribute", param, name)
		}
	}
	return nil
}

// update refuses an update expression that touches (sets, removes, adds to,
// deletes from, or reads) anything but DoNothing attributes: the signature
// covers the whole item, and a partial update cannot re-sign it.
func (g guard) update(param string, expr *string, names map[string]string) error {
	if expr == nil || *expr == "" {
		return nil
	}
	p, err := parseExpr(*expr, names)
	if err != nil {
		return g.refuse("", "%s: %v", param, err)
	}
	pk, sk := g.policy.Keys()
	for _, r := range p.refs {
		name := r.path.top()
		switch {
		case g.enc.IsReserved(name):
			return g.refuse(name, "%s touches the reserved attribute %q", param, name)
		case name == pk || name == sk:
			return g.refuse(name, "%s touches the key attribute %q", param, name)
		case g.policy.Action(name) != actions.DoNothing:
			return g.refuse(name, "%s touches the attribute %q (%v): the item's signature covers it and a "+
				"partial update cannot re-sign the item; only DoNothing attributes may be updated in place, "+
				"write the whole item with PutItem instead", param, name, g.policy.Action(name))
		}
	}
	return nil
}

// requireSigned adds attribute_exists(<signature attribute>) to an update's
// condition, so that an update never creates an unsigned item where none
// exists (it fails with ConditionalCheckFailedException instead).
func requireSigned(enc *itemcrypto.Encryptor, cond *string, names map[string]string) (*string, map[string]string) {
	marker := enc.MarkerAttribute()
	if marker == "" {
		return cond, names
	}
	ph := freshPrefix(names) + "sig"
	out := make(map[string]string, len(names)+1)
	maps.Copy(out, names)
	out[ph] = marker
	s := "attribute_exists(" + ph + ")"
	if cond != nil && strings.TrimSpace(*cond) != "" {
		s = "(" + *cond + ") AND " + s
	}
	return &s, out
}
