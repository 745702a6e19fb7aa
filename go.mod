module github.com/itemcrypto/go-itemcrypto

go 1.26.8

require github.com/aws/aws-sdk-go-v2/service/dynamodb v1.73.2

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	github.com/aws/smithy-go v1.28.8 // indirect
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da // indirect
)

tool golang.org/x/perf/cmd/benchstat
