package main

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyfile"
)

// keyFileHelp documents the key file format.
const keyFileHelp = keyfile.Help

func newKeygenCmd() *cobra.Command {
	var out, typ, sign string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen --out FILE [--type aes-hmac|rsa] [--sign hmac|ecdsa-p256|ecdsa-p384|ecdsa-p521] [--force]",
		Short: "Write a new key file for encrypt and decrypt",
		Long: `Generate fresh keys and write them to a new key file, readable only by
you (mode 0600). The file must not exist yet, unless --force is given.
Key material is never printed.

` + keyFileHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" || out == "-" {
				return usagef("--out must name a file (key material is never written to stdout)")
			}
			switch {
			case sign == "" || sign == "hmac":
			case typ != "aes-hmac":
				return usagef("--sign ecdsa-* goes with --type aes-hmac (the AES key, an EC key in place of the HMAC key)")
			case sign == "ecdsa-p256" || sign == "ecdsa-p384" || sign == "ecdsa-p521":
				typ = "aes-" + sign
			default:
				return usagef("unknown --sign %q (want hmac, ecdsa-p256, ecdsa-p384 or ecdsa-p521)", sign)
			}
			b, err := keyfile.Generate(typ, crand.Reader)
			if err != nil {
				return err
			}
			defer clear(b)
			if err := writeSecretFile(out, b, force); err != nil {
				return err
			}
			what := keyfile.Describe(typ)
			fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s key file %s (mode 0600): %s.\nKeep it secret and back it up: items cannot be decrypted without it.\n", typ, out, what)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "key file to create")
	cmd.Flags().StringVar(&typ, "type", keyfile.Types()[0], "key type: "+strings.Join(keyfile.Types(), " or "))
	cmd.Flags().StringVar(&sign, "sign", "hmac", "with --type aes-hmac, how items are signed: hmac, or ECDSA as the Java client does: ecdsa-p256, ecdsa-p384, ecdsa-p521")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	cmd.MarkFlagRequired("out")
	return cmd
}

// writeSecretFile writes b to a file readable only by its owner. Without
// force the file must not exist; with force an existing file is replaced
// (by renaming a new 0600 file over it, so its old mode does not survive).
func writeSecretFile(path string, b []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s already exists (use --force to replace it)", path)
			}
			return err
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".itemcrypto-keygen-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fail(err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// loadKeyFile reads a key file, warning on warn when others may read it.
func loadKeyFile(path string, warn io.Writer) (*keyfile.Keys, error) {
	return keyfile.Load(path, func(o *keyfile.Options) { o.Warn = warn })
}

// keysProvider is keys.Provider for the value of a --provider flag.
func keysProvider(keys *keyfile.Keys, flag, kind string) (cmp.Provider, error) {
	p, err := keys.Provider(keyfile.ProviderKind(kind))
	if err != nil {
		return nil, usagef("%s: %s", flag, strings.TrimPrefix(err.Error(), "keyfile: "))
	}
	return p, nil
}
