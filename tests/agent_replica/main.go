// agent-replica behaves like container-tracer's node agent towards trace-hooks managers,
// so the conformance tests see what that agent's user sees:
//
//   - discovery: in every sub-folder of the hooks folder, a file whose name starts with
//     "manager." makes it a manager; the agent runs "./manager.py" with that folder as cwd;
//   - environment: only what the agent sets (TRACER_PROCFS_PATH / TRACER_SYSFS_PATH in the
//     DaemonSet layout, passed here with -env), nothing inherited;
//   - --get-all: a failing manager is skipped and its stderr is discarded;
//   - --run HOOK --args "...": stdout and stderr are polled every 100 ms, 50 times;
//     the first stdout line is the trace path, anything on stderr is a failure;
//   - reader: os.Open(path), then for every line a new 4 KiB bufio.Reader and one
//     ReadString('\n'); the first error, io.EOF included, ends the reading;
//   - stop: SIGINT to the manager's PID only, then wait for its pipes and its exit status,
//     a non-zero status being an error.
//
// Usage:
//
//	agent-replica list -hooks DIR [-env K=V]...
//	agent-replica run -hooks DIR -sub SUB -hook HOOK -args ARGS -out FILE [-polls N] [-env K=V]...
//
// run prints "path PATH" once the handshake is done, then waits for a line on its stdin
// (or stdin closing) to stop the manager, and prints "read N", "exit RC", "stderr TEXT"
// and "reader-error TEXT"; the lines read go to FILE.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type envList []string

func (e *envList) String() string     { return strings.Join(*e, ",") }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

// lockedBuffer collects a pipe's output while the handshake polls it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func managers(hooks string) ([]string, error) {
	subs, err := os.ReadDir(hooks)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, s := range subs {
		if !s.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(hooks, s.Name()))
		if err != nil {
			continue
		}
		for _, f := range files {
			if strings.HasPrefix(f.Name(), "manager.") {
				dirs = append(dirs, filepath.Join(hooks, s.Name()))
				break
			}
		}
	}
	return dirs, nil
}

func command(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command("./manager.py", args...)
	cmd.Dir = dir
	cmd.Env = append([]string{}, env...) // never the agent's own environment
	return cmd
}

func list(hooks string, env []string) error {
	dirs, err := managers(hooks)
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		var out bytes.Buffer
		cmd := command(dir, env, "--get-all")
		cmd.Stdout = &out // stderr is discarded, as the agent does
		if err := cmd.Run(); err != nil {
			continue
		}
		for _, name := range strings.Split(out.String(), "\n") {
			if name = strings.TrimSpace(name); name != "" {
				fmt.Printf("%s %s\n", filepath.Base(dir), name)
			}
		}
	}
	return nil
}

// readLines is the agent's reader: a fresh 4 KiB reader per line, stop at the first error.
func readLines(path string, out io.Writer, count *int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		r := bufio.NewReaderSize(f, 4096)
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		*count++
		if _, err := io.WriteString(out, line); err != nil {
			return err
		}
	}
}

func run(dir, hook, args, outPath string, polls int, env []string) error {
	out, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := command(dir, env, "--run", hook, "--args", args)
	var stdout, stderr lockedBuffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	path := ""
	started := time.Now()
	for i := 0; i < polls && path == ""; i++ {
		time.Sleep(100 * time.Millisecond)
		if s := stderr.String(); s != "" {
			break
		}
		if s := stdout.String(); strings.Contains(s, "\n") {
			path = strings.SplitN(s, "\n", 2)[0]
		}
	}
	if path == "" {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		fmt.Printf("handshake-failed after %.1fs\nstderr %q\n", time.Since(started).Seconds(),
			stderr.String())
		return nil
	}
	fmt.Printf("path %s\n", path)
	count := 0
	readerDone := make(chan error, 1)
	go func() { readerDone <- readLines(path, out, &count) }()

	// Wait for the test to say stop (a line, or its end of our stdin).
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	stopped := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT) // the manager's PID only
	waitErr := cmd.Wait()                  // its pipes, then its exit status
	rerr := <-readerDone
	rc := 0
	if waitErr != nil {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			rc = ee.ExitCode()
		} else {
			return waitErr
		}
	}
	fmt.Printf("read %d\n", count)
	fmt.Printf("exit %d\n", rc)
	fmt.Printf("stop-seconds %.3f\n", time.Since(stopped).Seconds())
	fmt.Printf("stdout %q\n", stdout.String())
	fmt.Printf("stderr %q\n", stderr.String())
	if rerr != nil {
		fmt.Printf("reader-error %q\n", rerr.Error())
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: agent-replica list|run ...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	hooks := fs.String("hooks", "trace-hooks", "the trace-hooks folder")
	sub := fs.String("sub", "", "the manager's sub-folder")
	hook := fs.String("hook", "", "the hook to run")
	args := fs.String("args", "", "the --args string")
	outPath := fs.String("out", "", "where the lines read go")
	polls := fs.Int("polls", 50, "handshake polls of 100 ms (the agent's 50; more only under emulation)")
	var env envList
	fs.Var(&env, "env", "K=V set in the manager's environment (repeat)")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "list":
		err = list(*hooks, env)
	case "run":
		err = run(filepath.Join(*hooks, *sub), *hook, *args, *outPath, *polls, env)
	default:
		err = fmt.Errorf("unknown command %s", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent-replica:", err)
		os.Exit(1)
	}
}
