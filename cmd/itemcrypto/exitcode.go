package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"

	"github.com/aws/smithy-go"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/rotate"
)

// The exit statuses of itemcrypto, documented in the root command's help
// (exitCodesHelp) and in the README's "Command-line tool" section.
const (
	exitOK      = 0 // success
	exitFailure = 1 // any failure not listed below (e.g. failed test vectors)
	exitUsage   = 2 // the command line: unknown command or flag, wrong arguments, flags missing or in conflict
	exitAuth    = 3 // an item failed authentication (tampered, another key, another table, not encrypted)
	exitInput   = 4 // a file named on the command line is missing or cannot be read
	exitServer  = 5 // DynamoDB, MongoDB or a KMS refused a request or could not be reached
	exitPartial = 6 // rotate: items conflicted or failed, or the run was interrupted; rotate status: incomplete
)

// exitCodesHelp ends the root command's help.
const exitCodesHelp = `Exit status:
  0  success
  1  any other failure (e.g. failed test vectors)
  2  usage: unknown command or flag, wrong arguments, flags missing or in conflict
  3  authentication: an item failed verification (tampered, another key or
     table, not encrypted); the message says why only where that is no secret
  4  input: a file named on the command line is missing or unreadable
  5  server or KMS: DynamoDB, MongoDB or a KMS refused a request or could not
     be reached
  6  partial rotation: rotate left items that conflicted or failed, or was
     interrupted (rerun to resume); rotate status found the rotation incomplete`

// usageError is a command line the command cannot run: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef is fmt.Errorf for a usage error.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// asUsage marks err (if not nil) as a usage error.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// errPartial is a rotation that did not move every item (conflicts,
// failures, or segments not done): exit status 6, as rotate.ErrInterrupted.
var errPartial = errors.New("partial rotation")

// causedError says msg and wraps err, whose message msg may leave out or
// reword, so that the exit status follows the cause.
type causedError struct {
	msg string
	err error
}

func (e causedError) Error() string { return e.msg }
func (e causedError) Unwrap() error { return e.err }

// exitCode maps the error of a command to its exit status.
func exitCode(err error) int {
	var (
		usage   usageError
		api     smithy.APIError
		kms     *cmp.KMSError
		tinkKMS *tinkcmp.KMSError
		netOp   *net.OpError
		dns     *net.DNSError
		mongoSv mongo.ServerError
		path    *fs.PathError
		sel     topology.ServerSelectionError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage) || isCobraUsage(err):
		return exitUsage
	case errors.Is(err, errPartial), errors.Is(err, rotate.ErrInterrupted):
		return exitPartial
	case errors.Is(err, itemcrypto.ErrAuthentication):
		return exitAuth
	case errors.As(err, &kms), errors.As(err, &tinkKMS), errors.As(err, &api), errors.As(err, &netOp), errors.As(err, &dns),
		errors.As(err, &mongoSv), mongo.IsNetworkError(err), mongo.IsTimeout(err), errors.As(err, &sel):
		return exitServer
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.As(err, &path):
		return exitInput
	}
	return exitFailure
}

// isCobraUsage recognizes the errors cobra returns untyped: an unknown
// command of the root (before any of our code runs), and a required flag
// left out.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command ") || strings.HasPrefix(msg, "required flag(s) ")
}
