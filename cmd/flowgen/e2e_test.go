package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/testmod"
)

// The shop package: a service that opens carts, carts as keyed host objects
// (found again after a restart through a resolver), and a flow that sleeps
// between filling a cart and paying for it.
const shopSrc = `package shop

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Item is what goes in a cart.
type Item struct {
	SKU   string
	Cents int64
}

// Cart is a keyed host object.
//
//flowgen:host
type Cart interface {
	Add(ctx context.Context, it Item) (int, error)
	Total(ctx context.Context) (int64, error)
}

// Shop opens carts and takes payments.
//
//flowgen:host
type Shop interface {
	Open(ctx context.Context, customer string) (Cart, error)
	Confirm(ctx context.Context, customer string) (flow.Vow[bool], error)
	Pay(ctx context.Context, c Cart) (string, error)
}

// Buy fills a cart, waits for the customer to confirm, and pays.
//
//flowgen:flow
func Buy(fc flow.Context, s Shop, customer string, items []Item) (string, error) {
	cart, err := s.Open(fc, customer)
	if err != nil {
		return "", err
	}
	for _, it := range items {
		if _, err := cart.Add(fc, it); err != nil {
			return "", err
		}
	}
	ok, err := s.Confirm(fc, customer)
	if err != nil {
		return "", err
	}
	yes, err := flow.Await(fc, ok)
	if err != nil || !yes {
		return "", err
	}
	return s.Pay(fc, cart)
}
`

// The program: "start" starts a purchase and waits until it sleeps; a later
// run with "finish" confirms it and prints the outcome. The carts live in a
// file, the host's own durable state.
const mainSrc = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"example.com/e2e/shop"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

type cart struct {
	ID    string
	Items []shop.Item
}

func (c *cart) FlowKey() string { return c.ID }

func (c *cart) Add(ctx context.Context, it shop.Item) (int, error) {
	c.Items = append(c.Items, it)
	return len(c.Items), save(c)
}

func (c *cart) Total(ctx context.Context) (int64, error) {
	var t int64
	for _, it := range c.Items {
		t += it.Cents
	}
	return t, nil
}

func save(c *cart) error {
	b, _ := json.Marshal(c)
	return os.WriteFile("cart-"+c.ID+".json", b, 0o644)
}

func load(ctx context.Context, key string) (shop.Cart, error) {
	b, err := os.ReadFile("cart-" + key + ".json")
	if err != nil {
		return nil, err
	}
	var c cart
	return &c, json.Unmarshal(b, &c)
}

type host struct{ rt *runtime.Runtime }

func (h *host) Open(ctx context.Context, customer string) (shop.Cart, error) {
	c := &cart{ID: "c-" + customer}
	return c, save(c)
}

func (h *host) Confirm(ctx context.Context, customer string) (flow.Vow[bool], error) {
	v, err := runtime.NewVow[bool](ctx, h.rt)
	if err == nil {
		err = os.WriteFile("confirm", []byte(v.ID().String()), 0o644)
	}
	return v, err
}

func (h *host) Pay(ctx context.Context, c shop.Cart) (string, error) {
	own, ok := c.(*cart) // the original host object, not a proxy
	if !ok {
		return "", fmt.Errorf("Pay got a %T", c)
	}
	t, _ := own.Total(ctx)
	return fmt.Sprintf("paid %d for %d items in %s", t, len(own.Items), own.ID), nil
}

func main() {
	ctx := context.Background()
	rt, err := runtime.Open(ctx, "shop.db", runtime.Options{})
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	h := &host{rt: rt}
	shop.ProvideShop(rt, "shop", h)
	shop.ProvideCartResolver(rt, load)
	buy := shop.RegisterBuy(rt)
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}
	v, err := buy.StartWithID(ctx, "order-1", shop.ShopRef("shop"), "ann", []shop.Item{{"apple", 120}, {"pear", 80}})
	if err != nil {
		panic(err)
	}
	switch os.Args[1] {
	case "start":
		for {
			info, err := rt.Admin().List(ctx, runtime.ListOptions{State: runtime.StateSuspended})
			if err != nil {
				panic(err)
			}
			if len(info) == 1 {
				fmt.Println("SLEEPING")
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	case "finish":
		b, err := os.ReadFile("confirm")
		if err != nil {
			panic(err)
		}
		id, err := flow.ParseVowID(string(b))
		if err != nil {
			panic(err)
		}
		if err := runtime.Resolve(ctx, rt, flow.VowOf[bool](id), true); err != nil {
			panic(err)
		}
		out, err := runtime.Wait(ctx, rt, v)
		if err != nil {
			panic(err)
		}
		fmt.Println(out)
	}
}
`

func run1(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// TestEndToEnd generates code with go generate in a fresh module, builds a
// program from it, and runs a flow that uses keyed host objects against a
// real store, through a restart of the program.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and runs a program")
	}
	// flowgen is a tool of the module, as the README tells users to make it
	// (go get -tool), so go mod tidy keeps what it needs.
	dir := testmod.Write(t, "example.com/e2e", "tool github.com/asyncflow-go/asyncflow/cmd/flowgen\n\n", map[string]string{
		"shop/shop.go":     shopSrc,
		"cmd/shop/main.go": mainSrc,
	})
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	run1(t, dir, "go", "mod", "tidy")

	// go generate runs flowgen in the package's directory.
	run1(t, dir, "go", "generate", "./...")
	gen, err := os.ReadFile(filepath.Join(dir, "shop", "flowgen_gen.go"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(gen, []byte("// Code generated by flowgen. DO NOT EDIT.")))

	// -check agrees, and notices a change.
	run1(t, dir, "go", "run", "github.com/asyncflow-go/asyncflow/cmd/flowgen", "-check", "./...")
	write("shop/more.go", "package shop\n\nimport \"context\"\n\n//flowgen:host\ntype Extra interface {\n\tPing(ctx context.Context) error\n}\n")
	cmd := exec.Command("go", "run", "github.com/asyncflow-go/asyncflow/cmd/flowgen", "-check", "./...")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "+func ExtraRef(name string) Extra")
	assert.Contains(t, string(out), "stale; run go generate")
	require.NoError(t, os.Remove(filepath.Join(dir, "shop", "more.go")))

	// A flow that calls another flow's function directly is generated, with
	// a note that points to the Child form.
	write("shop/twice.go", "package shop\n\nimport \"github.com/asyncflow-go/asyncflow/flow\"\n\n//flowgen:flow\nfunc Twice(fc flow.Context, s Shop, customer string) (string, error) {\n\treturn Buy(fc, s, customer, nil)\n}\n")
	out1 := run1(t, dir, "go", "run", "github.com/asyncflow-go/asyncflow/cmd/flowgen", "./shop")
	assert.Contains(t, out1, "twice.go:7:9: flowgen: note: flow Twice calls the flow Buy directly, which runs it inline, in Twice's log, not as an activation of its own; to start it as a child, call ChildBuy(fc, …) and await its outcome")
	require.NoError(t, os.Remove(filepath.Join(dir, "shop", "twice.go")))
	run1(t, dir, "go", "generate", "./...")

	// A flow that is not closed is refused, with closedcheck's diagnostics,
	// and nothing is written.
	write("shop/late.go", "package shop\n\nimport (\n\t\"time\"\n\n\t\"github.com/asyncflow-go/asyncflow/flow\"\n)\n\n//flowgen:flow\nfunc Late(fc flow.Context, s Shop) (int64, error) {\n\treturn time.Now().Unix(), nil\n}\n")
	cmd = exec.Command("go", "generate", "./...")
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "closedcheck: flow Late is not closed: Late → time.Now: reads the wall clock")
	after, rerr := os.ReadFile(filepath.Join(dir, "shop", "flowgen_gen.go"))
	require.NoError(t, rerr)
	assert.Equal(t, gen, after, "nothing written")
	require.NoError(t, os.Remove(filepath.Join(dir, "shop", "late.go")))

	// Build the program and run it twice on one store.
	bin := filepath.Join(dir, "shopbin")
	run1(t, dir, "go", "build", "-o", bin, "./cmd/shop")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := exec.CommandContext(ctx, bin, "start")
	first.Dir = dir
	out, err = first.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "SLEEPING")

	second := exec.CommandContext(ctx, bin, "finish")
	second.Dir = dir
	var stderr strings.Builder
	second.Stderr = &stderr // the runtime logs its start there
	out, err = second.Output()
	require.NoError(t, err, stderr.String())
	assert.Equal(t, "paid 200 for 2 items in c-ann\n", string(out))
	assert.Contains(t, stderr.String(), "asyncflow: started", "the start summary")
}
