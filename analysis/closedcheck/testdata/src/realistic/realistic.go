package realistic

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Notifier interface {
	Notify(ctx context.Context, who, msg string) error
}

var (
	// region is read from the environment at start-up: it differs between
	// machines and incarnations.
	region = os.Getenv("REGION") // want `os.Getenv`
	// started is the clock at start-up.
	started time.Time
	// greeting is a plain constant-like table: fine.
	greeting = strings.Repeat("hi ", 2)
)

func init() {
	started = time.Now() // want `time.Now`
}

//flowgen:flow
func Regional(fc flow.Context, n Notifier, who string) error { // want `flow Regional is not closed: Regional → package variable region: is initialised by code that is not closed`
	return n.Notify(fc, who, "from "+region) // want `package variable region: is initialised by code that is not closed \(region initializer → os.Getenv`
}

//flowgen:flow
func Uptime(fc flow.Context) time.Duration { // want `flow Uptime is not closed`
	return flow.Now(fc).Sub(started) // want `package variable started: is initialised by code that is not closed \(init → time.Now`
}

//flowgen:flow
func Greet(fc flow.Context, n Notifier, who string) error {
	return n.Notify(fc, who, greeting+who)
}

//flowgen:flow
func Summary(fc flow.Context, counts map[string]int) string {
	lines := make([]string, 0, len(counts))
	for name, n := range counts {
		lines = append(lines, fmt.Sprintf("%s: %d", strings.ToUpper(name), n))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

//flowgen:flow
func SummaryWithHost(fc flow.Context, n Notifier, counts map[string]int) []error { // want `flow SummaryWithHost is not closed`
	var errs []error
	for name := range counts { // want `range over a map`
		errs = append(errs, n.Notify(fc, name, "count")) // host calls in random order
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}

type step struct {
	name string
	run  func(int) int
}

//flowgen:flow
func Pipeline(fc flow.Context, x int) int {
	ops := map[string]func(int) int{
		"double": func(v int) int { return v * 2 },
		"inc":    func(v int) int { return v + 1 },
	}
	x = ops["double"](x)
	steps := []func(int) int{ops["inc"], func(v int) int { return v - 3 }}
	for _, s := range steps {
		x = s(x)
	}
	st := step{name: "square", run: func(v int) int { return v * v }}
	return st.run(x)
}

//flowgen:flow
func BadPipeline(fc flow.Context, x int) int { // want `flow BadPipeline is not closed`
	ops := []func(int) int{
		func(v int) int { return v + int(time.Now().Unix()) }, // want `time.Now`
	}
	return ops[0](x)
}
