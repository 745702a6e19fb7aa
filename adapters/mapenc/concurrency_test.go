package mapenc

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// manyTypes returns n distinct struct types, each with its own tagged
// attributes: id (partition), f<i> (encrypt), g<i> (sign), h (default).
func manyTypes(n int) []reflect.Type {
	ts := make([]reflect.Type, n)
	str := reflect.TypeFor[string]()
	for i := range ts {
		ts[i] = reflect.StructOf([]reflect.StructField{
			{Name: "ID", Type: str, Tag: `dynamodbav:"id" itemcrypto:"partition"`},
			{Name: fmt.Sprintf("F%d", i), Type: str, Tag: reflect.StructTag(fmt.Sprintf(`dynamodbav:"f%d" itemcrypto:"encrypt"`, i))},
			{Name: fmt.Sprintf("G%d", i), Type: reflect.TypeFor[int](), Tag: reflect.StructTag(fmt.Sprintf(`dynamodbav:"g%d" itemcrypto:"sign"`, i))},
			{Name: "H", Type: reflect.TypeFor[[]string](), Tag: `dynamodbav:"h"`},
		})
	}
	return ts
}

// TestConcurrentManyTypes drives one Codec from many goroutines with many
// struct types at once (run with -race), and checks each type was reflected
// on exactly once.
func TestConcurrentManyTypes(t *testing.T) {
	const nTypes, goroutines, rounds = 24, 16, 6
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.DoNothing, PartitionKey: "id"})
	ts := manyTypes(nTypes)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for r := range rounds {
				for k := range ts {
					typ := ts[(k+g)%len(ts)] // each goroutine starts elsewhere
					in := reflect.New(typ).Elem()
					in.Field(0).SetString(fmt.Sprintf("id-%d-%d", g, r))
					in.Field(1).SetString("secret")
					in.Field(2).SetInt(int64(g*1000 + r))
					in.Field(3).Set(reflect.ValueOf([]string{"x"}))
					var v any = in.Interface()
					if r%2 == 1 {
						v = in.Addr().Interface()
					}
					stored, err := c.Encrypt(ctx, v)
					if err != nil {
						errs <- err
						return
					}
					fi := typ.Field(1).Tag.Get("dynamodbav")
					if _, ok := stored[fi].(*types.AttributeValueMemberB); !ok {
						errs <- fmt.Errorf("%v: %s stored as %T, want ciphertext", typ, fi, stored[fi])
						return
					}
					if _, ok := stored["h"].(*types.AttributeValueMemberL); !ok {
						errs <- fmt.Errorf("%v: h stored as %T, want plaintext", typ, stored["h"])
						return
					}
					out := reflect.New(typ)
					if err := c.Decrypt(ctx, stored, out.Interface()); err != nil {
						errs <- err
						return
					}
					if !reflect.DeepEqual(out.Elem().Interface(), in.Interface()) {
						errs <- fmt.Errorf("%v: round trip changed the value", typ)
						return
					}
					// Maps share the Codec meanwhile.
					if _, err := c.EncryptMap(ctx, map[string]any{"id": "m", "v": r}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.types.builds.Load(); n != nTypes {
		t.Errorf("%d struct types reflected on %d times, want once each", nTypes, n)
	}
}
