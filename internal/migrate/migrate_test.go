package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("B")},
		"m/0001_init.sql": {Data: []byte("A")},
	}
	migs, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) != 2 || migs[0] != (Migration{1, "0001_init.sql", "A"}) || migs[1] != (Migration{2, "0002_more.sql", "B"}) {
		t.Fatalf("loaded %+v", migs)
	}
	for name, bad := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"repeat":   {"m/0001_a.sql": {}, "m/001_b.sql": {}},
		"no 1":     {"m/0002_b.sql": {}},
		"bad name": {"m/init.sql": {}},
		"not sql":  {"m/0001_a.txt": {}},
		"empty":    {"m/.keep": {}},
	} {
		if _, err := Load(bad, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := Newer(9, 1); !strings.Contains(err.Error(), "version 9 is newer than this parley knows (1)") {
		t.Fatalf("Newer: %v", err)
	}
}
