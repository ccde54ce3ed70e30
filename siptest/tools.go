package siptest

import (
	"os/exec"
	"testing"
)

// debianPackages maps a tool to the Debian package that provides it.
var debianPackages = map[string]string{
	"sipp":     "sip-tester",
	"baresip":  "baresip-core",
	"sipsak":   "sipsak",
	"kamailio": "kamailio",
	"tshark":   "tshark",
	"svwar":    "sipvicious",
	"svmap":    "sipvicious",
	"svcrack":  "sipvicious",
	"chromium": "chromium", // the browser tests of the web page (e2e/web_test.go)
}

// RequireTool returns the path of the executable name, or fails the test
// (t.Fatalf, never a skip) naming the Debian package that provides it.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if pkg, ok := debianPackages[name]; ok {
		t.Fatalf("required tool %q not found in PATH (%v): install the Debian package %q (apt-get install %s)", name, err, pkg, pkg)
	} else {
		t.Fatalf("required tool %q not found in PATH: %v", name, err)
	}
	return ""
}
