package streams

import (
	"fmt"
	"strings"
)

// TableName returns the name of the table of a DynamoDB stream ARN,
// arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL (the
// eventSourceARN of a Lambda event record), or of a table ARN,
// arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME. Anything else is an
// error: a record whose table is unknown is never passed through.
func TableName(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6) // the stream label may hold colons
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "dynamodb" {
		return "", fmt.Errorf("not a DynamoDB ARN: %q", arn)
	}
	rest, ok := strings.CutPrefix(parts[5], "table/")
	if !ok {
		return "", fmt.Errorf("not a DynamoDB table or stream ARN: %q", arn)
	}
	name, stream, hasStream := strings.Cut(rest, "/")
	if hasStream {
		label, ok := strings.CutPrefix(stream, "stream/")
		if !ok || label == "" {
			return "", fmt.Errorf("not a DynamoDB table or stream ARN: %q", arn)
		}
	}
	if !validTableName(name) {
		return "", fmt.Errorf("a DynamoDB ARN without a valid table name: %q", arn)
	}
	return name, nil
}

// validTableName reports whether name is a DynamoDB table name: 3 to 255
// characters of a-z, A-Z, 0-9, '_', '-' and '.'.
func validTableName(name string) bool {
	if len(name) < 3 || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}
