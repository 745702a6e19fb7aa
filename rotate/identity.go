package rotate

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// keyIdentity returns what a stored item says about the key that protects
// it. For a DDBEC item, that is its material description: every entry but
// the per-item wrapped key, plus the Tink keyset key ID that the wrapped key
// names. Items a provider writes with one key have one identity (a
// MostRecent version is in its amzn-ddb-meta-id). For a DB-ESDK item, it is
// its header's version, algorithm suite and, per encrypted data key, the
// keyring's provider ID and provider info (without the IV of a raw AES
// keyring). The identity is not authenticated, and is only a hint that the
// target then verifies.
func keyIdentity(stored itemcrypto.Item) (string, bool) {
	if hv, ok := stored[dbe.HeaderAttribute].(*types.AttributeValueMemberB); ok {
		return dbesdkIdentity(hv.Value)
	}
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

// rawAESInfoTail is what a raw AES keyring appends to its key name in the
// provider info: the tag length in bits and the IV length (big-endian
// uint32s), then the 12-byte IV.
var rawAESInfoTail = []byte{0, 0, 0, 128, 0, 0, 0, 12}

// dbesdkIdentity is the identity of a DB-ESDK item's header.
func dbesdkIdentity(head []byte) (string, bool) {
	h, err := header.Parse(head)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dbesdk;v=%d;suite=%s;", h.Version, h.Suite)
	keys := make([]string, 0, len(h.EDKs))
	for _, edk := range h.EDKs {
		info, kind := edk.ProviderInfo, ""
		if n := len(info) - 12 - len(rawAESInfoTail); n >= 0 && bytes.Equal(info[n:n+len(rawAESInfoTail)], rawAESInfoTail) {
			info, kind = info[:n], "/aes-gcm" // the key name; the IV differs per item
		}
		keys = append(keys, strconv.Quote(edk.ProviderID)+"/"+strconv.Quote(string(info))+kind)
	}
	slices.Sort(keys)
	b.WriteString(strings.Join(keys, ","))
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
