package closedcheck

import (
	"go/ast"
	"go/types"
	"slices"
)

// Paths of fields and elements into values.

// nest builds the key-value chain for a path written into: .f.g = e as
// f: {g: e}. Elements become keyless.
func nest(path []string, e ast.Expr) ast.Expr {
	if len(path) == 0 {
		return e
	}
	inner := nest(path[1:], e)
	if len(path) > 1 {
		inner = &ast.CompositeLit{Elts: []ast.Expr{inner}}
	}
	if path[0] == "[]" {
		return inner
	}
	return &ast.KeyValueExpr{Key: ast.NewIdent(path[0]), Value: inner}
}

func hasPrefix(path, prefix []string) bool {
	return len(prefix) <= len(path) && slices.Equal(path[:len(prefix)], prefix)
}

// lvalueRoot follows an lvalue down through fields, elements and
// dereferences to what it is rooted at (an identifier, a qualified
// identifier or anything else that is not a field), with the path from
// there to what is written.
func lvalueRoot(info *types.Info, e ast.Expr) (ast.Expr, []string) {
	var path []string
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.SelectorExpr:
			if sel := info.Selections[x]; sel == nil || sel.Kind() != types.FieldVal {
				return x, path
			}
			path = append([]string{x.Sel.Name}, path...)
			e = x.X
		case *ast.IndexExpr:
			path = append([]string{"[]"}, path...)
			e = x.X
		case *ast.StarExpr:
			e = x.X
		default:
			return x, path
		}
	}
}

func trimElem(path []string) []string {
	if len(path) > 0 && path[0] == "[]" {
		return path[1:]
	}
	return path
}

// selectPaths follows a path of fields and elements into values.
func (r *resolver) selectPaths(vals []value, path []string) []value {
	for _, step := range path {
		vals = r.selectPath(vals, step)
	}
	return vals
}

// selectPath follows one field (or "[]", any element) into values.
func (r *resolver) selectPath(vals []value, step string) []value {
	var out []value
	for _, v := range vals {
		switch v.kind {
		case vComposite:
			found := false
			for _, el := range v.comp.Elts {
				kv, isKV := el.(*ast.KeyValueExpr)
				switch {
				case step == "[]" && isKV:
					out = append(out, r.values(kv.Value, v.fr)...)
					found = true
				case step == "[]":
					out = append(out, r.values(el, v.fr)...)
					found = true
				case isKV:
					if id, ok := kv.Key.(*ast.Ident); ok && id.Name == step {
						out = append(out, r.values(kv.Value, v.fr)...)
						found = true
					}
				}
			}
			if !found && step != "[]" {
				if i := fieldIndex(v.typ, step); i >= 0 && i < len(v.comp.Elts) && !hasKeys(v.comp) {
					out = append(out, r.values(v.comp.Elts[i], v.fr)...)
				} else {
					out = append(out, value{kind: vNil}) // not set: its zero value
				}
			}
		case vParam:
			out = append(out, value{kind: vParam, param: v.param, path: append(slices.Clone(v.path), step)})
		case vForeign:
			out = append(out, value{kind: vForeign, v: v.v, path: append(slices.Clone(v.path), step)})
		case vNil:
			out = append(out, v)
		case vUnknown:
			out = append(out, v)
		case vType:
			// A value a function made (a constructor's result): what its
			// fields hold is what the code of its type's package stores.
			if n := structNamed(v.typ); n != nil && step != "[]" {
				out = append(out, value{kind: vField, typ: n, path: []string{step}})
				continue
			}
			if step == "[]" {
				out = append(out, unknown("is an element whose value cannot be known")...)
			} else {
				out = append(out, unknown("is a field whose value cannot be known")...)
			}
		case vField:
			out = append(out, value{kind: vField, typ: v.typ, path: append(slices.Clone(v.path), step)})
		default:
			out = append(out, unknown("cannot be traced")...)
		}
	}
	return out
}

func hasKeys(c *ast.CompositeLit) bool {
	for _, el := range c.Elts {
		if _, ok := el.(*ast.KeyValueExpr); ok {
			return true
		}
	}
	return false
}

// fieldIndex is the index of a struct field by name, for literals written
// without keys.
func fieldIndex(t types.Type, name string) int {
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	if t == nil {
		return -1
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok {
		return -1
	}
	for i := range st.NumFields() {
		if st.Field(i).Name() == name {
			return i
		}
	}
	return -1
}
