// Package ddbec holds differential tests of go-itemcrypto against the Python
// DynamoDB Encryption Client (3.3.0, run from source in
// ../shared/oracles/ddbec-python, or ITEMCRYPTO_DDBEC_PYTHON): seeded random
// items both ways, with the static and wrapped (AES wrap, RSA-OAEP) providers
// and HMAC and RSA signatures. Items go.itemcrypto writes in the Python form
// must decrypt in Python to the same plaintext, items Python writes must
// decrypt with the default reader, and one mutation of each must fail on the
// other side.
//
// The package has test files only. One python3 process per test answers
// JSON requests (testdata/driver.py). Without python3, its packages (boto3,
// cryptography, attrs) or the oracle the tests skip, saying why; under
// CI=true they fail instead. ITEMCRYPTO_INTEROP_SEED and
// ITEMCRYPTO_INTEROP_ITEMS choose the seed and the number of items.
package ddbec
