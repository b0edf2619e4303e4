// Package middle slices an array in a body go/packages did not type-check
// (the analysis crashed on it: the array had no type).
package middle

import (
	"crypto/sha256"
	"encoding/hex"

	"partial/bottom"
)

// Hash is closed, but nothing here can say so.
func Hash(s string) string {
	digest := sha256.Sum256([]byte(s))
	return bottom.Prefix(hex.EncodeToString(digest[0:8]))
}
