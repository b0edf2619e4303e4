package gen

import (
	"fmt"
	"go/types"
	"reflect"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// This file decides which types may cross the membrane, with the codec's
// rules (codec.RefuseKind and its companions), and lowers each parameter to
// how generated code writes and reads it.

const implPkg = FlowPkg + "/flowimpl"

func isContext(t types.Type) bool { return isNamed(t, "context", "Context") }

func isFlowType(t types.Type, name string) bool { return isNamed(t, FlowPkg, name) }

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

var errorType = types.Universe.Lookup("error").Type()

func isError(t types.Type) bool { return types.Identical(t, errorType) }

// param checks that a value of type t can cross the membrane and lowers it.
func (ps *parser) param(name string, t types.Type, what string) (*Param, error) {
	p := &Param{Name: userName(name), Type: t}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		if h, ok := ps.hosts[n.Obj()]; ok {
			p.Kind, p.Host = KindHost, h
			return p, nil
		}
		if h := ps.foreignHost(n); h != nil {
			p.Kind, p.Host = KindHost, h
			return p, nil
		}
	}
	if r := ps.refusal(t, map[types.Type]bool{}); r != nil {
		return nil, fmt.Errorf("%s: %s is not supported: %s", what, ps.typeString(t), r)
	}
	p.Coding = coding(t)
	return p, nil
}

// typeString writes a type the way its user's code would: other packages by
// their names.
func (ps *parser) typeString(t types.Type) string { return typeIn(t, ps.p.Types) }

// typeIn writes a type as the code of package pkg would: pkg's own names
// bare, other packages' by their package names.
func typeIn(t types.Type, pkg *types.Package) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == pkg {
			return ""
		}
		return p.Name()
	})
}

// foreignHost recognises a host interface of another package: one loaded in
// the same run, or one whose package declares the <Name>Host variable
// flowgen generates.
func (ps *parser) foreignHost(n *types.Named) *HostInterface {
	obj := n.Obj()
	if obj.Pkg() == nil || obj.Pkg() == ps.p.Types {
		return nil
	}
	if h, ok := ps.hosts[obj]; ok {
		return h
	}
	if durable, ok := ps.known[hostKey{obj.Pkg().Path(), obj.Name()}]; ok {
		h := &HostInterface{Name: obj.Name(), Durable: durable, Type: n, PkgPath: obj.Pkg().Path()}
		ps.hosts[obj] = h
		return h
	}
	h := &HostInterface{Name: obj.Name(), Type: n, PkgPath: obj.Pkg().Path()}
	v, ok := obj.Pkg().Scope().Lookup(h.HostVar()).(*types.Var)
	if !ok || !isNamed(v.Type(), implPkg, "HostInterface") {
		return nil
	}
	args := types.Unalias(v.Type()).(*types.Named).TypeArgs()
	if args.Len() != 1 || !types.Identical(args.At(0), n) {
		return nil
	}
	ps.hosts[obj] = h
	return h
}

// refusal returns why t cannot cross, and how to fix it, or nil if it can.
func (ps *parser) refusal(t types.Type, seen map[types.Type]bool) *codec.Refusal {
	if seen[t] {
		return nil
	}
	seen[t] = true
	switch {
	case isFlowType(t, "Future"):
		return &codec.Refusal{Why: "a flow.Future belongs to the activation that made it", Fix: "await it and pass the value"}
	case isFlowType(t, "Context"):
		return &codec.Refusal{Why: "a flow.Context cannot cross the membrane", Fix: "pass the values it would carry"}
	case isFlowType(t, "Signal"), isFlowType(t, "Status"):
		return &codec.Refusal{Why: "a flow.Signal or flow.Status is a parameter of the flow that declares it, and cannot cross the membrane", Fix: "declare it as a parameter of the flow"}
	case isFlowType(t, "Vow"):
		return ps.refusal(types.Unalias(t).(*types.Named).TypeArgs().At(0), seen)
	case isFlowType(t, "Ref"), isError(t), isTime(t):
		return nil
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		if _, ok := ps.hosts[n.Obj()]; ok {
			return &codec.Refusal{Why: "host interfaces cross only as parameters and results themselves, not inside other values", Fix: "pass it as a separate parameter"}
		}
		if ownEncoding(n) {
			return nil
		}
		if n.TypeParams().Len() > 0 && n.TypeArgs().Len() == 0 {
			return &codec.Refusal{Why: "uninstantiated generic types have no encoding", Fix: "instantiate it"}
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return codec.RefuseKind(basicKind(u))
	case *types.Pointer:
		return ps.refusal(u.Elem(), seen)
	case *types.Slice:
		return ps.refusal(u.Elem(), seen)
	case *types.Array:
		return ps.refusal(u.Elem(), seen)
	case *types.Map:
		if r := ps.refusal(u.Key(), seen); r != nil {
			return r
		}
		return ps.refusal(u.Elem(), seen)
	case *types.Struct:
		return ps.structRefusal(u, seen)
	case *types.Interface:
		r := *codec.RefuseKind(reflect.Interface)
		r.Fix += ", or mark the interface //flowgen:host"
		if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg() != ps.p.Types {
			r.Why += ", and " + n.Obj().Pkg().Name() + "." + n.Obj().Name() + " has no generated " + n.Obj().Name() + "Host"
			r.Fix = "if it is a //flowgen:host interface, run flowgen in its package first"
		}
		return &r
	case *types.Chan:
		return codec.RefuseKind(reflect.Chan)
	case *types.Signature:
		return codec.RefuseKind(reflect.Func)
	case *types.TypeParam:
		return &codec.Refusal{Why: "type parameters have no fixed encoding", Fix: "use a concrete type"}
	}
	return &codec.Refusal{Why: "it has no encoding", Fix: "use a supported type"}
}

// structRefusal applies the codec's field rules to a struct.
func (ps *parser) structRefusal(s *types.Struct, seen map[types.Type]bool) *codec.Refusal {
	names := map[string]string{}
	for i := range s.NumFields() {
		f := s.Field(i)
		name, omit := codec.FieldName(f.Name(), reflect.StructTag(s.Tag(i)))
		if omit {
			continue
		}
		if !f.Exported() {
			return codec.RefuseUnexported(f.Name())
		}
		if prev, dup := names[name]; dup {
			return codec.RefuseDuplicate(prev, f.Name(), name)
		}
		names[name] = f.Name()
		if r := ps.refusal(f.Type(), seen); r != nil {
			return &codec.Refusal{Why: "field " + f.Name() + ": " + r.Why, Fix: r.Fix}
		}
	}
	return nil
}

// basicKind is the reflect kind of a basic type, which the codec's rules
// speak of.
func basicKind(b *types.Basic) reflect.Kind {
	switch b.Kind() {
	case types.Bool, types.UntypedBool:
		return reflect.Bool
	case types.Int, types.UntypedInt, types.UntypedRune:
		return reflect.Int
	case types.Int8:
		return reflect.Int8
	case types.Int16:
		return reflect.Int16
	case types.Int32:
		return reflect.Int32
	case types.Int64:
		return reflect.Int64
	case types.Uint:
		return reflect.Uint
	case types.Uint8:
		return reflect.Uint8
	case types.Uint16:
		return reflect.Uint16
	case types.Uint32:
		return reflect.Uint32
	case types.Uint64:
		return reflect.Uint64
	case types.Uintptr:
		return reflect.Uintptr
	case types.Float32:
		return reflect.Float32
	case types.Float64, types.UntypedFloat:
		return reflect.Float64
	case types.Complex64:
		return reflect.Complex64
	case types.Complex128, types.UntypedComplex:
		return reflect.Complex128
	case types.String, types.UntypedString:
		return reflect.String
	case types.UnsafePointer:
		return reflect.UnsafePointer
	}
	return reflect.Invalid // untyped nil
}

func isTime(t types.Type) bool { return isNamed(t, "time", "Time") }

// ownEncoding reports whether values of t encode themselves: with
// MarshalFlow and UnmarshalFlow, or as text. The codec then uses those
// methods whatever t's kind, so generated code goes through it too.
func ownEncoding(t types.Type) bool {
	ptr := types.NewPointer(t)
	return hasMethod(ptr, "UnmarshalFlow") && (hasMethod(t, "MarshalFlow") || hasMethod(ptr, "MarshalFlow")) ||
		hasMethod(ptr, "UnmarshalText") && (hasMethod(t, "MarshalText") || hasMethod(ptr, "MarshalText"))
}

func hasMethod(t types.Type, name string) bool {
	return types.NewMethodSet(t).Lookup(nil, name) != nil
}

// plain reports whether t has none of the methods the codec may encode a
// value with, on the value or its pointer: then the codec writes it as its
// kind, and generated code can call that kind's method directly.
func plain(t types.Type) bool {
	for _, m := range []string{"MarshalFlow", "UnmarshalFlow", "MarshalText", "UnmarshalText"} {
		if hasMethod(t, m) || hasMethod(types.NewPointer(t), m) {
			return false
		}
	}
	return true
}

// coding lowers a value type to the Encoder and Decoder methods generated
// code calls: the method for its kind where the codec certainly uses that
// one too, reflection (which is the codec itself) otherwise.
func coding(t types.Type) Coding {
	if isTime(t) {
		return Coding{Put: "PutTime", Read: "ReadTime", Wire: "time.Time"}
	}
	if !plain(t) {
		return Coding{}
	}
	if sl, ok := t.Underlying().(*types.Slice); ok {
		if b, ok := sl.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Uint8 && plain(sl.Elem()) {
			bytes := types.NewSlice(types.Typ[types.Byte])
			return Coding{Put: "PutBytes", Read: "ReadBytes", Wire: "[]byte", Convert: !types.Identical(t, bytes)}
		}
		return Coding{}
	}
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return Coding{}
	}
	var c Coding
	switch info := b.Info(); {
	case info&types.IsString != 0:
		c = Coding{Put: "PutString", Read: "ReadString", Wire: "string"}
	case info&types.IsBoolean != 0:
		c = Coding{Put: "PutBool", Read: "ReadBool", Wire: "bool"}
	case info&types.IsInteger != 0 && info&types.IsUnsigned != 0:
		c = Coding{Put: "PutUint", Read: "ReadUint", Wire: "uint64", Bits: bits(b)}
	case info&types.IsInteger != 0:
		c = Coding{Put: "PutInt", Read: "ReadInt", Wire: "int64", Bits: bits(b)}
	case info&types.IsFloat != 0:
		c = Coding{Put: "PutFloat", Read: "ReadFloat", Wire: "float64"}
	default:
		return Coding{}
	}
	c.Convert = !types.Identical(t, types.Universe.Lookup(c.Wire).Type())
	return c
}

func bits(b *types.Basic) int {
	switch b.Kind() {
	case types.Int8, types.Uint8:
		return 8
	case types.Int16, types.Uint16:
		return 16
	case types.Int32, types.Uint32:
		return 32
	}
	return 64
}
