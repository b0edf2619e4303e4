package maporder // want package:"analysed"

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Mailer interface { // want Mailer:"host"
	Send(ctx context.Context, to string) error
}

//flowgen:flow
func Unordered(fc flow.Context, m Mailer, to map[string]bool) error { // want `flow Unordered is not closed: Unordered → range over a map: Go randomizes the iteration order` Unordered:`open: maporder\.Unordered → range over a map`
	for addr := range to { // want `range over a map: Go randomizes the iteration order; range over slices.Sorted\(maps.Keys\(m\)\)`
		if err := m.Send(fc, addr); err != nil {
			return err
		}
	}
	return nil
}

//flowgen:flow
func KeyValue(fc flow.Context, prices map[string]int) string { // want `flow KeyValue is not closed` KeyValue:`open: maporder\.KeyValue → range over a map`
	var b strings.Builder
	for name, cents := range prices { // want `range over a map`
		fmt.Fprintf(&b, "%s=%d;", name, cents)
	}
	return b.String()
}

//flowgen:flow
func FirstMatch(fc flow.Context, m map[string]int, want int) string { // want `flow FirstMatch is not closed` FirstMatch:`open: maporder\.FirstMatch → range over a map`
	for k, v := range m { // want `range over a map`
		if v == want {
			return k
		}
	}
	return ""
}

//flowgen:flow
func FloatSum(fc flow.Context, m map[string]float64) float64 { // want `flow FloatSum is not closed` FloatSum:`open: maporder\.FloatSum → range over a map`
	total := 0.0
	for _, v := range m { // want `range over a map`
		total += v // float addition depends on the order
	}
	return total
}

//flowgen:flow
func Sorted(fc flow.Context, m Mailer, to map[string]bool) error {
	for _, addr := range slices.Sorted(maps.Keys(to)) {
		if err := m.Send(fc, addr); err != nil {
			return err
		}
	}
	return nil
}

//flowgen:flow
func CollectThenSort(fc flow.Context, m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

//flowgen:flow
func CollectIterThenSort(fc flow.Context, m map[int]string) []int {
	keys := slices.Collect(maps.Keys(m))
	slices.Sort(keys)
	return keys
}

//flowgen:flow
func Aggregates(fc flow.Context, m map[string]int) (int, map[string]int, map[int]bool) {
	total, count := 0, 0
	byLen := map[string]int{}
	seen := map[int]bool{}
	inverted := map[string]int{}
	for k, v := range m {
		total += v
		count++
		if v > 10 {
			byLen[k] = len(k)
		}
		seen[v] = true
		inverted[k] = v * 2
	}
	_ = inverted
	return total + count, byLen, seen
}

//flowgen:flow
func Copy(fc flow.Context, m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	maps.Copy(out, m)
	return maps.Collect(maps.All(out))
}

//flowgen:flow
func Times(fc flow.Context, m map[string]int) int {
	n := 0
	for range m {
		n++
	}
	return n
}

//flowgen:flow
func Iterators(fc flow.Context, m map[string]int) []string { // want `flow Iterators is not closed` Iterators:`open: maporder\.Iterators → maps\.Keys`
	var out []string
	for k := range maps.Keys(m) { // want `maps.Keys: yields in random order`
		out = append(out, k)
	}
	vals := slices.Collect(maps.Values(m)) // want `maps.Values: yields in random order`
	_ = vals
	return out
}

//flowgen:flow
func Overwrite(fc flow.Context, m map[string]string) map[string]string { // want `flow Overwrite is not closed` Overwrite:`open: maporder\.Overwrite → range over a map`
	inv := map[string]string{}
	for k, v := range m { // want `range over a map`
		inv[v] = k // two keys with one value: the last one wins, in random order
	}
	return inv
}
