package cmptest

import (
	"context"
	"errors"
	"maps"
	"runtime/debug"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// errContract stands in for what a provider returned when it broke the
// interface contract, so that the suite goes on without a nil dereference.
var errContract = errors.New("cmptest: the provider broke the cmp.Provider contract")

// checked wraps the provider under test and reports every call that breaks
// the contract of cmp.Provider: a panic, materials together with an error,
// neither, materials without a signing or verification key, or a change to
// the encryption context. It is safe for concurrent use.
type checked struct {
	t *testing.T
	p cmp.Provider
}

var _ cmp.Provider = (*checked)(nil)

func (c *checked) recovered(method string, r any) {
	c.t.Errorf("%s panicked: %v\n%s", method, r, debug.Stack())
}

func sameAttributes(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (c *checked) EncryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (m *cmp.EncryptionMaterials, err error) {
	attrs := maps.Clone(ec.Attributes)
	defer func() {
		if r := recover(); r != nil {
			c.recovered("EncryptionMaterials", r)
			m, err = nil, errContract
		}
	}()
	m, err = c.p.EncryptionMaterials(ctx, ec)
	switch {
	case m != nil && err != nil:
		c.t.Errorf("EncryptionMaterials returned materials together with the error %v", err)
		m = nil
	case m == nil && err == nil:
		c.t.Error("EncryptionMaterials returned neither materials nor an error")
		err = errContract
	case m != nil && m.SigningKey() == nil:
		c.t.Error("EncryptionMaterials returned materials without a signing key")
		m, err = nil, errContract
	}
	if !sameAttributes(attrs, ec.Attributes) {
		c.t.Error("EncryptionMaterials modified EncryptionContext.Attributes")
	}
	return m, err
}

func (c *checked) DecryptionMaterials(ctx context.Context, ec cmp.EncryptionContext) (m *cmp.DecryptionMaterials, err error) {
	attrs := maps.Clone(ec.Attributes)
	desc := maps.Clone(ec.MaterialDescription)
	defer func() {
		if r := recover(); r != nil {
			c.recovered("DecryptionMaterials", r)
			m, err = nil, errContract
		}
	}()
	m, err = c.p.DecryptionMaterials(ctx, ec)
	switch {
	case m != nil && err != nil:
		c.t.Errorf("DecryptionMaterials returned materials together with the error %v", err)
		m = nil
	case m == nil && err == nil:
		c.t.Error("DecryptionMaterials returned neither materials nor an error")
		err = errContract
	case m != nil && m.VerificationKey() == nil:
		c.t.Error("DecryptionMaterials returned materials without a verification key")
		m, err = nil, errContract
	}
	if !sameAttributes(attrs, ec.Attributes) {
		c.t.Error("DecryptionMaterials modified EncryptionContext.Attributes")
	}
	if !maps.Equal(desc, ec.MaterialDescription) {
		c.t.Error("DecryptionMaterials modified EncryptionContext.MaterialDescription")
	}
	return m, err
}
