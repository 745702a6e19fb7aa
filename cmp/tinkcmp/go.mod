// The Tink provider's module: it needs tink-go, which programs using only the
// core packages must not carry in their module graph.
module github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp

go 1.26.0

require (
	github.com/aws/aws-sdk-go-v2/service/dynamodb v1.73.2
	github.com/itemcrypto/go-itemcrypto v0.0.0-00010101000000-000000000000
	github.com/tink-crypto/tink-go/v2 v2.9.0
)

require (
	github.com/aws/smithy-go v1.28.9 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/itemcrypto/go-itemcrypto => ../..
