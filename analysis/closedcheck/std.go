package closedcheck

import (
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// The standard library is judged from this table, keyed by
// types.Func.FullName() (and, for variables, by package path and name), not
// from facts. An entry with an empty reason allows what its package's rule
// would forbid.

var stdCache sync.Map // path → bool

// isStd reports whether a package path belongs to the standard library: its
// source is in GOROOT. (A path whose first element has a dot never does.)
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	if strings.Contains(first, ".") || path == "main" || path == "command-line-arguments" {
		return false
	}
	if v, ok := stdCache.Load(path); ok {
		return v.(bool)
	}
	std := false
	if root := goroot(); root != "" {
		st, err := os.Stat(filepath.Join(root, "src", filepath.FromSlash(path)))
		std = err == nil && st.IsDir()
	} else {
		std = true // no GOROOT to look in: fall back on the path's form
	}
	stdCache.Store(path, std)
	return std
}

var goroot = sync.OnceValue(func() string {
	if r := os.Getenv("GOROOT"); r != "" {
		return r
	}
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if r := strings.TrimSpace(string(out)); r != "" {
			return r
		}
	}
	return ""
})

// stdPackages forbids every function, method and variable of a package.
var stdPackages = map[string]string{
	"os":                "is I/O or ambient authority (files, environment, processes)",
	"os/exec":           "runs processes",
	"os/signal":         "receives signals",
	"os/user":           "reads the system's users",
	"net":               "does network I/O",
	"net/http":          "does network I/O",
	"net/rpc":           "does network I/O",
	"net/smtp":          "does network I/O",
	"syscall":           "makes system calls",
	"unsafe":            "is unsafe",
	"plugin":            "loads code",
	"runtime":           "reads or changes the Go runtime's state",
	"runtime/debug":     "reads or changes the Go runtime's state",
	"runtime/pprof":     "profiles the process",
	"runtime/trace":     "traces the process",
	"sync":              "synchronizes goroutines; synchronization belongs to the host",
	"sync/atomic":       "synchronizes goroutines; synchronization belongs to the host",
	"crypto/rand":       "reads randomness; use flow.Random(fc) or flow.UUID(fc), which replay",
	"database/sql":      "does I/O to a database",
	"expvar":            "publishes process-wide state",
	"flag":              "reads the command line (process-wide state)",
	"log/syslog":        "does I/O to the system log",
	"io/ioutil":         "does file I/O",
	"testing":           "belongs to tests",
	"embed":             "",
	"math/rand":         "draws from the global random source; use flow.Random(fc), which replays, or a local rand.New(rand.NewSource(seed))",
	"math/rand/v2":      "draws from the global random source; use flow.Random(fc), which replays, or a local rand.New(source)",
	"net/http/httptest": "does network I/O",
}

// stdPrefixes forbids whole subtrees.
var stdPrefixes = []struct{ prefix, reason string }{
	{"net/http/", "does network I/O"},
}

// stdFuncs judges single functions, methods and variables. An empty reason
// allows what the package rule forbids.
var stdFuncs = map[string]string{
	// Wall clock and timers.
	"time.Now":                  "reads the wall clock; use flow.Now(fc)",
	"time.Since":                "reads the wall clock; subtract from flow.Now(fc)",
	"time.Until":                "reads the wall clock; subtract flow.Now(fc)",
	"time.Sleep":                "sleeps on the wall clock; use flow.Sleep(fc, d)",
	"time.After":                "starts a wall-clock timer; use flow.After(fc, d)",
	"time.AfterFunc":            "starts a wall-clock timer; use flow.After(fc, d)",
	"time.NewTimer":             "starts a wall-clock timer; use flow.After(fc, d)",
	"time.NewTicker":            "starts a wall-clock ticker; use flow.After(fc, d) in a loop",
	"time.Tick":                 "starts a wall-clock ticker; use flow.After(fc, d) in a loop",
	"time.LoadLocation":         "reads the time zone database from the file system",
	"time.Local":                "is the host's time zone, which differs between machines",
	"(time.Time).Local":         "converts to the host's time zone, which differs between machines",
	"(*time.Timer).Reset":       "uses a wall-clock timer",
	"(*time.Timer).Stop":        "uses a wall-clock timer",
	"(*time.Ticker).Reset":      "uses a wall-clock ticker",
	"(*time.Ticker).Stop":       "uses a wall-clock ticker",
	"context.Background":        "makes a context outside the flow's; pass the flow.Context",
	"context.TODO":              "makes a context outside the flow's; pass the flow.Context",
	"context.WithTimeout":       "measures time on the wall clock; race flow.After(fc, d) instead",
	"context.WithDeadline":      "measures time on the wall clock; race flow.After(fc, d) instead",
	"context.WithTimeoutCause":  "measures time on the wall clock; race flow.After(fc, d) instead",
	"context.WithDeadlineCause": "measures time on the wall clock; race flow.After(fc, d) instead",
	"context.AfterFunc":         "runs a function on another goroutine",

	// Randomness: local seeded sources are deterministic and allowed.
	"math/rand.New":           "",
	"math/rand.NewSource":     "",
	"math/rand.NewZipf":       "",
	"math/rand/v2.New":        "",
	"math/rand/v2.NewPCG":     "",
	"math/rand/v2.NewChaCha8": "",
	"math/rand/v2.NewZipf":    "",
	"hash/maphash.MakeSeed":   "draws a random seed",
	"hash/maphash.Comparable": "hashes with a random seed",
	"hash/maphash.String":     "hashes with a random seed",
	"hash/maphash.Bytes":      "hashes with a random seed",

	// Logging: output is fine; ending or unwinding the host, or changing its
	// global logger, is not.
	"log.Fatal":                  "ends the host process",
	"log.Fatalf":                 "ends the host process",
	"log.Fatalln":                "ends the host process",
	"log.Panic":                  "unwinds the host with a panic; return an error",
	"log.Panicf":                 "unwinds the host with a panic; return an error",
	"log.Panicln":                "unwinds the host with a panic; return an error",
	"(*log.Logger).Fatal":        "ends the host process",
	"(*log.Logger).Fatalf":       "ends the host process",
	"(*log.Logger).Fatalln":      "ends the host process",
	"(*log.Logger).Panic":        "unwinds the host with a panic; return an error",
	"(*log.Logger).Panicf":       "unwinds the host with a panic; return an error",
	"(*log.Logger).Panicln":      "unwinds the host with a panic; return an error",
	"log.SetOutput":              "changes the host's global logger",
	"log.SetFlags":               "changes the host's global logger",
	"log.SetPrefix":              "changes the host's global logger",
	"log/slog.SetDefault":        "changes the host's global logger",
	"log/slog.SetLogLoggerLevel": "changes the host's global logger",

	// Standard input.
	"fmt.Scan":   "reads standard input",
	"fmt.Scanf":  "reads standard input",
	"fmt.Scanln": "reads standard input",

	// File systems and system files.
	"path/filepath.Abs":          "reads the working directory",
	"path/filepath.EvalSymlinks": "reads the file system",
	"path/filepath.Glob":         "reads the file system",
	"path/filepath.Walk":         "reads the file system",
	"path/filepath.WalkDir":      "reads the file system",
	"mime.TypeByExtension":       "reads the system's MIME tables",
	"mime.ExtensionsByType":      "reads the system's MIME tables",
	"mime.AddExtensionType":      "changes process-wide MIME tables",
	"crypto/x509.SystemCertPool": "reads the system's certificates",
	"io/ioutil.NopCloser":        "",
	"io/ioutil.ReadAll":          "",
	"io/ioutil.Discard":          "",

	// Calls reflection cannot tell.
	"(reflect.Value).Call":      "calls a function through reflection: cannot prove closed",
	"(reflect.Value).CallSlice": "calls a function through reflection: cannot prove closed",

	// Random iteration order.
	"(reflect.Value).MapKeys":  "returns map keys in random order; sort them",
	"(reflect.Value).MapRange": "iterates a map in random order; sort the keys",

	// Pure parts of otherwise forbidden packages.
	"os.IsExist":                  "",
	"os.IsNotExist":               "",
	"os.IsPermission":             "",
	"os.IsTimeout":                "",
	"os.NewSyscallError":          "",
	"os.Stdout":                   "", // console output is not an effect
	"os.Stderr":                   "",
	"runtime.KeepAlive":           "",
	"runtime.GOOS":                "",
	"runtime.GOARCH":              "",
	"unsafe.Sizeof":               "",
	"unsafe.Alignof":              "",
	"unsafe.Offsetof":             "",
	"net.ParseIP":                 "",
	"net.ParseCIDR":               "",
	"net.ParseMAC":                "",
	"net.IPv4":                    "",
	"net.IPv4Mask":                "",
	"net.CIDRMask":                "",
	"net.JoinHostPort":            "",
	"net.SplitHostPort":           "",
	"net/http.StatusText":         "",
	"net/http.CanonicalHeaderKey": "",
	"net/http.DetectContentType":  "",
	"net/http.ParseTime":          "",
}

// stdMethodsAllowedOn lists types of forbidden packages whose methods are
// pure: values, not handles to the world.
var stdMethodsAllowedOn = map[string]bool{
	"*math/rand.Rand":       true,
	"math/rand.Source":      true,
	"*math/rand.Zipf":       true,
	"*math/rand/v2.Rand":    true,
	"*math/rand/v2.PCG":     true,
	"*math/rand/v2.ChaCha8": true,
	"*math/rand/v2.Zipf":    true,
	"math/rand/v2.Source":   true,
	"os.FileMode":           true,
	"*os.File":              true, // only judged calls (os.Open, os.Stdin, …) make one
	"net.IP":                true,
	"net.IPMask":            true,
	"*net.IPNet":            true,
	"net.HardwareAddr":      true,
	"net/http.Header":       true,
	"embed.FS":              true,
}

// isMembrane reports whether a package is the flow package or below it
// (flow/codec, flow/flowimpl): its functions are the membrane, called by
// flows and by the code flowgen generates.
func isMembrane(path string) bool {
	return path == directive.FlowPkg || strings.HasPrefix(path, directive.FlowPkg+"/")
}

// stdVerdictOf judges a function or method of the standard library, given
// its full name: methods of its value types that are allowed, then the
// table, then the package's rule.
func stdVerdictOf(fn *types.Func, full string) (forbidden bool, reason string) {
	if recvT := recvTypeName(full); recvT != "" && stdMethodsAllowedOn[recvT] {
		return false, ""
	}
	return stdRule(fn.Pkg().Path(), full, false, false)
}

// stdVarVerdict judges a variable of the standard library: the table, then
// error sentinels (always fine), then the package's rule.
func stdVarVerdict(v *types.Var) (forbidden bool, reason string) {
	path := v.Pkg().Path()
	return stdRule(path, path+"."+v.Name(), true, types.Implements(v.Type(), errorType))
}

var errorType = types.Universe.Lookup("error").Type().Underlying().(*types.Interface)

func recvTypeName(full string) string {
	if !strings.HasPrefix(full, "(") {
		return ""
	}
	if i := strings.Index(full, ")."); i > 0 {
		return full[1:i]
	}
	return ""
}

// stdRule judges a function, method or variable of a standard package:
// the table first, then sentinel errors (always fine), then the package's
// rule.
func stdRule(path, fullName string, isVar, isErrorVar bool) (forbidden bool, reason string) {
	if r, ok := stdFuncs[fullName]; ok {
		return r != "", r
	}
	if isVar && isErrorVar {
		return false, ""
	}
	if r, ok := stdPackages[path]; ok && r != "" {
		return true, r
	}
	for _, p := range stdPrefixes {
		if strings.HasPrefix(path, p.prefix) {
			return true, p.reason
		}
	}
	return false, ""
}

// stdReturnsFirst reports whether a function of the standard library may
// return the memory of its first argument: it returns one value of the
// type of that argument (bytes.TrimSpace, slices.Clip, slices.Compact),
// and is not known to return a copy.
func stdReturnsFirst(fn *types.Func, full string) bool {
	sig := fn.Type().(*types.Signature)
	if sig.Params().Len() == 0 || sig.Results().Len() != 1 || freshStd[full] {
		return false
	}
	p := sig.Params().At(0).Type()
	if sig.Variadic() && sig.Params().Len() == 1 {
		return false
	}
	return shares(p) && types.Identical(p, sig.Results().At(0).Type())
}

// freshStd return new memory, whatever they are given.
var freshStd = map[string]bool{
	"bytes.Clone": true, "slices.Clone": true, "maps.Clone": true, "bytes.ToUpper": true, "bytes.ToLower": true,
	"bytes.ToTitle": true, "bytes.Title": true, "bytes.Map": true, "bytes.Repeat": true, "bytes.Replace": true,
	"bytes.ReplaceAll": true, "bytes.ToValidUTF8": true, "slices.Repeat": true,
}
