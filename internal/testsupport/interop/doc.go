// Package interop holds nothing but this comment: its sub-packages are the
// differential tests against the reference implementations (dbesdk: the
// DB-ESDK's Go edition; ddbec: the Python DynamoDB Encryption Client).
package interop
