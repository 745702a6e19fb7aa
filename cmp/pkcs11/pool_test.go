package pkcs11

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"
)

// The tests without a token; those against SoftHSM2 are under the build
// tag softhsm (scripts/softhsm.sh).

func TestOpenRefusesMissingLibrary(t *testing.T) {
	if _, err := Open(Config{}); err == nil {
		t.Error("Open without a library succeeded")
	}
	if _, err := Open(Config{Module: "/nonexistent/libpkcs11.so", PIN: "secret-pin"}); err == nil || strings.Contains(err.Error(), "secret-pin") {
		t.Errorf("Open of a missing library = %v", err)
	}
}

func TestAuthFailure(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{decryptError{p11.Error(p11.CKR_ENCRYPTED_DATA_INVALID)}, true},
		{fmt.Errorf("wrapped: %w", decryptError{p11.Error(p11.CKR_GENERAL_ERROR)}), true},
		{decryptError{p11.Error(p11.CKR_WRAPPED_KEY_INVALID)}, true},
		{decryptError{p11.Error(p11.CKR_SESSION_HANDLE_INVALID)}, false},
		{p11.Error(p11.CKR_GENERAL_ERROR), false}, // not from the decryption call itself
		{errors.New("other"), false},
		{nil, false},
	} {
		if got := authFailure(c.err); got != c.want {
			t.Errorf("authFailure(%v) = %t, want %t", c.err, got, c.want)
		}
	}
}

func TestConfigRedactsPIN(t *testing.T) {
	c := Config{Module: "/lib.so", PIN: "cu:secret-pin"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", &c), string(must(c.MarshalJSON())), c.LogValue().String()} {
		if strings.Contains(s, "secret-pin") || !strings.Contains(s, "REDACTED") {
			t.Errorf("prints %s", s)
		}
	}
}

// must panics on err: the tests' setup.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
