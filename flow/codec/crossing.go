package codec

import (
	"fmt"
	"reflect"
	"strings"
)

// Refusal says why a Go type cannot cross the membrane and how to make it
// cross. The codec, which meets types as values arrive, and flowgen, which
// checks a flow's types before any value exists, take their refusals from
// here, so they agree on what may cross and say it in the same words.
type Refusal struct {
	Why string // what is wrong
	Fix string // how to make it cross
}

func (r *Refusal) String() string { return r.Why + "; " + r.Fix }

// RefuseKind returns why values of kind k cannot cross, or nil if they can.
// Values of a pointer, slice, array or map kind cross if their elements can,
// and structs if their fields can (see [FieldName], [RefuseUnexported] and
// [RefuseDuplicate]). Of the interfaces only error crosses, which the caller
// tells apart from kind [reflect.Interface]; types implementing [Marshaler]
// and [Unmarshaler], or the text interfaces, cross whatever their kind.
func RefuseKind(k reflect.Kind) *Refusal {
	switch k {
	case reflect.Complex64, reflect.Complex128:
		return &Refusal{"complex numbers have no durable form", "use two float64 fields"}
	case reflect.Uintptr:
		return &Refusal{"a uintptr is an address, meaningless in another process", "pass a uint64"}
	case reflect.UnsafePointer:
		return &Refusal{"unsafe pointers have no durable form", "pass the data they point to"}
	case reflect.Chan:
		return &Refusal{"channels are not durable and cannot cross the membrane", "return a flow.Vow and settle it instead"}
	case reflect.Func:
		return &Refusal{"functions cannot cross the membrane", "make it a method of a //flowgen:host interface"}
	case reflect.Interface:
		return &Refusal{"interfaces other than error cannot cross: the other side would not know the concrete type", "use a concrete type"}
	case reflect.Invalid:
		return &Refusal{"nil has no type", "use a typed value"}
	}
	return nil
}

// FieldName returns the name a struct field crosses under — the name its tag
// `flow:"name"` gives, or its Go name — and whether the field is left out:
// tagged `flow:"-"`, or the blank field _.
func FieldName(goName string, tag reflect.StructTag) (name string, omit bool) {
	name = goName
	if v, ok := tag.Lookup("flow"); ok {
		v, _, _ = strings.Cut(v, ",")
		if v == "-" {
			return "", true
		}
		if v != "" {
			name = v
		}
	}
	return name, goName == "_"
}

// RefuseUnexported is why an unexported field, not left out, stops its
// struct from crossing.
func RefuseUnexported(goName string) *Refusal {
	return &Refusal{
		fmt.Sprintf("field %s is unexported, and values cross by copy through exported fields only", goName),
		"export it, or tag it `flow:\"-\"` to leave it out",
	}
}

// RefuseDuplicate is why two fields of a struct, first and second, that
// cross under one name stop it from crossing.
func RefuseDuplicate(first, second, name string) *Refusal {
	return &Refusal{
		fmt.Sprintf("fields %s and %s both cross as %q", first, second, name),
		"rename one, or give it another name with a `flow:\"name\"` tag",
	}
}
