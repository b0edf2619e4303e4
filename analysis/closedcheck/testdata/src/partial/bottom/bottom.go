// Package bottom is named with top, so middle, between them, is loaded
// from source but its function bodies are not type-checked.
package bottom

// Prefix is closed.
func Prefix(s string) string { return "digest:" + s }
