// Command gen writes package spec's tables (tables_gen.go) from the vendored
// OpenAPI spec. It runs through `go generate ./internal/spec`, whose working
// directory is internal/spec; the paths below are relative to it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/parleyhq/parley/internal/spec/internal/gentables"
	"github.com/parleyhq/parley/internal/spec/openapi"
)

func main() {
	in := flag.String("in", "twilio_conversations_v1.json", "the OpenAPI spec to read")
	out := flag.String("out", "tables_gen.go", "the Go file to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	doc, err := openapi.Parse(f)
	if err != nil {
		return err
	}
	src, err := gentables.Generate(doc)
	if err != nil {
		return err
	}
	// Leave the file (and its modification time) alone when nothing
	// changed, so regenerating does not dirty the build cache.
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, src) {
		return nil
	}
	return os.WriteFile(out, src, 0o644)
}
