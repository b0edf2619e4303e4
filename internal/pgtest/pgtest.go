// Package pgtest gives tests a real PostgreSQL server: a throwaway cluster
// started from the server binaries installed on the machine (Debian's
// postgresql package), or the server named by ASYNCFLOW_TEST_POSTGRES.
//
// Each call to [DB] creates a fresh, empty database on that server and drops
// it when the test ends. A package that uses it calls [Main] from TestMain,
// which stops a cluster the package started:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without binaries and without ASYNCFLOW_TEST_POSTGRES the tests skip with
// one line saying how to run them; with ASYNCFLOW_TEST_POSTGRES_REQUIRED=1
// (CI sets it) they fail instead, so they cannot skip unnoticed.
//
// The server refuses to run as root: when the tests run as root, the cluster
// runs as the unprivileged user nobody. It listens on a free loopback port
// only, with trust authentication, in a temporary directory removed when it
// stops.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables.
const (
	// EnvURL names a server to use instead of starting a cluster: a
	// postgres:// URL of a role that may create databases.
	EnvURL = "ASYNCFLOW_TEST_POSTGRES"
	// EnvRequired makes a missing server a test failure instead of a skip.
	EnvRequired = "ASYNCFLOW_TEST_POSTGRES_REQUIRED"
)

// HowToRun is the line printed when the tests skip.
const HowToRun = "PostgreSQL tests skipped: install the server (Debian: apt-get install postgresql) or set " +
	EnvURL + "=postgres://user@host:port/db to a server where the tests may create databases"

var (
	mu      sync.Mutex
	started *cluster
	base    string // the server's URL, without a database
	failure error  // why no server is available
	tried   bool
)

// Main runs the package's tests and stops a cluster they started.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the cluster this process started, if any.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if started != nil {
		started.stop()
		started = nil
	}
	tried, base, failure = false, "", nil
}

// Server returns the URL of the server (its postgres database), starting a
// cluster the first time it is needed; it skips (or fails, see EnvRequired)
// the test when no server can be had.
func Server(t testing.TB) string {
	t.Helper()
	u, err := server()
	if err != nil {
		if os.Getenv(EnvRequired) == "1" {
			t.Fatalf("pgtest: %v (%s=1)", err, EnvRequired)
		}
		t.Skipf("%s (%v)", HowToRun, err)
	}
	return u
}

// DB returns the URL of a fresh, empty database, dropped when t ends.
func DB(t testing.TB) string {
	t.Helper()
	srv := Server(t)
	u, drop, err := CreateDB(srv)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Logf("pgtest: %v", err)
		}
	})
	return u
}

// Serve is Server for programs that are not tests, such as benchmarks: the
// URL of ASYNCFLOW_TEST_POSTGRES, or of a cluster it starts (call Stop when
// done), or the reason there is none.
func Serve() (string, error) { return server() }

// CreateDB creates a fresh, empty database on the server srv and returns
// its URL and a function that drops it.
func CreateDB(srv string) (url string, drop func() error, err error) {
	name := "asyncflow_test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec1(ctx, srv, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec1(ctx, srv, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return withDatabase(srv, name), drop, nil
}

func exec1(ctx context.Context, srv, sql string) error {
	c, err := pgx.Connect(ctx, srv)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, sql)
	return err
}

func withDatabase(srv, name string) string {
	u, err := url.Parse(srv)
	if err != nil {
		return srv
	}
	u.Path = "/" + name
	return u.String()
}

func server() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if tried {
		return base, failure
	}
	tried = true
	if u := os.Getenv(EnvURL); u != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec1(ctx, u, "SELECT 1"); err != nil {
			failure = fmt.Errorf("%s=%s: %w", EnvURL, u, err)
			return "", failure
		}
		base = u
		return base, nil
	}
	c, err := startCluster()
	if err != nil {
		failure = err
		return "", err
	}
	started, base = c, c.url
	return base, nil
}

// cluster is a server this process started.
type cluster struct {
	dir  string
	url  string
	cmd  *exec.Cmd
	exit chan struct{}
	cred *syscall.Credential
}

// binDir finds the directory of the server binaries.
func binDir() (string, error) {
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries found")
}

func versionOf(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func startCluster() (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "asyncflow-pg-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, exit: make(chan struct{})}
	if os.Geteuid() == 0 {
		// The server refuses to run as root.
		c.cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "max_connections=200", "-c", "shared_buffers=64MB",
		"-c", "track_commit_timestamp=on") // tests can tell the order of commits
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c.cmd = cmd
	go func() { cmd.Wait(); logf.Close(); close(c.exit) }()
	c.url = "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable"
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := exec1(ctx, c.url, "SELECT 1")
		cancel()
		if err == nil {
			return c, nil
		}
		select {
		case <-c.exit:
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("postgres exited at start: %s", log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("postgres did not accept connections within a minute: %w", err)
		}
	}
}

func (c *cluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd.CombinedOutput()
}

// stop shuts the server down (fast: sessions are ended) and removes its
// directory.
func (c *cluster) stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.exit:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.exit
		}
	}
	os.RemoveAll(c.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
