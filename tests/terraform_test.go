package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// The Terraform module in deploy/terraform is checked here without a
// Terraform binary or cloud access, with HashiCorp's HCL parser:
//
//   - every .tf and .tftest.hcl file parses and is in canonical format
//     (what `terraform fmt -check` checks);
//   - in every module, each var., local., data., module. and resource
//     reference resolves to a declaration (count., each., self. and
//     dynamic-block iterators only where Terraform allows them), every
//     variable, local and data source is used, variables and outputs are
//     described, validations refer only to their own variable (Terraform
//     before 1.9 allows nothing else), resources belong to a required
//     provider, and a called module declares every argument it is given,
//     gets every argument it requires and has every output read from it;
//   - every templatefile() call names an existing template, passes exactly
//     the variables the template uses, and the rendered shell script
//     passes `bash -n`.
//
// Where a terraform binary and a local copy of the AWS provider exist
// (TF_PLUGIN_DIR, or /opt/tf-plugins), TestTerraformProviderChecks also
// runs `terraform validate` and the module's own mocked `terraform test`.

const terraformRoot = "../deploy/terraform"

func TestTerraformFilesParseAndAreFormatted(t *testing.T) {
	files := terraformFiles(t, terraformRoot, ".tf", ".tftest.hcl")
	if len(files) == 0 {
		t.Fatalf("no Terraform files under %s", terraformRoot)
	}
	for _, path := range files {
		for _, p := range checkHCLFile(path) {
			t.Error(p)
		}
	}
}

func TestTerraformReferencesResolve(t *testing.T) {
	dirs := moduleDirs(t, terraformRoot)
	if len(dirs) < 2 {
		t.Fatalf("want the module and its example under %s, found %v", terraformRoot, dirs)
	}
	for _, dir := range dirs {
		for _, p := range checkModule(dir) {
			t.Error(p)
		}
	}
}

// TestTerraformCheckerCatches proves the checks above can fail: each broken
// module must be reported with the expected complaint, and a module that
// uses every construct the checker understands must pass clean.
func TestTerraformCheckerCatches(t *testing.T) {
	const provider = `terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}
`
	good := map[string]string{
		"main.tf": provider + `
variable "names" {
  description = "Names."
  type        = list(string)

  validation {
    condition     = length(var.names) > 0
    error_message = "Give a name."
  }
}

locals {
  upper = [for n in var.names : upper(n)]
}

data "aws_region" "current" {}

resource "aws_s3_bucket" "b" {
  count  = length(local.upper)
  bucket = "${local.upper[count.index]}-${data.aws_region.current.name}"
}

resource "aws_s3_object" "o" {
  for_each = toset(var.names)
  bucket   = aws_s3_bucket.b[0].id
  key      = each.key
  content  = templatefile("${path.module}/t.sh.tftpl", { name = each.value, extra = { A = "1" } })

  dynamic "tag" {
    for_each = var.names
    iterator = n
    content {
      key = n.value
    }
  }

  lifecycle {
    ignore_changes = [content]

    postcondition {
      condition     = self.key != ""
      error_message = "Empty key."
    }
  }
}

output "ids" {
  description = "Bucket ids."
  value       = aws_s3_bucket.b[*].id
}
`,
		"t.sh.tftpl": "#!/bin/bash\necho '${name}' \"$${HOME}\" $HOME\n%{ for k, v in extra ~}\nexport ${k}='${v}'\n%{ endfor ~}\n",
	}
	for _, tc := range []struct {
		name  string
		files map[string]string // replaces/adds files of good; "" deletes
		want  string
	}{
		{"good", nil, ""},
		{"dangling var", map[string]string{"x.tf": "output \"x\" {\n  description = \"x\"\n  value       = var.missing\n}\n"}, `undeclared variable "missing"`},
		{"dangling local", map[string]string{"x.tf": "output \"x\" {\n  description = \"x\"\n  value       = local.missing\n}\n"}, `undeclared local "missing"`},
		{"dangling resource", map[string]string{"x.tf": "output \"x\" {\n  description = \"x\"\n  value       = aws_s3_bucket.missing.arn\n}\n"}, `undeclared resource "aws_s3_bucket.missing"`},
		{"dangling data", map[string]string{"x.tf": "output \"x\" {\n  description = \"x\"\n  value       = data.aws_ami.missing.id\n}\n"}, `undeclared data source "aws_ami.missing"`},
		{"dangling module", map[string]string{"x.tf": "output \"x\" {\n  description = \"x\"\n  value       = module.missing.id\n}\n"}, `undeclared module "missing"`},
		{"unused variable", map[string]string{"x.tf": "variable \"spare\" {\n  description = \"x\"\n  type        = string\n}\n"}, `variable "spare" is never used`},
		{"unused local", map[string]string{"x.tf": "locals {\n  spare = 1\n}\n"}, `local "spare" is never used`},
		{"unused data", map[string]string{"x.tf": "data \"aws_caller_identity\" \"me\" {}\n"}, `data source "aws_caller_identity.me" is never used`},
		{"undescribed output", map[string]string{"x.tf": "output \"x\" {\n  value = 1\n}\n"}, `output "x" has no description`},
		{"count without count", map[string]string{"x.tf": "resource \"aws_s3_bucket\" \"c\" {\n  bucket = count.index\n}\n"}, "count.index outside a block with count"},
		{"each without for_each", map[string]string{"x.tf": "resource \"aws_s3_bucket\" \"c\" {\n  bucket = each.key\n}\n"}, "each.key outside a block with for_each"},
		{"self outside postcondition", map[string]string{"x.tf": "resource \"aws_s3_bucket\" \"c\" {\n  bucket = self.id\n}\n"}, "self.id outside"},
		{"foreign validation", map[string]string{"x.tf": "variable \"v\" {\n  description = \"x\"\n  type        = string\n\n  validation {\n    condition     = var.v != local.upper[0]\n    error_message = \"x\"\n  }\n}\n\noutput \"v\" {\n  description = \"x\"\n  value       = var.v\n}\n"}, `validation of variable "v" refers to local.upper`},
		{"provider not required", map[string]string{"x.tf": "resource \"google_storage_bucket\" \"g\" {\n  name = \"x\"\n}\n"}, `provider "google" of google_storage_bucket.g is not in required_providers`},
		{"not formatted", map[string]string{"x.tf": "locals {\n  a=1\n}\n\noutput \"a\" {\n  description = \"x\"\n  value       = local.a\n}\n"}, "not in canonical format"},
		{"does not parse", map[string]string{"x.tf": "output \"x\" {\n"}, "x.tf"},
		{"template var missing", map[string]string{"t.sh.tftpl": "#!/bin/bash\necho '${name}' ${HOME}\n%{ for k, v in extra ~}\n${k}=${v}\n%{ endfor ~}\n"}, `template t.sh.tftpl uses "HOME"`},
		{"template var unused", map[string]string{"t.sh.tftpl": "#!/bin/bash\necho '${name}'\n"}, `passes "extra"`},
		{"template is bad shell", map[string]string{"t.sh.tftpl": "#!/bin/bash\necho '${name}\n%{ for k, v in extra ~}\n${k}=${v}\n%{ endfor ~}\n"}, "bash -n"},
		{"template missing", map[string]string{"t.sh.tftpl": ""}, "t.sh.tftpl"},
		{"module output missing", map[string]string{
			"child/main.tf": "variable \"in\" {\n  description = \"x\"\n  type        = string\n}\n\noutput \"out\" {\n  description = \"x\"\n  value       = var.in\n}\n",
			"x.tf":          "module \"c\" {\n  source = \"./child\"\n  in     = \"a\"\n}\n\noutput \"x\" {\n  description = \"x\"\n  value       = module.c.nope\n}\n",
		}, `module "c" (./child) has no output "nope"`},
		{"module argument unknown", map[string]string{
			"child/main.tf": "variable \"in\" {\n  description = \"x\"\n  type        = string\n}\n\noutput \"out\" {\n  description = \"x\"\n  value       = var.in\n}\n",
			"x.tf":          "module \"c\" {\n  source = \"./child\"\n  in     = \"a\"\n  other  = 1\n}\n\noutput \"x\" {\n  description = \"x\"\n  value       = module.c.out\n}\n",
		}, `module "c" (./child) has no variable "other"`},
		{"module argument missing", map[string]string{
			"child/main.tf": "variable \"in\" {\n  description = \"x\"\n  type        = string\n}\n\noutput \"out\" {\n  description = \"x\"\n  value       = var.in\n}\n",
			"x.tf":          "module \"c\" {\n  source = \"./child\"\n}\n\noutput \"x\" {\n  description = \"x\"\n  value       = module.c.out\n}\n",
		}, `module "c" (./child) needs variable "in"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range good {
				writeFile(t, filepath.Join(dir, name), content)
			}
			for name, content := range tc.files {
				if content == "" {
					os.Remove(filepath.Join(dir, name))
					continue
				}
				writeFile(t, filepath.Join(dir, name), content)
			}
			var problems []string
			for _, path := range terraformFiles(t, dir, ".tf") {
				problems = append(problems, checkHCLFile(path)...)
			}
			problems = append(problems, checkModule(dir)...)
			if tc.want == "" {
				if len(problems) > 0 {
					t.Fatalf("clean module reported:\n%s", strings.Join(problems, "\n"))
				}
				return
			}
			for _, p := range problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got:\n%s", tc.want, strings.Join(problems, "\n"))
		})
	}
}

// TestTerraformProviderChecks runs `terraform validate` on the module and
// its example and the module's mocked `terraform test`, with the AWS
// provider from a local plugin directory (nothing is downloaded). It skips
// where either is missing.
func TestTerraformProviderChecks(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("no terraform binary on PATH; the HCL checks above still ran")
	}
	pluginDir := os.Getenv("TF_PLUGIN_DIR")
	if pluginDir == "" {
		pluginDir = "/opt/tf-plugins"
	}
	if _, err := os.Stat(filepath.Join(pluginDir, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		t.Skipf("no local copy of the hashicorp/aws provider in %s (set TF_PLUGIN_DIR); the HCL checks above still ran", pluginDir)
	}
	work := t.TempDir()
	if err := os.CopyFS(work, os.DirFS(filepath.Join(terraformRoot, "aws"))); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(t.TempDir(), "terraformrc")
	writeFile(t, cliConfig, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE="+cliConfig)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("terraform %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
	}
	for _, dir := range []string{work, filepath.Join(work, "examples", "minimal")} {
		run(dir, "init", "-backend=false", "-input=false", "-no-color", "-plugin-dir="+pluginDir)
		run(dir, "validate", "-no-color")
	}
	run(work, "test", "-no-color")
}

// --- File checks ----------------------------------------------------------

func terraformFiles(t *testing.T, root string, exts ...string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir // .terraform
		}
		for _, ext := range exts {
			if !d.IsDir() && strings.HasSuffix(path, ext) {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// checkHCLFile parses path and compares it with its canonical format.
func checkHCLFile(path string) []string {
	src, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
		return []string{fmt.Sprintf("%s: does not parse: %s", path, diags.Error())}
	}
	if formatted := hclwrite.Format(src); !bytes.Equal(formatted, src) {
		return []string{fmt.Sprintf("%s: not in canonical format (run terraform fmt); first difference at line %d", path, firstDiffLine(src, formatted))}
	}
	return nil
}

func firstDiffLine(a, b []byte) int {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

func moduleDirs(t *testing.T, root string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range terraformFiles(t, root, ".tf") {
		seen[filepath.Dir(f)] = true
	}
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// --- Module model ---------------------------------------------------------

// tfModule is what the checker knows of one module directory.
type tfModule struct {
	dir       string
	variables map[string]*hclsyntax.Block
	locals    map[string]hcl.Range
	resources map[string]hcl.Range // "type.name"
	data      map[string]hcl.Range // "type.name"
	modules   map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
	providers map[string]bool // required_providers local names
	hasProvs  bool            // declares provider blocks

	usedVars, usedLocals, usedData map[string]bool
	problems                       []string
}

// loadModule parses every .tf file of dir and collects declarations.
// Parse errors are reported by checkHCLFile; here they only stop the load.
func loadModule(dir string) (*tfModule, error) {
	m := &tfModule{
		dir: dir, variables: map[string]*hclsyntax.Block{}, locals: map[string]hcl.Range{},
		resources: map[string]hcl.Range{}, data: map[string]hcl.Range{}, modules: map[string]*hclsyntax.Block{},
		outputs: map[string]*hclsyntax.Block{}, providers: map[string]bool{},
		usedVars: map[string]bool{}, usedLocals: map[string]bool{}, usedData: map[string]bool{},
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("%s: no .tf files", dir)
	}
	parser := hclparse.NewParser()
	for _, path := range paths {
		f, diags := parser.ParseHCLFile(path)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", path, diags.Error())
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			m.declare(b)
		}
	}
	return m, nil
}

func (m *tfModule) problem(rng hcl.Range, format string, args ...any) {
	m.problems = append(m.problems, fmt.Sprintf("%s: %s", rng.String(), fmt.Sprintf(format, args...)))
}

func (m *tfModule) declare(b *hclsyntax.Block) {
	once := func(set map[string]hcl.Range, kind, name string) {
		if prev, dup := set[name]; dup {
			m.problem(b.DefRange(), "%s %q declared twice (also at %s)", kind, name, prev)
		}
		set[name] = b.DefRange()
	}
	key := strings.Join(b.Labels, ".")
	switch b.Type {
	case "variable":
		if _, dup := m.variables[key]; dup {
			m.problem(b.DefRange(), "variable %q declared twice", key)
		}
		m.variables[key] = b
	case "locals":
		for name, a := range b.Body.Attributes {
			once(m.locals, "local", name)
			m.locals[name] = a.SrcRange
		}
	case "resource":
		once(m.resources, "resource", key)
	case "data":
		once(m.data, "data source", key)
	case "module":
		if _, dup := m.modules[key]; dup {
			m.problem(b.DefRange(), "module %q declared twice", key)
		}
		m.modules[key] = b
	case "output":
		if _, dup := m.outputs[key]; dup {
			m.problem(b.DefRange(), "output %q declared twice", key)
		}
		m.outputs[key] = b
	case "terraform":
		for _, rp := range b.Body.Blocks {
			if rp.Type == "required_providers" {
				for name := range rp.Body.Attributes {
					m.providers[name] = true
				}
			}
		}
	case "provider":
		m.hasProvs = true
	case "moved", "import", "removed", "check":
	default:
		m.problem(b.DefRange(), "unknown top-level block %q", b.Type)
	}
}

// checkModule loads dir and returns every problem found in it.
func checkModule(dir string) []string {
	m, err := loadModule(dir)
	if err != nil {
		return []string{err.Error()}
	}
	m.checkDeclarations()
	for _, path := range mustGlob(filepath.Join(dir, "*.tf")) {
		src, _ := os.ReadFile(path)
		f, _ := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			m.walkTopBlock(b)
		}
	}
	m.checkModuleCalls()
	m.checkUnused()
	return m.problems
}

func mustGlob(pattern string) []string {
	paths, _ := filepath.Glob(pattern)
	return paths
}

// checkDeclarations checks what a declaration must carry by itself.
func (m *tfModule) checkDeclarations() {
	for name, b := range m.variables {
		if _, ok := b.Body.Attributes["description"]; !ok {
			m.problem(b.DefRange(), "variable %q has no description", name)
		}
		for _, v := range b.Body.Blocks {
			if v.Type == "validation" {
				m.checkValidation(name, v)
			}
		}
	}
	for name, b := range m.outputs {
		if _, ok := b.Body.Attributes["description"]; !ok {
			m.problem(b.DefRange(), "output %q has no description", name)
		}
	}
	for key, rng := range m.resources {
		m.checkProvider(key, rng)
	}
	for key, rng := range m.data {
		m.checkProvider("data."+key, rng)
	}
}

func (m *tfModule) checkProvider(key string, rng hcl.Range) {
	typ := strings.TrimPrefix(key, "data.")
	typ = typ[:strings.IndexByte(typ, '.')]
	prov, _, _ := strings.Cut(typ, "_")
	if prov != "terraform" && !m.providers[prov] {
		m.problem(rng, "provider %q of %s is not in required_providers", prov, key)
	}
}

// checkValidation enforces what Terraform before 1.9 enforces: a
// validation condition refers to its own variable and nothing else.
func (m *tfModule) checkValidation(name string, v *hclsyntax.Block) {
	cond, ok := v.Body.Attributes["condition"]
	if !ok {
		m.problem(v.DefRange(), "validation of variable %q has no condition", name)
		return
	}
	self := false
	for _, tr := range hclsyntax.Variables(cond.Expr) {
		if tr.RootName() == "var" && traverserName(tr, 1) == name {
			self = true
			continue
		}
		m.problem(tr.SourceRange(), "validation of variable %q refers to %s", name, traversalString(tr))
	}
	if !self {
		m.problem(cond.SrcRange, "validation of variable %q does not test var.%s", name, name)
	}
}

// scope says which special names an expression may use.
type scope struct {
	count, forEach, self bool
	iterators            []string
}

func (m *tfModule) walkTopBlock(b *hclsyntax.Block) {
	var sc scope
	switch b.Type {
	case "terraform":
		return // literals only: versions and provider sources
	case "resource", "data", "module":
		_, sc.count = b.Body.Attributes["count"]
		_, sc.forEach = b.Body.Attributes["for_each"]
	}
	m.walkBody(b, b.Body, sc)
}

func (m *tfModule) walkBody(owner *hclsyntax.Block, body *hclsyntax.Body, sc scope) {
	for name, a := range body.Attributes {
		switch {
		case owner.Type == "variable" && name == "type",
			owner.Type == "lifecycle" && name == "ignore_changes",
			owner.Type == "dynamic" && name == "iterator",
			name == "provider" || name == "providers":
			continue // type constraints, attribute names, provider references
		case owner.Type == "dynamic" && name == "for_each":
			// The collection is outside the iterator's scope.
			m.walkExpr(a.Expr, scope{count: sc.count, forEach: sc.forEach, self: sc.self, iterators: sc.iterators[:len(sc.iterators)-1]})
			continue
		}
		m.walkExpr(a.Expr, sc)
	}
	for _, b := range body.Blocks {
		inner := sc
		switch {
		case owner.Type == "variable" && b.Type == "validation":
			continue // checkValidation's business; a validation is no use
		case b.Type == "dynamic":
			iter := b.Labels[0]
			if it, ok := b.Body.Attributes["iterator"]; ok {
				iter = hcl.ExprAsKeyword(it.Expr)
			}
			inner.iterators = append(slices.Clone(sc.iterators), iter)
		case b.Type == "postcondition" || b.Type == "provisioner" || b.Type == "connection":
			inner.self = true
		}
		m.walkBody(b, b.Body, inner)
	}
}

func (m *tfModule) walkExpr(expr hclsyntax.Expression, sc scope) {
	for _, tr := range hclsyntax.Variables(expr) {
		m.checkTraversal(tr, sc)
	}
	hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == "templatefile" {
			m.checkTemplateCall(call)
		}
		return nil
	})
}

// checkTraversal resolves one reference and records what it uses.
func (m *tfModule) checkTraversal(tr hcl.Traversal, sc scope) {
	root, rng := tr.RootName(), tr.SourceRange()
	first := traverserName(tr, 1)
	switch root {
	case "var":
		if _, ok := m.variables[first]; !ok {
			m.problem(rng, "reference to undeclared variable %q", first)
		}
		m.usedVars[first] = true
	case "local":
		if _, ok := m.locals[first]; !ok {
			m.problem(rng, "reference to undeclared local %q", first)
		}
		m.usedLocals[first] = true
	case "data":
		key := first + "." + traverserName(tr, 2)
		if _, ok := m.data[key]; !ok {
			m.problem(rng, "reference to undeclared data source %q", key)
		}
		m.usedData[key] = true
	case "module":
		m.checkModuleRef(tr, first)
	case "path":
		if !slices.Contains([]string{"module", "root", "cwd"}, first) {
			m.problem(rng, "unknown path.%s", first)
		}
	case "terraform":
		if first != "workspace" {
			m.problem(rng, "unknown terraform.%s", first)
		}
	case "count":
		if !sc.count || first != "index" {
			m.problem(rng, "%s outside a block with count", traversalString(tr))
		}
	case "each":
		if !sc.forEach || (first != "key" && first != "value") {
			m.problem(rng, "%s outside a block with for_each", traversalString(tr))
		}
	case "self":
		if !sc.self {
			m.problem(rng, "%s outside a postcondition, provisioner or connection", traversalString(tr))
		}
	default:
		if slices.Contains(sc.iterators, root) {
			return
		}
		key := root + "." + first
		if _, ok := m.resources[key]; !ok {
			m.problem(rng, "reference to undeclared resource %q", key)
		}
	}
}

// checkModuleRef resolves module.NAME and, for a local module, the output
// read from it.
func (m *tfModule) checkModuleRef(tr hcl.Traversal, name string) {
	b, ok := m.modules[name]
	if !ok {
		m.problem(tr.SourceRange(), "reference to undeclared module %q", name)
		return
	}
	out := traverserName(tr, 2)
	callee, src := m.callee(b)
	if callee == nil || out == "" {
		return
	}
	if _, ok := callee.outputs[out]; !ok {
		m.problem(tr.SourceRange(), "module %q (%s) has no output %q", name, src, out)
	}
}

// callee loads the module a module block calls, if its source is local.
func (m *tfModule) callee(b *hclsyntax.Block) (*tfModule, string) {
	a, ok := b.Body.Attributes["source"]
	if !ok {
		m.problem(b.DefRange(), "module %q has no source", b.Labels[0])
		return nil, ""
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String {
		m.problem(a.SrcRange, "module %q: source must be a literal string", b.Labels[0])
		return nil, ""
	}
	src := v.AsString()
	if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
		return nil, src // a registry or remote module: nothing local to check
	}
	callee, err := loadModule(filepath.Join(m.dir, src))
	if err != nil {
		m.problem(a.SrcRange, "module %q: %v", b.Labels[0], err)
		return nil, src
	}
	return callee, src
}

// checkModuleCalls matches each local module call's arguments against the
// callee's variables, and refuses provider blocks in called modules.
func (m *tfModule) checkModuleCalls() {
	meta := []string{"source", "version", "count", "for_each", "providers", "depends_on"}
	for name, b := range m.modules {
		callee, src := m.callee(b)
		if callee == nil {
			continue
		}
		if callee.hasProvs {
			m.problem(b.DefRange(), "module %q (%s) configures providers; a called module must inherit them", name, src)
		}
		for arg, a := range b.Body.Attributes {
			if _, ok := callee.variables[arg]; !ok && !slices.Contains(meta, arg) {
				m.problem(a.SrcRange, "module %q (%s) has no variable %q", name, src, arg)
			}
		}
		for v, vb := range callee.variables {
			_, hasDefault := vb.Body.Attributes["default"]
			if _, given := b.Body.Attributes[v]; !hasDefault && !given {
				m.problem(b.DefRange(), "module %q (%s) needs variable %q", name, src, v)
			}
		}
	}
}

func (m *tfModule) checkUnused() {
	for name, b := range m.variables {
		if !m.usedVars[name] {
			m.problem(b.DefRange(), "variable %q is never used", name)
		}
	}
	for name, rng := range m.locals {
		if !m.usedLocals[name] {
			m.problem(rng, "local %q is never used", name)
		}
	}
	for key, rng := range m.data {
		if !m.usedData[key] {
			m.problem(rng, "data source %q is never used", key)
		}
	}
}

// traverserName is the attribute name at step i of tr, or "".
func traverserName(tr hcl.Traversal, i int) string {
	if i < len(tr) {
		if a, ok := tr[i].(hcl.TraverseAttr); ok {
			return a.Name
		}
	}
	return ""
}

func traversalString(tr hcl.Traversal) string {
	parts := []string{tr.RootName()}
	for _, step := range tr[1:] {
		if a, ok := step.(hcl.TraverseAttr); ok {
			parts = append(parts, a.Name)
		}
	}
	return strings.Join(parts, ".")
}

// --- Templates ------------------------------------------------------------

// checkTemplateCall checks templatefile("${path.module}/FILE", { ... }):
// the file exists and parses, the object passes exactly the variables the
// template uses, and a rendered shell script passes `bash -n`.
func (m *tfModule) checkTemplateCall(call *hclsyntax.FunctionCallExpr) {
	rng := call.Range()
	if len(call.Args) != 2 {
		m.problem(rng, "templatefile takes a path and an object of variables")
		return
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"path": cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(m.dir)}),
	}}
	pv, diags := call.Args[0].Value(ctx)
	if diags.HasErrors() || pv.Type() != cty.String {
		m.problem(rng, "templatefile path must be a literal under path.module")
		return
	}
	path := pv.AsString()
	name := filepath.Base(path)
	src, err := os.ReadFile(path)
	if err != nil {
		m.problem(rng, "template %s: %v", name, err)
		return
	}
	tmpl, diags := hclsyntax.ParseTemplate(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		m.problem(rng, "template %s does not parse: %s", name, diags.Error())
		return
	}
	obj, ok := call.Args[1].(*hclsyntax.ObjectConsExpr)
	if !ok {
		m.problem(rng, "templatefile variables must be an object literal, to be checked")
		return
	}
	before := len(m.problems)
	passed := map[string]bool{}
	for _, item := range obj.Items {
		if k := hcl.ExprAsKeyword(item.KeyExpr); k != "" {
			passed[k] = true
		}
	}
	used := map[string]bool{}
	for _, tr := range hclsyntax.Variables(tmpl) {
		used[tr.RootName()] = true
		if !passed[tr.RootName()] {
			m.problem(rng, "template %s uses %q, which the call does not pass (write $${...} for a literal ${...})", name, tr.RootName())
		}
	}
	for k := range passed {
		if !used[k] {
			m.problem(rng, "templatefile call passes %q, which template %s does not use", k, name)
		}
	}
	if len(m.problems) == before {
		m.checkRenderedShell(rng, name, tmpl, used)
	}
}

// checkRenderedShell renders a shell template with placeholder values
// (a one-entry map for the variables it loops over, "1234" for the rest)
// and has bash check its syntax.
func (m *tfModule) checkRenderedShell(rng hcl.Range, name string, tmpl hclsyntax.Expression, used map[string]bool) {
	collections := map[string]bool{}
	hclsyntax.VisitAll(tmpl, func(n hclsyntax.Node) hcl.Diagnostics {
		if f, ok := n.(*hclsyntax.ForExpr); ok {
			for _, tr := range hclsyntax.Variables(f.CollExpr) {
				collections[tr.RootName()] = true
			}
		}
		return nil
	})
	vars := map[string]cty.Value{}
	for k := range used {
		vars[k] = cty.StringVal("1234")
		if collections[k] {
			vars[k] = cty.MapVal(map[string]cty.Value{"STRATA_EXAMPLE": cty.StringVal("1234")})
		}
	}
	out, diags := tmpl.Value(&hcl.EvalContext{Variables: vars})
	if diags.HasErrors() {
		m.problem(rng, "template %s does not render with placeholder values: %s", name, diags.Error())
		return
	}
	script := out.AsString()
	if !strings.HasPrefix(script, "#!/bin/bash") && !strings.HasPrefix(script, "#!/usr/bin/env bash") {
		return
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		return
	}
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(script)
	if msg, err := cmd.CombinedOutput(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			m.problem(rng, "template %s renders a script that fails bash -n: %s", name, strings.TrimSpace(string(msg)))
		} else {
			m.problem(rng, "bash -n: %v", err)
		}
	}
}
