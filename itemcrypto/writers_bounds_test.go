package itemcrypto_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// TestOtherWriterRetryBoundedCost: forged items that do hold divergent
// values, so that Decrypt tries the Java and Python forms too, stay within
// the documented allocation bound of a forgery.
func TestOtherWriterRetryBoundedCost(t *testing.T) {
	e := boundsEncryptor(t)
	long := `"1234567890123456789012345678901"`
	quoted := func(n int, f func(i int) string) string {
		m := make([]string, n)
		for i := range m {
			m[i] = f(i)
		}
		return strings.Join(m, ",")
	}
	for name, attrs := range map[string]string{
		// One long member makes the set Python-divergent; the tiny members
		// of huge expansion make rendering it too costly.
		"NS long + 10000 x 1E-130": `"a": {"NS": [` + long + `,` + quoted(10000, func(i int) string { return fmt.Sprintf(`"%dE-130"`, i+1) }) + `]}`,
		"NS of 3000 long":          `"a": {"NS": [` + quoted(3000, func(i int) string { return fmt.Sprintf(`"1234567890123456789012345678%05d"`, i) }) + `]}`,
		"BS of 10000 high-bit":     `"a": {"BS": [` + quoted(10000, func(i int) string { return fmt.Sprintf(`"%s"`, []string{"gA==", "AQ==", "/w==", "fw=="}[i%4]) }) + `]}`,
		"SS of 5000 mixed":         `"a": {"SS": [` + quoted(5000, func(i int) string { return fmt.Sprintf(`"\ue000%d","\ud83d\ude00%d"`, i, i) }) + `]}`,
		"5000 mixed names":         quoted(2500, func(i int) string { return fmt.Sprintf(`"\ue000%d": {"N": "-0"}, "\ud83d\ude00%d": {"N": "-0"}`, i, i) }),
	} {
		t.Run(name, func(t *testing.T) {
			data := []byte(`{"pk": {"S": "k"}, "*amzn-ddb-map-sig*": {"B": "AAAA"}, ` + attrs + `}`)
			if !json.Valid(data) {
				t.Fatal("bad JSON")
			}
			it, err := ddbjson.UnmarshalItem(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Decrypt(context.Background(), it); !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Fatalf("Decrypt = %v", err)
			}
			in := uint64(len(data))
			dec := bytesPerRun(3, func() { e.Decrypt(context.Background(), it) })
			t.Logf("%6d input bytes: Decrypt %7d bytes (%.2f/byte)", in, dec, float64(dec)/float64(in))
			if dec > boundPerByte*in+boundConst {
				t.Errorf("Decrypt allocated %d bytes for %d input bytes; bound %d/byte + %d", dec, in, boundPerByte, boundConst)
			}
		})
	}
}
