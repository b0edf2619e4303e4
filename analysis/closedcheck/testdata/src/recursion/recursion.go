package recursion // want package:"analysed"

import (
	"os"

	"github.com/asyncflow-go/asyncflow/flow"
)

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func even(n int) bool {
	if n == 0 {
		return true
	}
	return odd(n - 1)
}

func odd(n int) bool {
	if n == 0 {
		return false
	}
	return even(n - 1)
}

func ping(n int) int { // want ping:`open: recursion\.ping → recursion\.pong → os\.Args`
	if n == 0 {
		return 0
	}
	return pong(n - 1)
}

func pong(n int) int { // want pong:`open: recursion\.pong → os\.Args`
	if n == 1 {
		return len(os.Args) // want `os.Args`
	}
	return ping(n - 1)
}

//flowgen:flow
func Closed(fc flow.Context, n int) (int, bool) {
	return fib(n), even(n)
}

//flowgen:flow
func Open(fc flow.Context, n int) int { // want `flow Open is not closed: Open → ping → pong → os.Args` Open:`open: recursion\.Open → recursion\.ping → recursion\.pong → os\.Args`
	return ping(n)
}

//flowgen:flow
func Self(fc flow.Context, n int) int {
	if n == 0 {
		return 0
	}
	return Self(fc, n-1) + 1
}
