package kmskeyring

import (
	"errors"
	"fmt"
	"slices"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// The AWS KMS limits on grant tokens, which the MPL checks when a keyring
// is made: at most 10 per request, each of 1 to 8192 characters.
const (
	maxGrantTokens     = 10
	maxGrantTokenBytes = 8192
)

// ErrInvalidGrantTokens: more than 10 grant tokens, or an empty one or one
// longer than 8192 bytes (the AWS KMS limits, which the MPL checks too).
// The error names the token's position, never its value.
var ErrInvalidGrantTokens = errors.New("kmskeyring: invalid grant tokens")

// ErrGrantTokensUnsupported: grant tokens were given for a KMS client that
// cannot send them (it does not implement [cmp.KMSWithGrantTokens];
// cmp/awskms does).
var ErrGrantTokensUnsupported = errors.New("kmskeyring: the KMS client cannot send grant tokens (it does not implement cmp.KMSWithGrantTokens)")

// withGrantTokens returns client made to send tokens with every call; with
// no tokens, client itself.
func withGrantTokens[T any](client T, tokens []string) (T, error) {
	var zero T
	if len(tokens) == 0 {
		return client, nil
	}
	if len(tokens) > maxGrantTokens {
		return zero, fmt.Errorf("%w: %d tokens, at most %d", ErrInvalidGrantTokens, len(tokens), maxGrantTokens)
	}
	for i, t := range tokens {
		if len(t) == 0 || len(t) > maxGrantTokenBytes {
			return zero, fmt.Errorf("%w: token %d is %d bytes, want 1 to %d", ErrInvalidGrantTokens, i, len(t), maxGrantTokenBytes)
		}
	}
	g, ok := any(client).(cmp.KMSWithGrantTokens)
	if !ok {
		return zero, ErrGrantTokensUnsupported
	}
	c, ok := g.WithGrantTokens(slices.Clone(tokens)).(T)
	if !ok {
		return zero, fmt.Errorf("%w: its WithGrantTokens returned a client of another kind", ErrGrantTokensUnsupported)
	}
	return c, nil
}
