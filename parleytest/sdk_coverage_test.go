package parleytest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/spec"
)

// TestSDKCoversEveryOperation keeps this package's twilio-go tests
// calling every operation of Twilio's spec: twilio-go names its methods
// after the spec's operation IDs (CreateServiceUser, ListConversation…;
// lists also as Stream… and Page…), so an operation added to parley's
// surface without an SDK test fails here.
func TestSDKCoversEveryOperation(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	called := map[string]bool{}
	for _, m := range regexp.MustCompile(`\.((?:Create|Fetch|Update|Delete|List|Stream|Page)[A-Za-z]+)\(`).FindAllStringSubmatch(src.String(), -1) {
		name := m[1]
		for _, prefix := range []string{"Stream", "Page"} {
			if rest, ok := strings.CutPrefix(name, prefix); ok {
				name = "List" + rest
			}
		}
		called[name] = true
	}
	if len(spec.Operations) != 103 {
		t.Fatalf("the spec has %d operations, this test expects 103", len(spec.Operations))
	}
	for _, op := range spec.Operations {
		if !called[op.ID] {
			t.Errorf("no twilio-go test calls %s (%s %s)", op.ID, op.Method, op.Path)
		}
	}
}
