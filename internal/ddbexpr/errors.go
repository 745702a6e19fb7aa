package ddbexpr

import "fmt"

// SyntaxError is an expression that Parse or ParseKeyCondition refuses:
// malformed, beyond a limit, or a construct DynamoDB refuses or this package
// does not support. Reason names operators, functions, attribute names and
// placeholders, never a value.
type SyntaxError struct {
	// Offset is the byte offset in the expression where the problem was
	// found.
	Offset int
	// Reason says what is wrong.
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("ddbexpr: at offset %d: %s", e.Offset, e.Reason)
}

// PlaceholderError is a #name placeholder missing from
// ExpressionAttributeNames, or a :value placeholder missing from
// ExpressionAttributeValues or holding a value DynamoDB would refuse. It
// names the placeholder, never its value.
type PlaceholderError struct {
	// Offset is the byte offset of the placeholder in the expression.
	Offset int
	// Placeholder is the placeholder as written, e.g. "#n" or ":v".
	Placeholder string
	// Reason says what is wrong with it.
	Reason string
}

func (e *PlaceholderError) Error() string {
	return fmt.Sprintf("ddbexpr: at offset %d: placeholder %s %s", e.Offset, e.Placeholder, e.Reason)
}

// InvalidError is an expression tree that breaks a rule of the grammar (see
// Validate): the tree a rewriter returned, or one built by hand.
type InvalidError struct {
	// Reason says which rule is broken; it names attributes and
	// placeholders, never values.
	Reason string
}

func (e *InvalidError) Error() string { return "ddbexpr: invalid expression: " + e.Reason }

// EvalError is an item on which Eval cannot decide, e.g. one holding a
// number that is not a decimal. It names the attribute path, never its
// value.
type EvalError struct {
	// Path is the document path concerned, "" when no path is.
	Path string
	// Reason says what is wrong.
	Reason string
}

func (e *EvalError) Error() string {
	if e.Path == "" {
		return "ddbexpr: cannot evaluate: " + e.Reason
	}
	return fmt.Sprintf("ddbexpr: cannot evaluate %s: %s", e.Path, e.Reason)
}
