package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
)

// identityProbes is the number of fixed probe values BeaconIdentity hashes
// the beacons of, so that two beacon keys give the same identity with a
// chance of 2^-(Length*identityProbes) only, even for 1-bit beacons.
const identityProbes = 64

// BeaconIdentity returns a string that tells configurations apart by the
// beacons they write: equal for two Searches with the same beacons
// (standard, compound, signed and virtual fields; locations, lengths,
// partitions, transforms and beacon key), different otherwise. It is a
// hex SHA-256 over the compiled configuration and the values every
// standard beacon takes, in each of its partitions, for 64 fixed probe
// strings: no key material and nothing about any item. With a
// multi-tenant key source (a beacon key per branch key) it covers the
// configuration only. It may reach the beacon key store, as
// EncryptedBeacons does.
//
// Most users won't need it: a tool that rewrites stored items under a
// Search (rotate.Config.TargetSearch) binds it into what it records, so
// that work done under other beacons is not mistaken for its own.
func (s *Search) BeaconIdentity(ctx context.Context) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "partitions=%d;selector=%t;key-field=%q/%t;", s.maxPart, s.selector != nil, s.keyField, s.deleteKeyField)
	for _, b := range s.stdOrder {
		fmt.Fprintf(h, "std%q/%d/%q/%t/%t/%q/%d;", b.name, b.length, b.loc.raw, b.partOnly, b.asSet, b.keyName, b.partitions)
	}
	for _, c := range s.cmpOrder {
		fmt.Fprintf(h, "cmp%q/%q/%t:", c.name, c.split, c.signed)
		for _, p := range c.parts {
			std := ""
			if p.std != nil {
				std = p.std.name
			}
			fmt.Fprintf(h, "part%q/%q/%q/%q;", p.name, p.prefix, std, p.loc.raw)
		}
		for _, ctor := range c.ctors {
			h.Write([]byte("ctor"))
			for _, cp := range ctor {
				fmt.Fprintf(h, "%q/%t,", cp.p.name, cp.required)
			}
		}
	}
	virt := make([]string, 0, len(s.virt))
	for name := range s.virt {
		virt = append(virt, name)
	}
	slices.Sort(virt)
	for _, name := range virt {
		fmt.Fprintf(h, "virt%q:", name)
		for _, p := range s.virt[name].parts {
			fmt.Fprintf(h, "%q%+v;", p.loc.raw, p.trans)
		}
	}
	if s.keyField == "" {
		keys, err := s.keys.get(ctx, s.singleKeyID)
		if err != nil {
			return "", err
		}
		for _, b := range s.stdOrder {
			for i := range identityProbes {
				probe := []byte("itemcryptobeaconidentityprobe" + strconv.Itoa(i))
				for p := range max(b.partitions, 1) {
					fmt.Fprintf(h, "%s,", b.hashBytes(keys, probe, p))
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
