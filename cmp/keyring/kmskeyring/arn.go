package kmskeyring

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ARN is a parsed AWS KMS ARN:
// arn:<partition>:kms:<region>:<account>:<key|alias>/<id>.
type ARN struct {
	Partition, Region, Account string
	// ResourceType is "key" or "alias".
	ResourceType string
	// ResourceID is the key id or alias name; it may contain "/".
	ResourceID string
}

var errNotARN = errors.New("kmskeyring: not an AWS KMS ARN")

// ParseARN parses an AWS KMS key or alias ARN as the MPL specification
// defines a valid one ("aws-kms-key-arn.md"): six non-empty parts split by
// ":", service "kms", and a resource "key/<id>" or "alias/<name>". As in the
// MPL (AwsArnParsing.ParseAwsKmsArn), a ":" in the resource makes a
// seventh part: no ARN.
func ParseARN(s string) (ARN, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "kms" || parts[3] == "" || parts[4] == "" {
		return ARN{}, errNotARN
	}
	typ, id, ok := strings.Cut(parts[5], "/")
	if !ok || id == "" || (typ != "key" && typ != "alias") {
		return ARN{}, errNotARN
	}
	return ARN{Partition: parts[1], Region: parts[3], Account: parts[4], ResourceType: typ, ResourceID: id}, nil
}

// String returns the ARN in its text form.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":kms:" + a.Region + ":" + a.Account + ":" + a.ResourceType + "/" + a.ResourceID
}

// maxIdentifierLen is the MPL's MAX_AWS_KMS_IDENTIFIER_LENGTH.
const maxIdentifierLen = 2048

// validIdentifier reports whether s is an AWS KMS key identifier as the
// MPL's IsAwsKmsIdentifierString has it: 1 to 2048 ASCII characters that
// are an ARN ([ParseARN]), an alias name ("alias/<name>") or a key id (no
// "/"; the MPL asks nothing more of it, KMS refuses what is no key).
func validIdentifier(s string) bool {
	if s == "" || len(s) > maxIdentifierLen {
		return false
	}
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	if strings.HasPrefix(s, "arn:") {
		_, err := ParseARN(s)
		return err == nil
	}
	typ, name, isResource := strings.Cut(s, "/")
	return !isResource || (typ == "alias" && name != "")
}

// ErrKeyARNRequired: a keyring that records its key in every encrypted
// data key and checks KMS answered with it (the KMS RSA and KMS ECDH
// keyrings) was given an alias or a bare key id instead of a key ARN.
var ErrKeyARNRequired = errors.New("kmskeyring: an AWS KMS key ARN is required")

// requireKeyARN fails unless keyID is a key ARN.
func requireKeyARN(keyID string) error {
	if arn, err := ParseARN(keyID); err != nil || arn.ResourceType != "key" {
		return fmt.Errorf("%w, not %q", ErrKeyARNRequired, keyID)
	}
	return nil
}
