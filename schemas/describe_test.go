package schemas_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/schemas"
)

var update = flag.Bool("update", false, "rewrite the README's generated column reference")

const (
	readmePath  = "../README.md"
	beginMarker = "<!-- columns:begin (generated from schemas/ by `go test ./schemas -update`) -->\n"
	endMarker   = "<!-- columns:end -->"
)

// The README's column reference is generated from the row types, so the two cannot drift apart.
func TestReadmeColumnReference(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	begin, end := strings.Index(readme, beginMarker), strings.Index(readme, endMarker)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the generated-columns markers %q ... %q", beginMarker, endMarker)
	}
	want := readme[:begin+len(beginMarker)] + schemas.Markdown() + readme[end:]
	if readme == want {
		return
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README.md's column reference is out of date: run `go test ./schemas -update`")
}

func TestEveryColumnDocumented(t *testing.T) {
	for _, tbl := range schemas.Tables() {
		seen := map[string]bool{}
		for _, c := range tbl.Columns {
			if c.Source == "" {
				t.Errorf("%s.%s has no doc tag", tbl.Name, c.Name)
			}
			if seen[c.Name] {
				t.Errorf("%s.%s appears twice", tbl.Name, c.Name)
			}
			seen[c.Name] = true
		}
	}
}
