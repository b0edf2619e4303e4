package main_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/testmod"
)

const shop = `package shop

import (
	"context"
	"time"

	"example.com/m/config"
	"example.com/m/pricing"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Shop interface {
	Pay(ctx context.Context, cents int64) error
}

//flowgen:flow
func Late(fc flow.Context, s Shop) error {
	if time.Now().Hour() > 17 {
		return nil
	}
	return s.Pay(fc, 100)
}

//flowgen:flow
func OnTime(fc flow.Context, s Shop) error {
	return s.Pay(fc, 100*int64(config.Rate))
}

//flowgen:flow
func Priced(fc flow.Context, s Shop, cents int64) error {
	return s.Pay(fc, pricing.Quote(cents))
}

//flowgen:flow
func Capped(fc flow.Context, s Shop, cents int64) error {
	return s.Pay(fc, min(cents, int64(config.Cap)))
}
`

const config = `package config

// Rate is a default nothing writes.
var Rate = 2

// Cap is a default package main overrides.
var Cap = 1000
`

// pricing has two causes behind one call: both are reported.
const pricing = `package pricing

import "os"

var Surcharge = 1

func SetSurcharge(n int) { Surcharge = n }

func Quote(cents int64) int64 {
	if os.Getenv("FREE") != "" {
		return 0
	}
	return cents + int64(Surcharge)
}
`

const app = `package main

import (
	"flag"

	"example.com/m/config"
	_ "example.com/m/shop"
)

func main() {
	flag.IntVar(&config.Cap, "cap", 1000, "the cap")
	flag.Parse()
}
`

// TestCommand builds closedcheck and runs it on a module: on its own, with
// -json, with -fix, and as go vet's tool. On its own it prints what go vet
// prints, relative to the directory it runs in, and exits with status 1.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "closedcheck")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	mod := testmod.Write(t, "example.com/m", "", map[string]string{
		"shop/shop.go": shop, "config/config.go": config, "pricing/pricing.go": pricing, "cmd/app/main.go": app,
	})

	run := func(dir, name string, args ...string) (string, int) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(b), exit.ExitCode()
		}
		require.NoError(t, err, string(b))
		return string(b), 0
	}
	lines := func(text string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		slices.Sort(out)
		return out
	}

	text, code := run(mod, bin, "./...")
	assert.Equal(t, 1, code, text)
	assert.Contains(t, text, "shop/shop.go:18:6: flow Late is not closed: Late → time.Now: reads the wall clock")
	assert.Contains(t, text, "shop/shop.go:19:10: time.Now: reads the wall clock")
	assert.NotContains(t, text, "OnTime", "config.Rate is written by nothing")
	// Both causes behind pricing.Quote, in one run.
	assert.Contains(t, text, "shop/shop.go:32:27: pricing.Quote is not closed: pricing.Quote → os.Getenv")
	assert.Contains(t, text, "shop/shop.go:32:27: pricing.Quote is not closed: pricing.Quote → package variable Surcharge")
	// The write main makes is reported where it is made.
	assert.Contains(t, text, "cmd/app/main.go:11:22: flow Capped reads config.Cap, which package main writes at app/main.go:11:22")
	assert.NotContains(t, text, mod, "paths are relative")

	vet, vetCode := run(mod, "go", "vet", "-vettool="+bin, "./...")
	assert.Equal(t, 1, vetCode, vet)
	assert.Equal(t, lines(vet), lines(text), "the standalone command prints what go vet prints")

	// From a package's directory, paths are relative to it.
	sub, code := run(filepath.Join(mod, "shop"), bin, ".")
	assert.Equal(t, 1, code)
	assert.Contains(t, sub, "\nshop.go:19:10: time.Now")

	// -json: exit status 0.
	text, code = run(mod, bin, "-json", "./shop")
	require.Equal(t, 0, code, text)
	var report map[string]map[string][]struct {
		Posn    string `json:"posn"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal([]byte(text), &report), text)
	diags := report["example.com/m/shop"]["closedcheck"]
	require.NotEmpty(t, diags)
	assert.Contains(t, diags[0].Message, "flow Late is not closed")

	// -fix rewrites time.Now() to flow.Now(fc).
	_, _ = run(mod, bin, "-fix", "./shop")
	fixed, err := os.ReadFile(filepath.Join(mod, "shop", "shop.go"))
	require.NoError(t, err)
	assert.Contains(t, string(fixed), "if flow.Now(fc).Hour() > 17 {")

	// A clean module: nothing printed, status 0.
	clean := testmod.Write(t, "example.com/c", "", map[string]string{"c/c.go": "package c\n\nfunc F() int { return 1 }\n"})
	text, code = run(clean, bin, "./...")
	assert.Equal(t, 0, code, text)
	assert.Empty(t, strings.TrimSpace(text))
}
