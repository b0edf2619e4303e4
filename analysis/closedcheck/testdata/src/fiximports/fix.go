package fiximports // want package:"analysed"

import (
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Join(fc flow.Context, m map[string]int) string { // want `flow Join is not closed` Join:`open: fiximports\.Join → range over a map`
	var b strings.Builder
	for k, v := range m { // want `range over a map`
		b.WriteString(k + strings.Repeat("*", v))
	}
	return b.String()
}
