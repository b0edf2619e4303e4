// Package batch processes records in pages and in windows, after the batch // want package:"analysed"
// samples: iterate, aggregate, report.
package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"iter"
	"log"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Store interface { // want Store:"host"
	Page(ctx context.Context, offset, limit int) ([]Record, error)
	Save(ctx context.Context, summary Summary) error
}

// Record is one row.
type Record struct {
	ID       string
	Customer string
	Cents    int64
	Tags     []string
}

// Summary is what a batch produces.
type Summary struct {
	Count     int
	Total     int64
	PerTag    map[string]int64
	Customers []string
	Report    string
}

// PageSize is the default page size.
var PageSize = 100

// pages yields the store's pages until one comes back short.
func pages(ctx context.Context, s Store, size int) iter.Seq2[[]Record, error] {
	return func(yield func([]Record, error) bool) {
		for off := 0; ; off += size {
			page, err := s.Page(ctx, off, size)
			if !yield(page, err) || err != nil || len(page) < size {
				return
			}
		}
	}
}

// Aggregate sums every record, page by page.
//
//flowgen:flow
func Aggregate(fc flow.Context, s Store) (Summary, error) { // want Aggregate:`closed reads\(corpus/batch\.PageSize\)`
	sum := Summary{PerTag: map[string]int64{}}
	seen := map[string]bool{}
	for page, err := range pages(fc, s, PageSize) {
		if err != nil {
			return sum, err
		}
		for _, r := range page {
			sum.Count++
			sum.Total += r.Cents
			for _, t := range r.Tags {
				sum.PerTag[t] += r.Cents
			}
			seen[r.Customer] = true
		}
	}
	sum.Customers = slices.Sorted(maps.Keys(seen))
	return sum, s.Save(fc, sum)
}

// report lists the tags in order.
func report(sum Summary) string {
	var b bytes.Buffer
	for _, tag := range slices.Sorted(maps.Keys(sum.PerTag)) {
		fmt.Fprintf(&b, "%s\t%d\n", tag, sum.PerTag[tag])
	}
	return b.String()
}

// Reported adds a report whose lines are in tag order.
//
//flowgen:flow
func Reported(fc flow.Context, s Store) (Summary, error) { // want Reported:`closed reads\(corpus/batch\.PageSize\)`
	page, err := s.Page(fc, 0, PageSize)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{PerTag: map[string]int64{}}
	for _, r := range page {
		for _, t := range r.Tags {
			sum.PerTag[t]++
		}
	}
	sum.Report = report(sum)
	js, _ := json.Marshal(sum.PerTag) // encoding/json sorts map keys
	log.Printf("summary %s", js)
	return sum, s.Save(fc, sum)
}

// ReportedUnordered writes the report lines in map order.
//
//flowgen:flow
func ReportedUnordered(fc flow.Context, s Store) error { // want `flow ReportedUnordered is not closed` ReportedUnordered:`open: batch\.ReportedUnordered → range over a map`
	page, err := s.Page(fc, 0, PageSize)
	if err != nil {
		return err
	}
	perTag := map[string]int64{}
	for _, r := range page {
		for _, t := range r.Tags {
			perTag[t] += r.Cents
		}
	}
	var lines []string
	for tag, n := range perTag { // want `range over a map`
		lines = append(lines, fmt.Sprintf("%s=%d", tag, n))
	}
	return s.Save(fc, Summary{Report: strings.Join(lines, "\n")})
}

// TopCustomer picks the largest spender: ties between customers go to
// whichever the map yields first.
//
//flowgen:flow
func TopCustomer(fc flow.Context, s Store) (string, error) { // want `flow TopCustomer is not closed` TopCustomer:`open: batch\.TopCustomer → range over a map`
	page, err := s.Page(fc, 0, PageSize)
	if err != nil {
		return "", err
	}
	spent := map[string]int64{}
	for _, r := range page {
		spent[r.Customer] += r.Cents
	}
	best, top := "", int64(-1)
	for c, n := range spent { // want `range over a map`
		if n > top {
			best, top = c, n
		}
	}
	return best, nil
}

// TopCustomerSorted breaks ties by name.
//
//flowgen:flow
func TopCustomerSorted(fc flow.Context, s Store) (string, error) { // want TopCustomerSorted:`closed reads\(corpus/batch\.PageSize\)`
	page, err := s.Page(fc, 0, PageSize)
	if err != nil {
		return "", err
	}
	spent := map[string]int64{}
	for _, r := range page {
		spent[r.Customer] += r.Cents
	}
	type entry struct {
		name string
		n    int64
	}
	var es []entry
	for c, n := range spent {
		es = append(es, entry{name: c, n: n})
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].n != es[j].n {
			return es[i].n > es[j].n
		}
		return es[i].name < es[j].name
	})
	if len(es) == 0 {
		return "", nil
	}
	return es[0].name, nil
}

// shard picks a worker by a hash of the customer.
func shard(customer string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(customer))
	return int(h.Sum32() % uint32(n))
}

// Sharded splits records by a stable hash.
//
//flowgen:flow
func Sharded(fc flow.Context, s Store, workers int) ([][]Record, error) { // want Sharded:`closed reads\(corpus/batch\.PageSize\)`
	page, err := s.Page(fc, 0, PageSize)
	if err != nil {
		return nil, err
	}
	out := make([][]Record, workers)
	for _, r := range page {
		i := shard(r.Customer, workers)
		out[i] = append(out[i], r)
	}
	return out, nil
}

// processed counts the records seen by every run of the flow in this
// process: state the log does not hold.
var processed int

// Counted counts records into package state.
//
//flowgen:flow
func Counted(fc flow.Context, s Store) (int, error) { // want `flow Counted is not closed` Counted:`open: batch\.Counted → package variable processed`
	page, err := s.Page(fc, 0, PageSize)
	processed += len(page) // want `package variable processed: writes package state`
	return processed, err  // want `package variable processed: reads package state that is written at`
}
