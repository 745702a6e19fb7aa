// The itemcrypto command's module: cobra, the progress bar and every provider
// and store of the library. Install it with
// go install github.com/itemcrypto/go-itemcrypto/cmd/itemcrypto@latest
module github.com/itemcrypto/go-itemcrypto/cmd/itemcrypto

go 1.26.0

require github.com/itemcrypto/go-itemcrypto v0.0.0-00010101000000-000000000000

require github.com/itemcrypto/go-itemcrypto/adapters/mongoenc v0.0.0-00010101000000-000000000000

require github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp v0.0.0-00010101000000-000000000000

require github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest v0.0.0-00010101000000-000000000000

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/config v1.33.16
	github.com/aws/aws-sdk-go-v2/credentials v1.20.16
	github.com/aws/aws-sdk-go-v2/feature/ec2/imds v1.20.8
	github.com/aws/aws-sdk-go-v2/service/dynamodb v1.73.2
	github.com/aws/aws-sdk-go-v2/service/kms v1.62.5
	github.com/aws/smithy-go v1.28.9
	github.com/itemcrypto/go-itemcrypto/rotate v0.0.0-00010101000000-000000000000
	github.com/schollz/progressbar/v3 v3.19.1
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.0.9
	github.com/tink-crypto/tink-go/v2 v2.9.0
	go.mongodb.org/mongo-driver/v2 v2.10.0
	golang.org/x/term v0.47.0
)

require (
	github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue v1.21.20 // indirect
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.11 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.11 // indirect
	github.com/aws/aws-sdk-go-v2/internal/v4a v1.5.11 // indirect
	github.com/aws/aws-sdk-go-v2/service/dynamodbstreams v1.46.7 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/accept-encoding v1.13.24 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/endpoint-discovery v1.13.11 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/presigned-url v1.14.11 // indirect
	github.com/aws/aws-sdk-go-v2/service/signin v1.12.4 // indirect
	github.com/aws/aws-sdk-go-v2/service/sso v1.39.4 // indirect
	github.com/aws/aws-sdk-go-v2/service/ssooidc v1.44.4 // indirect
	github.com/aws/aws-sdk-go-v2/service/sts v1.51.9 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/xdg-go/scram v1.4.0 // indirect
	github.com/xdg-go/stringprep v1.0.4 // indirect
	github.com/youmark/pkcs8 v0.0.0-20240726163527-a2c0da244d78 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/itemcrypto/go-itemcrypto => ../..

replace github.com/itemcrypto/go-itemcrypto/adapters/mongoenc => ../../adapters/mongoenc

replace github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp => ../../cmp/tinkcmp

replace github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest => ../../internal/testsupport/mongotest

replace github.com/itemcrypto/go-itemcrypto/rotate => ../../rotate
