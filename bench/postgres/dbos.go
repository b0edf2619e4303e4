package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
)

// runDBOS runs the DBOS program of bench/postgres/dbos, a module of its own
// that the go command builds from the module proxy, on a fresh database of
// the same server, and passes on what it prints.
func runDBOS(server string, single, flows, calls int) error {
	b := &bench{server: server}
	defer func() {
		for _, d := range b.drops {
			_ = d()
		}
	}()
	u, err := b.db()
	if err != nil {
		return err
	}
	_, file, _, _ := goruntime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "dbos")
	fmt.Println("\nDBOS Transact (Go), same server, fresh database")
	cmd := exec.Command("go", "run", ".", "-db", u, "-single", strconv.Itoa(single), "-flows", strconv.Itoa(flows), "-calls", strconv.Itoa(calls))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("dbos (in %s): %w", dir, err)
	}
	return nil
}
