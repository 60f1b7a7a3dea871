package allot_test

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGodoc_ExportedIdentifiersDocumented fails for every exported type,
// function, method (of an exported type), constant and variable without a
// doc comment, in every package of the repository, the nested modules'
// included, except internal, example and test-only code. A constant or
// variable in a parenthesised group needs a comment of its own (above it or
// at the end of its line), since godoc shows it apart from its group's.
// Error() string and String() string methods are exempt: the error and
// fmt.Stringer interfaces say what they do.
func TestGodoc_ExportedIdentifiersDocumented(t *testing.T) {
	fset := token.NewFileSet()
	packages := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "internal" || name == "examples") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if _, ok := err.(*build.NoGoError); ok {
			return nil
		}
		if err != nil {
			return err
		}
		if pkg.Name == "main" {
			return nil
		}
		var files []*ast.File
		for _, name := range pkg.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(path, name), nil, parser.ParseComments)
			if err != nil {
				return err
			}
			files = append(files, f)
		}
		packages++
		for _, missing := range undocumented(fset, files) {
			t.Errorf("%s: exported %s has no doc comment", missing.pos, missing.name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if packages < 10 {
		t.Fatalf("checked %d packages; the walk is looking in the wrong place", packages)
	}
}

// missingDoc is an exported identifier without a doc comment.
type missingDoc struct {
	pos  token.Position
	name string
}

// undocumented returns the exported identifiers of a package's files that
// lack a doc comment, sorted by position.
func undocumented(fset *token.FileSet, files []*ast.File) []missingDoc {
	var out []missingDoc
	add := func(pos token.Pos, name string) {
		out = append(out, missingDoc{fset.Position(pos), name})
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				if !decl.Name.IsExported() || decl.Doc != nil || isErrorOrString(decl) {
					continue
				}
				if decl.Recv == nil {
					add(decl.Pos(), decl.Name.Name)
				} else if recv := receiverType(decl.Recv.List[0].Type); ast.IsExported(recv) {
					add(decl.Pos(), recv+"."+decl.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range decl.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						if spec.Name.IsExported() && spec.Doc == nil && (decl.Lparen.IsValid() || decl.Doc == nil) {
							add(spec.Pos(), spec.Name.Name)
						}
					case *ast.ValueSpec:
						documented := spec.Doc != nil || spec.Comment != nil || (!decl.Lparen.IsValid() && decl.Doc != nil)
						for _, n := range spec.Names {
							if n.IsExported() && !documented {
								add(n.Pos(), n.Name)
							}
						}
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b missingDoc) int {
		if c := strings.Compare(a.pos.Filename, b.pos.Filename); c != 0 {
			return c
		}
		return a.pos.Line - b.pos.Line
	})
	return out
}

// receiverType is the name of a method receiver's type: T in T, *T, T[K]
// and *T[K].
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// isErrorOrString reports whether fn is a method Error() string or String()
// string.
func isErrorOrString(fn *ast.FuncDecl) bool {
	if fn.Recv == nil || (fn.Name.Name != "Error" && fn.Name.Name != "String") {
		return false
	}
	t := fn.Type
	if t.Params.NumFields() != 0 || t.Results.NumFields() != 1 {
		return false
	}
	res, ok := t.Results.List[0].Type.(*ast.Ident)
	return ok && res.Name == "string"
}
