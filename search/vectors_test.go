package search_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/search"
	"github.com/itemcrypto/go-itemcrypto/vectors"
)

// TestVectorConfigs: every search section of the DB-ESDK vectors
// (configs.json, large_records.json), read by the vectors package's loader,
// is a configuration New accepts. (An external test package: vectors
// imports search.)
func TestVectorConfigs(t *testing.T) {
	dir := "../../shared/vectors/dbesdk"
	if d := os.Getenv("ITEMCRYPTO_DBESDK_VECTORS"); d != "" {
		dir = d
	}
	n := 0
	for file, member := range map[string]string{"configs.json": "tableEncryptionConfigs", "large_records.json": "largeEncryptionConfigs"} {
		f, err := vectors.LoadDBESDKTableConfigs(filepath.Join(dir, file), member)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range f.Names() {
			tbl, err := f.Table(name)
			if err != nil {
				t.Fatalf("%s %s: %v", file, name, err)
			}
			if tbl.Search == nil {
				continue
			}
			pol, err := tbl.Policy()
			if err != nil {
				t.Fatalf("%s %s: %v", file, name, err)
			}
			sr, err := search.New(*tbl.Search, pol)
			if err != nil {
				t.Errorf("%s %s: %v", file, name, err)
				continue
			}
			if len(sr.BeaconAttributes()) == 0 {
				t.Errorf("%s %s: no beacon attributes", file, name)
			}
			n++
		}
	}
	if n < 4 {
		t.Fatalf("only %d search configs found", n)
	}
	t.Logf("%d vector search configs accepted", n)
}
