package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mapEnv(vars map[string]string) env { return func(k string) string { return vars[k] } }

// A setting comes from the command line, else from INTERCOM_EXPORT_<FLAG>, else from the config
// file, else from the default, in every config file format.
func TestSettingsPrecedence(t *testing.T) {
	t.Parallel()
	configs := map[string]string{
		"plain.conf": "# nightly\nregion au\nlog-level warn\noverlap 2h\nconcurrency 7 # fewer\nfull\n",
		"night.json": `{"region": "au", "log-level": "warn", "overlap": "2h", "concurrency": 7, "full": true}`,
		"night.toml": "region = \"au\"\nlog-level = \"warn\"\noverlap = \"2h\"\nconcurrency = 7\nfull = true\n",
	}
	for name, content := range configs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{
				"INTERCOM_EXPORT_CONFIG":      writeFile(t, name, content),
				"INTERCOM_EXPORT_REGION":      "eu",
				"INTERCOM_EXPORT_LOG_LEVEL":   "debug",
				"INTERCOM_EXPORT_API_VERSION": "2.11",
				"INTERCOM_ACCESS_TOKEN":       "t0ken",
			}
			o, err := exportCommandLine("export", []string{"--out", "/data/x", "--log-level", "error"}, mapEnv(vars), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ what, got, want string }{
				{"flag over env and file", o.LogLevel, "error"},
				{"env over file", o.Extract.Region, "eu"},
				{"env over default", o.Extract.APIVersion, "2.11"},
				{"file over default (duration)", o.Overlap.String(), (2 * time.Hour).String()},
				{"file over default (int)", strconv.Itoa(o.Extract.Concurrency), "7"},
				{"file over default (bool)", strconv.FormatBool(o.Full), "true"},
				{"default", o.Partition, "day"},
				{"token", string(o.Extract.Token), "t0ken"},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

// Bad settings are usage errors naming where they came from and what to do, before any request.
func TestBadSettingsAreUsageErrors(t *testing.T) {
	t.Parallel()
	tokenFile := writeFile(t, "token", "  secret-from-file\n")
	for _, c := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"bad env value", map[string]string{"INTERCOM_EXPORT_OVERLAP": "soon"}, `INTERCOM_EXPORT_OVERLAP="soon"`},
		{"missing config", map[string]string{"INTERCOM_EXPORT_CONFIG": "/nonexistent/night.conf"}, "--config /nonexistent/night.conf: no such file"},
		{"misspelt setting", map[string]string{"INTERCOM_EXPORT_CONFIG": writeFile(t, "a.conf", "regoin eu\n")}, `unknown setting "regoin"`},
		{"token in config", map[string]string{"INTERCOM_EXPORT_CONFIG": writeFile(t, "b.conf", "access-token abc\n")}, "INTERCOM_ACCESS_TOKEN_FILE"},
		{"bad value in config", map[string]string{"INTERCOM_EXPORT_CONFIG": writeFile(t, "c.toml", "concurrency = \"many\"\n")}, `concurrency "many"`},
		{"broken json", map[string]string{"INTERCOM_EXPORT_CONFIG": writeFile(t, "d.json", "{region: eu")}, "d.json"},
		{"both tokens", map[string]string{"INTERCOM_ACCESS_TOKEN": "x", "INTERCOM_ACCESS_TOKEN_FILE": tokenFile}, "both INTERCOM_ACCESS_TOKEN and INTERCOM_ACCESS_TOKEN_FILE"},
		{"missing token file", map[string]string{"INTERCOM_ACCESS_TOKEN_FILE": "/nonexistent/token"}, "INTERCOM_ACCESS_TOKEN_FILE: open /nonexistent/token"},
		{"empty token file", map[string]string{"INTERCOM_ACCESS_TOKEN_FILE": writeFile(t, "empty", "\n")}, "which is empty"},
	} {
		_, err := exportCommandLine("export", []string{"--out", "/data/x"}, mapEnv(c.vars), io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a usage error containing %q", c.name, err, c.want)
		}
	}
	if _, err := exportCommandLine("export", []string{"--out", "/data/x"}, mapEnv(map[string]string{"INTERCOM_EXPORT_CONFIG": writeFile(t, "e.conf", "regoin eu\n")}), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "did you mean region?") {
		t.Errorf("misspelt setting: no guess in %v", err)
	}
	o, err := exportCommandLine("export", nil, mapEnv(map[string]string{"INTERCOM_ACCESS_TOKEN_FILE": tokenFile}), io.Discard)
	if err != nil || string(o.Extract.Token) != "secret-from-file" {
		t.Errorf("token file: got %q, %v", o.Extract.Token, err)
	}
}

// A whole night configured the way a container is: the folder and the format from the environment,
// the rest from a config file, the token from a mounted secret; nothing on the command line.
func TestExportConfiguredFromEnvironmentAndFile(t *testing.T) {
	t.Parallel()
	srv := intercomtest.NewServer(intercomtest.NewWorkspace(17, 12), intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	vars := map[string]string{
		"INTERCOM_EXPORT_OUT":        out,
		"INTERCOM_EXPORT_LOG_FORMAT": "json",
		"INTERCOM_EXPORT_CONFIG":     writeFile(t, "night.conf", "base-url "+srv.URL+"\npartition month\n"),
		"INTERCOM_ACCESS_TOKEN_FILE": writeFile(t, "token", testToken+"\n"),
	}
	var o, e syncBuffer
	if code := run(t.Context(), []string{"export"}, mapEnv(vars), &o, &e); code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, o.String(), tail(e.String(), 3000))
	}
	if !strings.HasPrefix(e.String(), "{") {
		t.Errorf("INTERCOM_EXPORT_LOG_FORMAT=json did not give JSON logs:\n%s", tail(e.String(), 500))
	}
	months, _ := filepath.Glob(filepath.Join(out, "conversations", "month=*"))
	if len(months) == 0 {
		t.Errorf("partition month from the config file: no month= folder in %s", out)
	}
	verifyOutput(t, out)

	// A usage error is a JSON event when the environment asks for JSON logs.
	vars["INTERCOM_EXPORT_OVERLAP"] = "soon"
	var e2 syncBuffer
	if code := run(t.Context(), []string{"export"}, mapEnv(vars), io.Discard, &e2); code != exitUsage {
		t.Fatalf("bad INTERCOM_EXPORT_OVERLAP: exit %d, want %d", code, exitUsage)
	}
	failureEvent(t, e2.String(), exitUsage)
}

// demo reads only its command line: a production INTERCOM_EXPORT_OUT must not receive fake data.
func TestDemoIgnoresTheEnvironment(t *testing.T) {
	t.Parallel()
	prod := t.TempDir()
	demoOut := filepath.Join(t.TempDir(), "demo")
	var o, e syncBuffer
	vars := map[string]string{"INTERCOM_EXPORT_OUT": prod, "INTERCOM_EXPORT_PARTITION": "month", "INTERCOM_EXPORT_CONCURRENCY": "many"}
	if code := run(t.Context(), []string{"demo", "--out", demoOut, "--conversations", "3", "--log-format", "json"}, mapEnv(vars), &o, &e); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, tail(e.String(), 2000))
	}
	if months, _ := filepath.Glob(filepath.Join(demoOut, "conversations", "month=*")); len(months) != 0 {
		t.Errorf("demo took INTERCOM_EXPORT_PARTITION")
	}
	if entries, _ := os.ReadDir(prod); len(entries) != 0 {
		t.Errorf("demo wrote into INTERCOM_EXPORT_OUT: %v", entries)
	}
}
