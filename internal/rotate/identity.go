package rotate

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// keyIdentity returns what the material description of a stored item says
// about the key that protects it: every entry but the per-item wrapped key,
// plus the Tink keyset key ID that the wrapped key names. Items a provider
// writes with one key have one identity (a MostRecent version is in its
// amzn-ddb-meta-id); the identity is not authenticated, and is only a hint
// that the target then verifies.
func keyIdentity(stored itemcrypto.Item) (string, bool) {
	dv, ok := stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB)
	if !ok {
		return "", false
	}
	d, err := materialdesc.Decode(dv.Value)
	if err != nil {
		return "", false
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		if k != materialdesc.KeyEnvelopeKey {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(strconv.Quote(k))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(d[k]))
		b.WriteByte(';')
	}
	if id, ok := tinkcmp.KeyID(d); ok {
		fmt.Fprintf(&b, "tink-key-id=%d;", id)
	}
	return b.String(), true
}

// probeIdentity encrypts probe (key attributes only, never stored) with
// target and returns the identity of what it wrote.
func probeIdentity(ctx context.Context, target *itemcrypto.Encryptor, probe itemcrypto.Item) (string, error) {
	enc, err := target.Encrypt(ctx, probe)
	if err != nil {
		return "", fmt.Errorf("rotate: the target cannot encrypt: %w", err)
	}
	id, ok := keyIdentity(enc)
	if !ok {
		return "", fmt.Errorf("rotate: the target writes no readable material description")
	}
	return id, nil
}
