package tests

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/strata-io/strata"

// allowedImports lists, for each project package (by path relative to the
// module, "" for packages without their own rule), the project packages it
// may import, as DESIGN.md's layout table says. A trailing "/" allows a
// whole subtree.
var allowedImports = map[string][]string{
	"protocol":        {},
	"agent/log":       {},
	"agent/replica":   {"agent/log", "metadata"},
	"agent/group":     {"metadata", "metadata/shards"},
	"agent/txn":       {"metadata", "metadata/shards"},
	"metadata":        {},
	"metadata/shards": {"metadata"},
	"tiering":         {"metadata", "tiering/"},
	"bench":           {},
	"agent":           {"protocol", "metadata", "metadata/", "tiering", "tiering/", "agent/"},
}

// TestImportRules keeps DESIGN.md's layout true: who may import whom, that
// nothing imports cmd, tests or bench, and that etcd and minio-go appear
// only in their own packages.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		for _, imp := range fields[1:] {
			checkImport(t, pkg, imp)
		}
	}
}

func checkImport(t *testing.T, pkg, imp string) {
	t.Helper()
	switch {
	case strings.HasPrefix(imp, "go.etcd.io/") && pkg != "metadata/etcd":
		t.Errorf("%s imports %s: etcd belongs in metadata/etcd only", pkg, imp)
	case strings.HasPrefix(imp, "github.com/minio/minio-go") && !strings.HasPrefix(pkg, "tiering/s3"):
		t.Errorf("%s imports %s: minio-go belongs in the S3 object store only", pkg, imp)
	}
	if !strings.HasPrefix(imp, module+"/") {
		return
	}
	target := strings.TrimPrefix(imp, module+"/")
	for _, closed := range []string{"cmd/", "tests", "bench"} {
		if strings.HasPrefix(target, closed) && !strings.HasPrefix(pkg, closed) {
			t.Errorf("%s imports %s: nothing may import cmd, tests or bench", pkg, target)
		}
	}
	rule, ok := ruleFor(pkg)
	if !ok {
		return // cmd and tests may import anything
	}
	for _, allowed := range rule {
		if target == allowed || (strings.HasSuffix(allowed, "/") && strings.HasPrefix(target, allowed)) {
			return
		}
	}
	if strings.HasPrefix(target, pkg+"/") && pkg != "agent" {
		return // a package's own subpackages (metadata/etcd, …)
	}
	t.Errorf("%s imports %s, which DESIGN.md does not allow", pkg, target)
}

// ruleFor finds the rule of pkg or of its nearest ruled ancestor.
func ruleFor(pkg string) ([]string, bool) {
	for p := pkg; p != "."; p = parent(p) {
		if r, ok := allowedImports[p]; ok {
			if p != pkg && !strings.HasPrefix(p, "agent") {
				// A subpackage (metadata/etcd) may also import its parent.
				return append(r, p), true
			}
			return r, true
		}
	}
	return nil, false
}

func parent(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return "."
}
