// Package textdiff renders line differences between two texts, for drift
// checks and golden tests.
package textdiff

import (
	"fmt"
	"strings"
)

// maxCells bounds the quadratic part of the comparison; past it the changed
// middle is shown as removed and added wholesale.
const maxCells = 4_000_000

// Unified returns the differences from want to got in unified form, with
// three lines of context, or "" if they are equal.
func Unified(wantName, gotName, want, got string) string {
	if want == got {
		return ""
	}
	a, b := lines(want), lines(got)
	ops := diff(a, b)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", wantName, gotName)
	const ctx = 3
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from ctx lines before the change to ctx lines after the
		// last change closer than 2*ctx.
		start := max(i-ctx, 0)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j
			} else if j-end > 2*ctx {
				break
			}
		}
		stop := min(end+ctx+1, len(ops))
		fmt.Fprintf(&sb, "@@ -%d +%d @@\n", ops[start].a+1, ops[start].b+1)
		for _, op := range ops[start:stop] {
			sb.WriteByte(op.kind)
			sb.WriteString(op.text)
			sb.WriteByte('\n')
		}
		i = stop
	}
	return sb.String()
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type op struct {
	kind byte // ' ', '-', '+'
	text string
	a, b int // line numbers (from 0) in want and got
}

func diff(a, b []string) []op {
	var ops []op
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		ops = append(ops, op{' ', a[p], p, p})
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	ma, mb := a[p:len(a)-s], b[p:len(b)-s]
	ops = append(ops, middle(ma, mb, p, p)...)
	for k := 0; k < s; k++ {
		i, j := len(a)-s+k, len(b)-s+k
		ops = append(ops, op{' ', a[i], i, j})
	}
	return ops
}

// middle diffs by longest common subsequence.
func middle(a, b []string, oa, ob int) []op {
	var ops []op
	if len(a)*len(b) > maxCells {
		for i, l := range a {
			ops = append(ops, op{'-', l, oa + i, ob})
		}
		for j, l := range b {
			ops = append(ops, op{'+', l, oa + len(a), ob + j})
		}
		return ops
	}
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{' ', a[i], oa + i, ob + j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i], oa + i, ob + j})
			i++
		default:
			ops = append(ops, op{'+', b[j], oa + i, ob + j})
			j++
		}
	}
	return ops
}
