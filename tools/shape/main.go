// Command shape prints figures about the shape of duet's code: how large the root ui package
// is, how many cases its Model.Update switches over, how many methods ui.Model has, and the
// longest functions. Issue 20 asks for functions short enough to read on one screen and a
// smaller ui root; these are the figures that say whether a change moved toward that.
//
// It reads source only (go/parser, go/ast; the standard library alone) and needs no build
// tags or type checking. It lives in its own module, like tools/homeserver, so it never
// enters duet's build, tests or vet. Run it from this directory, naming duet's root:
//
//	cd tools/shape && go run . ../..
//	cd tools/shape && go run . -n 30 ../.. ui matrixsvc
//
// Usage: shape [-n N] [-over L] [ROOT [TREE...]]. ROOT is duet's module root (default ".");
// each TREE is a directory under ROOT whose non-test functions are ranked by length (default:
// ui matrixsvc store internal/cli). A function's length is its lines from the func keyword
// to the closing brace, both included; its doc comment is not counted.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	top := flag.Int("n", 15, "how many of the longest functions to list")
	over := flag.Int("over", 60, "also count the functions longer than this many lines")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: shape [-n N] [-over L] [ROOT [TREE...]]")
		flag.PrintDefaults()
	}
	flag.Parse()
	root, trees := ".", []string{"ui", "matrixsvc", "store", "internal/cli"}
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	if flag.NArg() > 1 {
		trees = flag.Args()[1:]
	}
	if err := run(root, trees, *top, *over); err != nil {
		fmt.Fprintln(os.Stderr, "shape:", err)
		os.Exit(1)
	}
}

// function is one function or method declaration and where it is.
type function struct {
	name  string // Name, or Recv.Name for a method (Recv without its *)
	file  string // relative to the root
	line  int
	lines int
}

func run(root string, trees []string, top, over int) error {
	fset := token.NewFileSet()
	if err := printRootUI(fset, root); err != nil {
		return err
	}
	var funcs []function
	for _, tree := range trees {
		found, err := treeFunctions(fset, root, tree)
		if err != nil {
			return err
		}
		funcs = append(funcs, found...)
	}
	sort.SliceStable(funcs, func(i, j int) bool {
		if funcs[i].lines != funcs[j].lines {
			return funcs[i].lines > funcs[j].lines
		}
		if funcs[i].file != funcs[j].file {
			return funcs[i].file < funcs[j].file
		}
		return funcs[i].line < funcs[j].line
	})
	longer := 0
	for _, f := range funcs {
		if f.lines > over {
			longer++
		}
	}
	fmt.Printf("functions in %s (non-test): %d, longer than %d lines: %d\n",
		strings.Join(trees, " "), len(funcs), over, longer)
	fmt.Printf("the %d longest:\n", min(top, len(funcs)))
	for _, f := range funcs[:min(top, len(funcs))] {
		fmt.Printf("%5d  %-40s %s:%d\n", f.lines, f.name, f.file, f.line)
	}
	return nil
}

// printRootUI prints the figures about package ui itself (ROOT/ui, not its subpackages).
func printRootUI(fset *token.FileSet, root string) error {
	dir := filepath.Join(root, "ui")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	files, lines := 0, 0
	valueMethods, pointerMethods := 0, 0
	direct, all := -1, -1
	for _, e := range entries {
		if e.IsDir() || !isSource(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		lines += countLines(src)
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil {
				continue
			}
			recv, pointer := receiver(fd)
			if recv != "Model" {
				continue
			}
			if pointer {
				pointerMethods++
			} else {
				valueMethods++
			}
			// Update, and route where Update hands every message to it first (as it once did).
			if (fd.Name.Name == "Update" || fd.Name.Name == "route") && fd.Body != nil {
				d, a := updateCases(fd.Body)
				direct, all = max(direct, 0)+d, max(all, 0)+a
			}
		}
	}
	fmt.Printf("root ui package: %d lines in %d non-test files\n", lines, files)
	if direct < 0 {
		fmt.Println("Model.Update: not found")
	} else {
		fmt.Printf("Model.Update (with route) case clauses: %d in its top-level switches, %d in all its switches\n", direct, all)
	}
	fmt.Printf("methods on ui.Model: %d value receivers, %d pointer receivers\n", valueMethods, pointerMethods)
	return nil
}

// updateCases counts the case clauses (default included) of the switch and type-switch
// statements in body: direct counts those of the switches that are statements of body itself,
// all those of every switch in body, nested ones too. Function literals are not looked into.
func updateCases(body *ast.BlockStmt) (direct, all int) {
	for _, s := range body.List {
		direct += clauses(s)
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case ast.Stmt:
			all += clauses(n)
		}
		return true
	})
	return direct, all
}

// clauses is the number of case clauses of s when s is a switch or type switch, else 0.
func clauses(s ast.Node) int {
	switch s := s.(type) {
	case *ast.SwitchStmt:
		return len(s.Body.List)
	case *ast.TypeSwitchStmt:
		return len(s.Body.List)
	}
	return 0
}

// treeFunctions lists the function declarations with a body in the non-test Go files under
// ROOT/tree, skipping testdata directories.
func treeFunctions(fset *token.FileSet, root, tree string) ([]function, error) {
	var funcs []function
	err := filepath.WalkDir(filepath.Join(root, tree), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !isSource(d.Name()) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			rel = path
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := fd.Name.Name
			if fd.Recv != nil {
				recv, _ := receiver(fd)
				name = recv + "." + name
			}
			start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
			funcs = append(funcs, function{
				name:  name,
				file:  filepath.ToSlash(rel),
				line:  start.Line,
				lines: end.Line - start.Line + 1,
			})
		}
		return nil
	})
	return funcs, err
}

// receiver is the type name of fd's receiver and whether it is a pointer.
func receiver(fd *ast.FuncDecl) (name string, pointer bool) {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return "", false
	}
	t := fd.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		pointer, t = true, star.X
	}
	// A generic receiver, T[P] or T[P, Q]: the type name is T.
	switch g := t.(type) {
	case *ast.IndexExpr:
		t = g.X
	case *ast.IndexListExpr:
		t = g.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name, pointer
	}
	return "", pointer
}

func isSource(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
}

// countLines counts src's lines, a last line without a newline included.
func countLines(src []byte) int {
	n := strings.Count(string(src), "\n")
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return n
}
