package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

func TestVersionIsInEveryFileAndManifest(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, _ := cli(t, "", args...)
		if code != exitOK || stdout != "intercom-export "+version+", "+runtimeGo()+"\n" {
			t.Errorf("%v: exit %d, %q; want the version %q", args, code, stdout, version)
		}
	}
	ws := intercomtest.NewWorkspace(81, 5)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	want := "intercom-export version " + releaseNumber + "(build " + buildDetails + ")"
	for _, path := range parquetFiles(t, out) {
		f, err := os.Open(filepath.Join(out, path))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		if got := pf.Metadata().CreatedBy; got != want {
			t.Errorf("%s: created_by %q, want %q", path, got, want)
		}
		f.Close()
	}
	if m := readManifest(t, out); m.ToolVersion != version {
		t.Errorf("manifest tool_version %q, want %q", m.ToolVersion, version)
	}
}

func runtimeGo() string {
	info, _ := debug.ReadBuildInfo()
	return info.GoVersion
}

func TestDescribeBuild(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T20:00:00Z"},
		{Key: "vcs.modified", Value: "true"}}}
	number, details := describeBuild(info, true)
	if number != "v1.4.0" || details != "commit 0123456789ab+dirty, 2026-12-01T20:00:00Z" {
		t.Errorf("got %q, %q", number, details)
	}
	if number, details := describeBuild(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true); number != "dev" || details != "" {
		t.Errorf("a devel build: %q, %q; want dev and nothing", number, details)
	}
	if !strings.HasPrefix(joinVersion("v1", "commit x"), "v1 (commit x)") {
		t.Error(joinVersion("v1", "commit x"))
	}
}

func TestHelpAndMistypedFlags(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"export", "check", "demo", "convert", "verify", "schema"} {
		code, stdout, stderr := cli(t, "", cmd, "--help")
		if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "Usage: intercom-export "+cmd) ||
			!strings.Contains(stdout, "Exit codes:") || !strings.Contains(stdout, "Example:") || singleDash.MatchString(stdout) {
			t.Errorf("%s --help: exit %d, stderr %q, help:\n%s", cmd, code, stderr, stdout)
		}
	}
	if _, stdout, _ := cli(t, "", "export", "--help"); !strings.Contains(stdout, "INTERCOM_ACCESS_TOKEN") || !strings.Contains(stdout, "--out STRING") {
		t.Errorf("export --help does not name the token variable or --out:\n%s", stdout)
	}
	code, _, stderr := cli(t, "", "export", "--otu", "x", "--log-format", "console")
	if code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "unknown flag --otu (did you mean --out?)") {
		t.Errorf("a mistyped flag: exit %d, want one line with a guess:\n%s", code, stderr)
	}
}

var singleDash = regexp.MustCompile(`\n  -[a-z]`)

// The README's flag table is the export command's flags, no more, no fewer, with their defaults.
func TestREADMEFlagTableMatchesTheCommand(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)[^`]*` \\|([^|]*)\\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
	}
	var o exportOptions
	exportFlags("export", &o).VisitAll(func(f *flag.Flag) {
		def, ok := documented[f.Name]
		switch {
		case !ok:
			t.Errorf("--%s is not in the README's flag table", f.Name)
		case !sameDefault(def, f.DefValue):
			t.Errorf("--%s: the README says default %q, the command %q", f.Name, def, f.DefValue)
		}
		delete(documented, f.Name)
	})
	for name := range documented {
		t.Errorf("the README documents --%s, which export does not have", name)
	}
}

func sameDefault(documented, actual string) bool {
	if documented == actual || actual == "false" && documented == "off" || actual == "" && documented == "(required)" {
		return true
	}
	a, errA := time.ParseDuration(actual)
	d, errD := time.ParseDuration(documented)
	return errA == nil && errD == nil && a == d
}
