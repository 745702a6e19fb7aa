package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// buildCLI builds the itemcrypto command into a temporary directory, for
// tests that run it as separate processes.
func buildCLI(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "itemcrypto")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cliProc is one itemcrypto process.
type cliProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	err            error
}

func startCLI(t testing.TB, bin string, args ...string) *cliProc {
	t.Helper()
	p := &cliProc{cmd: exec.Command(bin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process and returns its exit status (-1 when a
// signal ended it).
func (p *cliProc) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("itemcrypto %v did not finish\nstderr:\n%s", p.cmd.Args[1:], p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// TestRotateCLIProcesses splits one rotation over two processes (segments
// 0-1 and 2-3 of 4), kills the first with SIGKILL half way and starts it
// again, while a writer keeps rewriting items through dynamodbenc under the
// target keys. Every item ends up under the target, none is lost, every
// write of the writer is kept, and rotate status sees the whole table done.
func TestRotateCLIProcesses(t *testing.T) {
	bin := buildCLI(t)
	const n = 800
	rt := newRotateTable(t, n)
	ks := newKeysetFile(t)
	dir := t.TempDir()
	cpA, cpB := filepath.Join(dir, "a.checkpoint"), filepath.Join(dir, "b.checkpoint")
	common := append(append([]string{"rotate"}, rt.flags...), "--from-keys", rt.keys, "--to-keyset", ks, "--insecure",
		"--segments", "4", "--page-size", "20", "--rate", "200", "--log-every", "100ms")
	argsA := append(append([]string{}, common...), "--segment-range", "0-1", "--checkpoint", cpA)
	argsB := append(append([]string{}, common...), "--segment-range", "2-3", "--checkpoint", cpB)

	// The writer: the application, already moved to the target keys,
	// rewrites random items all along.
	target := keysetEncryptor(t, rt, ks)
	client, err := dynamodbenc.New(rt.client, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{rt.name: {
		Provider: providerOf(t, ks), Default: actions.EncryptAndSign, PartitionKey: "id", SortKey: "n",
		Overrides: map[string]actions.Action{"email": actions.SignOnly, "views": actions.DoNothing},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, n)
	for k := range rt.plain {
		keys = append(keys, k)
	}
	var mu sync.Mutex
	written := map[string]itemcrypto.Item{}
	ctx, stopWriter := context.WithCancel(t.Context())
	writerDone := make(chan error, 1)
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			k := keys[rand.IntN(len(keys))]
			it := cloneItem(rt.plain[k])
			it["secret"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("written %d", i)}
			mu.Lock() // one write at a time: the last one recorded is the last one made
			_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(rt.name), Item: it})
			if err == nil {
				written[k] = it
			}
			mu.Unlock()
			if err != nil {
				writerDone <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		writerDone <- nil
	}()

	a := startCLI(t, bin, argsA...)
	b := startCLI(t, bin, argsB...)
	// Kill A once it has written a checkpoint and done about a third.
	deadline := time.Now().Add(time.Minute)
	third := regexp.MustCompile(`items \(([3-9]\d)%\)`)
	for !third.MatchString(a.stderr.String()) || !fileExists(cpA) {
		if time.Now().After(deadline) {
			t.Fatalf("process A never got a third of the way\nstderr:\n%s", a.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := a.wait(t); code != -1 {
		t.Fatalf("killed process A: exit status %d, want death by signal\nstderr:\n%s", code, a.stderr.String())
	}
	t.Logf("process A killed:\n%s", a.stderr.String())
	a2 := startCLI(t, bin, argsA...)
	codeA, codeB := a2.wait(t), b.wait(t)
	stopWriter()
	if err := <-writerDone; err != nil {
		t.Fatalf("writer: %v", err)
	}
	t.Logf("process A, restarted (exit %d):\nstdout:\n%s\nstderr:\n%s", codeA, a2.stdout.String(), a2.stderr.String())
	t.Logf("process B (exit %d):\nstdout:\n%s", codeB, b.stdout.String())
	if !strings.Contains(a2.stderr.String(), "Resuming from checkpoint "+cpA) {
		t.Errorf("restarted process A did not resume from its checkpoint")
	}
	for name, p := range map[string]*cliProc{"A": a2, "B": b} {
		code := p.wait(t)
		// Exit status 1 only for conflicts with the writer.
		if s := summary(t, p.stdout.String()); code != 0 && (code != 1 || s["conflicts"] == 0 || s["failures"] != 0) {
			t.Errorf("process %s: exit status %d with %v", name, code, s)
		}
	}
	if len(written) == 0 {
		t.Fatal("the writer wrote nothing during the rotation")
	}
	t.Logf("the writer rewrote %d items", len(written))

	// Status merges the two checkpoints: every segment done.
	code, out, errOut := runCLI(t, "", "rotate", "status", cpA, cpB)
	t.Logf("status:\n%s%s", out, errOut)
	if !strings.Contains(out, "Segments done: 4 of 4 (complete).") || !strings.Contains(out, "Rotation of "+rt.name+": 4 segments, 2 checkpoint files.") {
		t.Errorf("status does not report the whole table done")
	}
	if st := summary(t, out); (code == 0) != (st["conflicts"] == 0) || st["failures"] != 0 {
		t.Errorf("status: exit status %d with %v", code, st)
	}
	// Rerun each range, as the summaries ask when there were conflicts:
	// the items the writer wrote are under the target already.
	for _, args := range [][]string{argsA, argsB} {
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 {
			t.Errorf("rerun: exit status %d\n%s%s", code, out, errOut)
		}
		if s := summary(t, out); s["rotated"] != 0 || s["conflicts"] != 0 {
			t.Errorf("rerun: %v, want nothing rotated and no conflicts", s)
		}
	}
	code, out, _ = runCLI(t, "", "rotate", "status", dir)
	if code != 0 || !strings.Contains(out, "Segments done: 4 of 4 (complete).") {
		t.Errorf("status after the reruns: exit status %d\n%s", code, out)
	}
	// A finished range without conflicts: a rerun has nothing to do.
	code, out, _ = runCLI(t, "", argsB...)
	if s := summary(t, out); code != 0 || !strings.Contains(out, " 0 items in ") || s["already current"] == 0 {
		t.Errorf("rerun of a finished range: exit status %d\n%s", code, out)
	}

	// Nothing lost, everything under the target, every write kept.
	for k, w := range written {
		rt.plain[k] = w
	}
	rt.checkUnder(t, target)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func cloneItem(it itemcrypto.Item) itemcrypto.Item {
	c := make(itemcrypto.Item, len(it))
	for k, v := range it {
		c[k] = v
	}
	return c
}
