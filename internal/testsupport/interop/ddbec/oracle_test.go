package ddbec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// unavailable skips the test, or fails it under CI=true, where every oracle
// must be present.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: %s", msg)
	}
	skippedMu.Lock()
	skipped = append(skipped, t.Name()+": "+msg)
	skippedMu.Unlock()
	t.Skipf("skipped: %s (scripts/interop-python.sh installs the packages; CI=true makes this a failure)", msg)
}

var (
	skippedMu sync.Mutex
	skipped   []string
)

// TestMain says what was skipped even without -v.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "ddbec: skipped %s\n", s)
	}
	os.Exit(code)
}

// oracleDir finds the Python client's source: ITEMCRYPTO_DDBEC_PYTHON, else
// ../shared/oracles/ddbec-python beside the repository root.
func oracleDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ITEMCRYPTO_DDBEC_PYTHON")
	if dir == "" {
		root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "..", "shared", "oracles", "ddbec-python")
	}
	if _, err := os.Stat(filepath.Join(dir, "dynamodb_encryption_sdk", "__init__.py")); err != nil {
		unavailable(t, "the Python DDBEC oracle is not at %s (set ITEMCRYPTO_DDBEC_PYTHON)", dir)
	}
	return dir
}

// oracle is one python3 process running testdata/driver.py.
type oracle struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *lockedBuffer
	calls  int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<16 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startOracle(t *testing.T) *oracle {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		unavailable(t, "no python3 on PATH")
	}
	dir := oracleDir(t)
	if out, err := exec.Command(py, "-c", "import boto3, cryptography, attr").CombinedOutput(); err != nil {
		unavailable(t, "python3 lacks boto3, cryptography or attrs (Debian python3-boto3 python3-cryptography python3-attr): %s", bytes.TrimSpace(out))
	}
	cmd := exec.Command(py, "-u", filepath.Join("testdata", "driver.py"))
	cmd.Env = append(os.Environ(), "DDBEC_PYTHON="+dir, "PYTHONDONTWRITEBYTECODE=1")
	o := &oracle{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = o.stderr
	if o.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	o.out = bufio.NewReaderSize(stdout, 1<<20)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("python driver: %v\n%s", err, o.stderr.String())
		}
		t.Logf("python driver answered %d requests", o.calls)
	})
	return o
}

type response struct {
	OK    bool            `json:"ok"`
	Item  json.RawMessage `json:"item"`
	Error string          `json:"error"`
}

// errPython is a failure the Python client reported (an exception), as
// opposed to a broken driver.
var errPython = errors.New("python")

func (o *oracle) call(req any) (json.RawMessage, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	o.calls++
	if _, err := o.in.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("python driver gone: %v\n%s", err, o.stderr.String())
	}
	line, err := o.out.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("python driver gone: %v\n%s", err, o.stderr.String())
	}
	var r response
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("python driver answered %q: %v", line, err)
	}
	if !r.OK {
		return nil, fmt.Errorf("%w: %s", errPython, r.Error)
	}
	return r.Item, nil
}

var pyAction = map[actions.Action]string{
	actions.EncryptAndSign: "ENCRYPT_AND_SIGN",
	actions.SignOnly:       "SIGN_ONLY",
	actions.DoNothing:      "DO_NOTHING",
}

type itemRequest struct {
	Op       string            `json:"op"`
	Provider string            `json:"provider"`
	Table    string            `json:"table"`
	PK       string            `json:"pk"`
	SK       *string           `json:"sk"`
	Default  string            `json:"default"`
	Actions  map[string]string `json:"actions"`
	Item     json.RawMessage   `json:"item"`
}

// item asks Python to encrypt or decrypt tc.item under tc's policy.
func (o *oracle) item(op, provider string, tc *testCase) (itemcrypto.Item, error) {
	raw, err := ddbjson.MarshalItem(tc.item)
	if err != nil {
		return nil, err
	}
	req := itemRequest{Op: op, Provider: provider, Table: tc.table, PK: tc.pk, Default: pyAction[tc.def], Actions: map[string]string{}, Item: raw}
	if tc.sk != "" {
		req.SK = &tc.sk
	}
	for k, a := range tc.over {
		req.Actions[k] = pyAction[a]
	}
	out, err := o.call(req)
	if err != nil {
		return nil, err
	}
	return ddbjson.UnmarshalItem(out)
}
