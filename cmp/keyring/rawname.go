package keyring

import (
	"errors"
	"fmt"
	"strings"
)

// checkRawKeyName validates the key namespace and name of a raw keyring:
// both non-empty, and a namespace that cannot be taken for an AWS KMS
// keyring's provider id.
func checkRawKeyName(kind, namespace, name string) error {
	if namespace == "" || name == "" {
		return errors.New("keyring: " + kind + " keyring needs a key namespace and a key name")
	}
	if strings.HasPrefix(namespace, "aws-kms") {
		return fmt.Errorf("keyring: key namespace %q is reserved for AWS KMS keyrings", namespace)
	}
	return nil
}
