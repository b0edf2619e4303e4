// Package smallfs gives tests a real, small file system to fill: a tmpfs
// mount of a few MiB, made by the test and unmounted when it ends. Mounting
// needs root (CI runs as root); where it is not allowed the test is skipped
// with a message saying why.
package smallfs
