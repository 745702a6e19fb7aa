// Package ddbexpr parses, evaluates and prints DynamoDB condition
// expressions: the grammar of ConditionExpression, FilterExpression and
// (restricted, see ParseKeyCondition) KeyConditionExpression, as the
// DynamoDB developer guide describes it ("Condition and filter
// expressions, operators, and functions"):
//
//	condition := operand comparator operand          (= <> < <= > >=)
//	           | operand BETWEEN operand AND operand
//	           | operand IN ( operand {, operand} )  (1 to 100 operands)
//	           | function
//	           | condition AND condition | condition OR condition
//	           | NOT condition | ( condition )
//	function  := attribute_exists(path) | attribute_not_exists(path)
//	           | attribute_type(path, :type) | begins_with(arg, arg)
//	           | contains(arg, arg)        arg := path | :value, one a path
//	operand   := path | :value | size(path) | ( operand )
//	path      := name {. name | [ digits ]}      name := bare | #placeholder
//
// NOT binds tighter than AND, AND tighter than OR; AND and OR group to the
// left. Keywords are case-insensitive, function names case-sensitive (as
// in DynamoDB). Literal values appear only through :placeholders.
//
// Parse gives a tree (Expr) whose nodes a caller can walk (Walk), rewrite
// (Rewrite) and check (Validate); Eval decides a condition on an item as
// DynamoDB does; Format prints a tree back, keeping the placeholders its
// nodes carry, so Parse(Format(e)) is Equal to e.
//
// # What Parse refuses
//
// Besides malformed text and undefined placeholders, Parse refuses what
// DynamoDB refuses when it validates an expression: an unknown function,
// a wrong number of function operands, a function other than size used as
// an operand or size used as a condition, the same path on both sides
// ("a = a"), ordering (<, BETWEEN) on a value that is not S, N or B,
// BETWEEN bounds of two types or in the wrong order, begins_with on a
// value that is not S or B, attribute_type with an unknown type name, and
// :values DynamoDB would not store (malformed numbers, empty or duplicated
// sets). It is stricter than DynamoDB in one way: a function's operands are
// document paths or :values (not size()), the first one a path except in
// begins_with and contains, which need a path among their two (the grammar
// above; DynamoDB takes contains(:set, path), "path is in :set", as the
// DB-ESDK's query vectors use it, and contains(:v, :w), which this package
// refuses since it does not depend on the item). It does not check DynamoDB's list of reserved words
// (Format prints every name through a placeholder, so none can clash),
// nor whether each entry of ExpressionAttributeNames/Values is used (one
// request shares them among expressions).
//
// # Bounds
//
// Parse reads at most MaxExprLen (4096) bytes, DynamoDB's limit, and
// refuses more than MaxOperators (300) operators and functions, paths
// deeper than MaxPathDepth (32), IN lists longer than MaxInOperands (100)
// and nesting (parentheses, NOT, function calls) deeper than MaxNesting
// (100), which bounds its recursion. Its work and memory are linear in
// the expression's length n: it reads each token once with one token of
// lookahead, never backtracks, keeps no token list, and allocates at most
// 1 KiB + 32·n bytes in at most 8 + n/2 allocations (TestParseAllocBound
// holds this for the costliest shapes of input). Each :value it uses is checked once, in time
// linear in the value's size; values are shared, not copied. Eval's work
// is linear in the tree and in the item's values it reaches; Format's in
// the tree.
//
// # Errors
//
// Parse and ParseKeyCondition return a *SyntaxError (with the byte
// offset) or a *PlaceholderError (naming the placeholder); Validate and
// Rewrite an *InvalidError; Eval an *EvalError (naming the path). No
// error ever contains a value.
package ddbexpr
