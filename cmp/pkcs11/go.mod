// The PKCS#11 module: keys in an HSM or token (AWS CloudHSM, SoftHSM, any
// PKCS#11 library) through github.com/miekg/pkcs11, which needs cgo; the
// root module stays cgo-free.
module github.com/itemcrypto/go-itemcrypto/cmp/pkcs11

go 1.26.0

require (
	github.com/aws/aws-sdk-go-v2/service/dynamodb v1.73.2
	github.com/itemcrypto/go-itemcrypto v0.0.0-00010101000000-000000000000
	github.com/miekg/pkcs11 v1.1.2
)

require (
	github.com/aws/smithy-go v1.28.9 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
)

replace github.com/itemcrypto/go-itemcrypto => ../..
