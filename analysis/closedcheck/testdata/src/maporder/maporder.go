package maporder // want package:"analysed"

import (
	"cmp"
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

// IndexForm collects the keys by index, then sorts them.
//
//flowgen:flow
func IndexForm(fc flow.Context, m map[string]int) []string {
	keys := make([]string, len(m))
	i := 0
	for k := range m {
		keys[i] = k
		i++
	}
	sort.Strings(keys)
	return keys
}

// IndexFormFiltered collects some keys by index, trims and sorts them.
//
//flowgen:flow
func IndexFormFiltered(fc flow.Context, m map[string]int) []string {
	keys := make([]string, len(m))
	n := 0
	for k, v := range m {
		if v > 0 {
			keys[n] = strings.ToLower(k)
			n++
		}
	}
	keys = keys[:n]
	slices.Sort(keys)
	return keys
}

// IndexFormUnsorted keeps map order.
//
//flowgen:flow
func IndexFormUnsorted(fc flow.Context, m map[string]int) []string { // want `flow IndexFormUnsorted is not closed` IndexFormUnsorted:`open: maporder\.IndexFormUnsorted → range over a map`
	keys := make([]string, len(m))
	i := 0
	for k := range m { // want `range over a map`
		keys[i] = k
		i++
	}
	return keys
}

// IndexFormPositions uses the counter for something else: order shows.
//
//flowgen:flow
func IndexFormPositions(fc flow.Context, m map[string]int) ([]string, map[string]int) { // want `flow IndexFormPositions is not closed` IndexFormPositions:`open: maporder\.IndexFormPositions → range over a map`
	keys := make([]string, len(m))
	pos := map[string]int{}
	i := 0
	for k := range m { // want `range over a map`
		keys[i] = k
		pos[k] = i
		i++
	}
	sort.Strings(keys)
	return keys, pos
}

// Item is a line of an order.
type Item struct {
	SKU      string
	Priority int
}

// ByPriority sorts values by a part of them: ties keep map order.
//
//flowgen:flow
func ByPriority(fc flow.Context, m map[string]Item) []Item { // want `flow ByPriority is not closed` ByPriority:`open: maporder\.ByPriority → maps\.Values`
	return slices.SortedFunc(maps.Values(m), func(a, b Item) int { return cmp.Compare(a.Priority, b.Priority) }) // want `maps.Values: yields in random order, and the comparator it is sorted with compares only part of each element`
}

// ByPriorityThenSKU compares every field: ties are equal items.
//
//flowgen:flow
func ByPriorityThenSKU(fc flow.Context, m map[string]Item) []Item {
	return slices.SortedFunc(maps.Values(m), func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), strings.Compare(a.SKU, b.SKU))
	})
}

// KeysByLength sorts keys by their length: keys of one length tie.
//
//flowgen:flow
func KeysByLength(fc flow.Context, m map[string]bool) []string { // want `flow KeysByLength is not closed` KeysByLength:`open: maporder\.KeysByLength → maps\.Keys`
	return slices.SortedFunc(maps.Keys(m), func(a, b string) int { return cmp.Compare(len(a), len(b)) }) // want `maps.Keys: yields in random order`
}

// KeysCompared sorts keys with a comparison of whole keys.
//
//flowgen:flow
func KeysCompared(fc flow.Context, m map[string]bool) []string {
	return slices.SortedFunc(maps.Keys(m), strings.Compare)
}

// Line is a map entry kept with its key.
type Line struct {
	Name string
	Qty  int
}

// ByName collects entries with their key and sorts by it: keys are unique.
//
//flowgen:flow
func ByName(fc flow.Context, m map[string]int) []Line {
	var lines []Line
	for k, v := range m {
		lines = append(lines, Line{Name: k, Qty: v})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].Name < lines[j].Name })
	return lines
}

// ByQty sorts by the quantity only: equal quantities keep map order.
//
//flowgen:flow
func ByQty(fc flow.Context, m map[string]int) []Line { // want `flow ByQty is not closed` ByQty:`open: maporder\.ByQty → range over a map`
	var lines []Line
	for k, v := range m { // want `range over a map: Go randomizes the iteration order, and the sort after the loop compares only part of each element`
		lines = append(lines, Line{Name: k, Qty: v})
	}
	slices.SortFunc(lines, func(a, b Line) int { return cmp.Compare(a.Qty, b.Qty) })
	return lines
}

type byQty []Line

func (b byQty) Len() int           { return len(b) }
func (b byQty) Less(i, j int) bool { return b[i].Qty < b[j].Qty }
func (b byQty) Swap(i, j int)      { b[i], b[j] = b[j], b[i] } // want Swap:`closed writes\[\-1\]`

type byNameThenQty []Line

func (b byNameThenQty) Len() int { return len(b) }
func (b byNameThenQty) Less(i, j int) bool {
	if b[i].Name != b[j].Name {
		return b[i].Name < b[j].Name
	}
	return b[i].Qty < b[j].Qty
}
func (b byNameThenQty) Swap(i, j int) { b[i], b[j] = b[j], b[i] } // want Swap:`closed writes\[\-1\]`

// SortInterface sorts with a Less that compares every field.
//
//flowgen:flow
func SortInterface(fc flow.Context, m map[string]int) []Line {
	var lines []Line
	for k, v := range m {
		lines = append(lines, Line{Name: k, Qty: v})
	}
	sort.Sort(byNameThenQty(lines))
	return lines
}

// SortInterfacePartial sorts with a Less that compares the quantity only.
//
//flowgen:flow
func SortInterfacePartial(fc flow.Context, m map[string]int) []Line { // want `flow SortInterfacePartial is not closed` SortInterfacePartial:`open: maporder\.SortInterfacePartial → range over a map`
	var lines []Line
	for k, v := range m { // want `range over a map`
		lines = append(lines, Line{Name: k, Qty: v})
	}
	sort.Stable(byQty(lines))
	return lines
}
