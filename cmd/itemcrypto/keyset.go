package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"

	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
)

// maxKeysetFileSize bounds what readKeysetFile reads: thousands of keys.
const maxKeysetFileSize = 1 << 20

const keysetHelp = `A keyset file is a Tink keyset in Tink's JSON format, in cleartext: it
holds secret key material, so every command that reads its keys or writes
it needs --insecure to confirm that (keyset list, which shows no key
material, does not), and files are written with mode 0600. Use cleartext keysets
for tests and development; in production keep the keyset encrypted under a
KMS key and read it with tinkcmp.NewFromEncryptedKeyset.

The keyset's AEAD keys wrap each item's fresh content and signing keys (the
Tink provider, package cmp/tinkcmp). New items use the primary key; items
name the key that wrapped them by its key ID, so rotating adds a key and
makes it primary while older keys keep decrypting their items. Items of a
disabled key fail to decrypt with an error naming its ID until it is
enabled again.`

func newKeysetCmd() *cobra.Command {
	var insecure bool
	cmd := &cobra.Command{
		Use:   "keyset",
		Short: "Create, rotate, list, disable and enable keys of a Tink keyset file (cleartext, --insecure)",
		Long:  "Manage the keys of a Tink keyset file for the Tink provider.\n\n" + keysetHelp,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if !insecure && cmd.Name() != "list" {
				return errInsecure("")
			}
			return nil
		},
	}
	cmd.PersistentFlags().BoolVar(&insecure, "insecure", false, "confirm that the keyset file is cleartext (all but list)")
	cmd.AddCommand(newKeysetNewCmd(), newKeysetRotateCmd(), newKeysetListCmd(),
		newKeysetStatusCmd("disable"), newKeysetStatusCmd("enable"))
	return cmd
}

// errInsecure is the refusal of a cleartext keyset file without
// --insecure; flag names the flag that gave the file ("" for keyset's own
// argument).
func errInsecure(flag string) error {
	if flag != "" {
		flag += ": "
	}
	return usageError{errors.New(flag + "keyset files hold cleartext key material: pass --insecure to use one (in production, keep keysets encrypted under a KMS key)")}
}

func newKeysetNewCmd() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "new --out FILE --insecure [--force]",
		Short: "Write a new keyset file with one AES-256-GCM key",
		Long: `Write a new keyset with one AES-256-GCM key, its primary, to a new file
readable only by you (mode 0600). The file must not exist yet, unless
--force is given. Key material is never printed.

` + keysetHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" || out == "-" {
				return usagef("--out must name a file (key material is never written to stdout)")
			}
			h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
			if err != nil {
				return err
			}
			if err := writeKeysetFile(out, h, force); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Wrote keyset %s (mode 0600): one AES-256-GCM key, ID %d, primary.\nIt holds cleartext key material: keep it secret and back it up, items cannot be decrypted without it.\n", out, primaryOf(h))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "keyset file to create")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	cmd.MarkFlagRequired("out")
	return cmd
}

func newKeysetRotateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate FILE --insecure",
		Short: "Add a new AES-256-GCM key and make it the primary key",
		Long: `Add a new AES-256-GCM key to the keyset and make it primary: new items are
wrapped by it, while the previous keys stay enabled and keep decrypting the
items they wrapped. Programs pick the new key up when they load the keyset
again (tinkcmp.Provider.SetKeyset).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			h, err := readKeysetFile(path, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			old := primaryOf(h)
			m := keyset.NewManagerFromHandle(h)
			id, err := m.Add(aead.AES256GCMKeyTemplate())
			if err != nil {
				return err
			}
			if err := m.SetPrimary(id); err != nil {
				return err
			}
			if h, err = m.Handle(); err != nil {
				return err
			}
			if err := writeKeysetFile(path, h, true); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added AES-256-GCM key %d as the primary key of %s; the previous primary %d stays enabled for reading.\n", id, path, old)
			return nil
		},
	}
}

func newKeysetListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list FILE",
		Short: "List the keys of a keyset: ID, status, primary, type (never key material)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := readKeysetFile(args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			info := h.KeysetInfo() // no key material
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY ID\tSTATUS\tPRIMARY\tTYPE\tPREFIX")
			for _, k := range info.GetKeyInfo() {
				primary := ""
				if k.GetKeyId() == info.GetPrimaryKeyId() {
					primary = "yes"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", k.GetKeyId(), statusName(k.GetStatus()), primary,
					strings.TrimPrefix(k.GetTypeUrl(), "type.googleapis.com/google.crypto.tink."), k.GetOutputPrefixType())
			}
			return tw.Flush()
		},
	}
}

func statusName(s tinkpb.KeyStatusType) string {
	switch s {
	case tinkpb.KeyStatusType_ENABLED:
		return "enabled"
	case tinkpb.KeyStatusType_DISABLED:
		return "disabled"
	case tinkpb.KeyStatusType_DESTROYED:
		return "destroyed"
	}
	return "unknown"
}

// newKeysetStatusCmd is "disable" or "enable".
func newKeysetStatusCmd(op string) *cobra.Command {
	short, long := "Disable a key: items it wrapped no longer decrypt", `Disable a key of the keyset. Items it wrapped then fail to decrypt with
an error naming the key ID, until it is enabled again; re-encrypt them under
the primary key first if they must stay readable. The primary key cannot be
disabled: rotate first.`
	if op == "enable" {
		short, long = "Enable a disabled key again", `Enable a disabled key of the keyset, so that the items it wrapped decrypt
again. It does not become primary.`
	}
	return &cobra.Command{
		Use:   op + " FILE KEYID --insecure",
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			id64, err := strconv.ParseUint(args[1], 10, 32)
			if err != nil {
				return fmt.Errorf("KEYID must be a key ID as \"itemcrypto keyset list\" shows it (a decimal number below 2^32), not %q", args[1])
			}
			id := uint32(id64)
			h, err := readKeysetFile(path, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			var status tinkpb.KeyStatusType
			found := false
			for _, k := range h.KeysetInfo().GetKeyInfo() {
				if k.GetKeyId() == id {
					status, found = k.GetStatus(), true
				}
			}
			switch {
			case !found:
				return fmt.Errorf("%s has no key %d (see \"itemcrypto keyset list\")", path, id)
			case op == "disable" && id == primaryOf(h):
				return fmt.Errorf("key %d is the primary key of %s and cannot be disabled: rotate first (\"itemcrypto keyset rotate\"), then disable it", id, path)
			case op == "disable" && status == tinkpb.KeyStatusType_DISABLED,
				op == "enable" && status == tinkpb.KeyStatusType_ENABLED:
				fmt.Fprintf(cmd.OutOrStdout(), "Key %d of %s is already %sd.\n", id, path, op)
				return nil
			}
			m := keyset.NewManagerFromHandle(h)
			if op == "disable" {
				err = m.Disable(id)
			} else {
				err = m.Enable(id)
			}
			if err != nil {
				return err
			}
			if h, err = m.Handle(); err != nil {
				return err
			}
			if err := writeKeysetFile(path, h, true); err != nil {
				return err
			}
			if op == "disable" {
				fmt.Fprintf(cmd.OutOrStdout(), "Disabled key %d of %s: items it wrapped no longer decrypt until it is enabled again.\n", id, path)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "Enabled key %d of %s.\n", id, path)
			}
			return nil
		},
	}
}

func primaryOf(h *keyset.Handle) uint32 {
	return h.KeysetInfo().GetPrimaryKeyId()
}

// readKeysetFile reads a cleartext JSON keyset that the Tink provider can
// use. It warns on warn when the file is readable or writable by others.
// Errors never quote the file's content.
func readKeysetFile(path string, warn io.Writer) (*keyset.Handle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyset file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(warn, "Warning: keyset file %s has mode %04o: other users may read or change it; run chmod 600 %s\n", path, fi.Mode().Perm(), path)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeysetFileSize+1))
	defer clear(b)
	if err != nil {
		return nil, fmt.Errorf("keyset file: %w", err)
	}
	if len(b) > maxKeysetFileSize {
		return nil, fmt.Errorf("keyset file %s: larger than %d bytes, not a keyset", path, maxKeysetFileSize)
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(b)))
	if err != nil {
		// Tink's parse errors may quote the input: leave them out.
		return nil, fmt.Errorf("keyset file %s: not a valid cleartext Tink keyset in JSON", path)
	}
	if _, err := tinkcmp.New(h); err != nil {
		return nil, fmt.Errorf("keyset file %s: not usable by the Tink provider: %v", path, err)
	}
	return h, nil
}

// writeKeysetFile writes h as cleartext JSON with mode 0600, replacing an
// existing file (by renaming a new file over it) only when replace is set.
// The keyset is checked to be usable by the Tink provider first.
func writeKeysetFile(path string, h *keyset.Handle, replace bool) error {
	if _, err := tinkcmp.New(h); err != nil {
		return fmt.Errorf("keyset not usable by the Tink provider: %v", err)
	}
	var buf bytes.Buffer
	defer func() { b := buf.Bytes(); clear(b[:cap(b)]) }()
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return fmt.Errorf("encoding keyset: %v", err)
	}
	buf.WriteByte('\n')
	return writeSecretFile(path, buf.Bytes(), replace)
}
