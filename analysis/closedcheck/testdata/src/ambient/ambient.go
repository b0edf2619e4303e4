package ambient // want package:"analysed"

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Env(fc flow.Context) string { // want `flow Env is not closed: Env → os.Getenv: is I/O or ambient authority` Env:`open: ambient\.Env → os\.Getenv`
	return os.Getenv("HOME") // want `os.Getenv: is I/O or ambient authority`
}

//flowgen:flow
func Files(fc flow.Context, name string) ([]byte, error) { // want `flow Files is not closed` Files:`open: ambient\.Files → os\.ReadFile`
	return os.ReadFile(filepath.Join("/data", name)) // want `os.ReadFile`
}

//flowgen:flow
func Glob(fc flow.Context) []string { // want `flow Glob is not closed` Glob:`open: ambient\.Glob → filepath\.Glob`
	m, _ := filepath.Glob("*.txt") // want `filepath.Glob: reads the file system`
	return m
}

//flowgen:flow
func Fetch(fc flow.Context, u string) error { // want `flow Fetch is not closed` Fetch:`open: ambient\.Fetch → http\.Get`
	_, err := http.Get(u) // want `http.Get: does network I/O`
	return err
}

//flowgen:flow
func Run(fc flow.Context) error { // want `flow Run is not closed` Run:`open: ambient\.Run → exec\.Command`
	return exec.Command("ls").Run() // want `exec.Command: runs processes` `Cmd\).Run`
}

//flowgen:flow
func Sys(fc flow.Context) int { // want `flow Sys is not closed` Sys:`open: ambient\.Sys → syscall\.Getpid`
	return syscall.Getpid() // want `syscall.Getpid: makes system calls`
}

//flowgen:flow
func Args(fc flow.Context) int { // want `flow Args is not closed` Args:`open: ambient\.Args → os\.Args`
	return len(os.Args) // want `os.Args: is I/O or ambient authority`
}

//flowgen:flow
func Exit(fc flow.Context) { // want `flow Exit is not closed` Exit:`open: ambient\.Exit → os\.Exit`
	os.Exit(1) // want `os.Exit`
}

//flowgen:flow
func Unsafe(fc flow.Context, x int) uintptr { // want `flow Unsafe is not closed` Unsafe:`open: ambient\.Unsafe → unsafe\.Pointer`
	p := unsafe.Pointer(&x) // want `unsafe.Pointer: is unsafe`
	return uintptr(p) + unsafe.Sizeof(x)
}

//flowgen:flow
func Pure(fc flow.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	addr, err := netip.ParseAddr("10.0.0.1")
	if err != nil {
		return "", err
	}
	fmt.Fprintln(os.Stderr, "console output is not an effect")
	if os.IsNotExist(err) {
		return "", nil
	}
	return strings.ToLower(u.Host) + filepath.Base(u.Path) + addr.String(), nil
}
