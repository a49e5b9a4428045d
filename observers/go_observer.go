// The Go parent of exitmatrix's `go` column
// (harness/src/observers/runtime.rs).
//
//	go_observer RESULT_FILE PROBE ARGS...
//
// starts PROBE ARGS... with os/exec (standard streams inherited), as a Go
// program would, waits with Cmd.Wait, and writes to RESULT_FILE (in the
// working directory, the case's) one line: ProcessState.ExitCode(), then
// the syscall.WaitStatus of ProcessState.Sys() as a number and what its
// methods say of it: Exited, ExitStatus, Signaled, Signal, CoreDump. If the
// probe cannot be started it writes `error NAME` (ErrNotExist or
// ErrPermission by errors.Is, else `Errno, N`) and exits with 3.
//
// Built once per run by the harness with the system `go build`; only the
// standard library.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go_observer RESULT_FILE PROGRAM [ARGS...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		// The program could not be started: what errors.Is says of the
		// error against io/fs's sentinels, else its syscall.Errno number.
		fmt.Fprintln(os.Stderr, "go_observer:", err)
		var errno syscall.Errno
		name := "unknown"
		switch {
		case errors.Is(err, fs.ErrNotExist):
			name = "ErrNotExist"
		case errors.Is(err, fs.ErrPermission):
			name = "ErrPermission"
		case errors.As(err, &errno):
			name = fmt.Sprintf("Errno, %d", int(errno))
		}
		_ = os.WriteFile(os.Args[1], []byte("error "+name+"\n"), 0o644)
		os.Exit(3)
	}
	// A non-nil error here is the *exec.ExitError of a non-zero ending;
	// ProcessState is set either way.
	_ = cmd.Wait()
	state := cmd.ProcessState
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok {
		fmt.Fprintln(os.Stderr, "go_observer: ProcessState.Sys() is not a syscall.WaitStatus")
		os.Exit(3)
	}
	line := fmt.Sprintf("%d %d %t %d %t %d %t\n", state.ExitCode(), uint32(ws),
		ws.Exited(), ws.ExitStatus(), ws.Signaled(), int(ws.Signal()), ws.CoreDump())
	if err := os.WriteFile(os.Args[1], []byte(line), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "go_observer:", err)
		os.Exit(3)
	}
}
