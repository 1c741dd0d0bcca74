package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Set by `make build` with -ldflags "-X main.releaseVersion=... -X main.buildDate=..."; `go install
// module@version` leaves them empty and the module version and commit come from the build info.
var (
	releaseVersion string
	buildDate      string
)

// version describes this build: in `--version`, in every Parquet file's created_by and in every run
// manifest, so that a file can be traced to the release and commit that wrote it.
var version = describeBuild(debug.ReadBuildInfo())

// describeBuild is "v1.2.3 (commit 0123456789ab, 2026-12-01T20:00:00Z, built 2026-12-02T08:00:00Z)":
// the version (-ldflags, else the module's, else dev), the commit and its time as the go command
// recorded them (with "+dirty" for uncommitted changes), and the build date when make set it.
func describeBuild(info *debug.BuildInfo, ok bool) string {
	v := releaseVersion
	var details []string
	if ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		var rev, when, dirty string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			details = append(details, "commit "+rev[:min(12, len(rev))]+dirty)
		}
		if when != "" {
			details = append(details, when)
		}
	}
	if buildDate != "" {
		details = append(details, "built "+buildDate)
	}
	if v == "" {
		v = "dev"
	}
	if len(details) == 0 {
		return v
	}
	return v + " (" + strings.Join(details, ", ") + ")"
}

func printVersion(w io.Writer) {
	info, ok := debug.ReadBuildInfo()
	goVersion := "unknown Go"
	if ok {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(w, "intercom-export %s, %s\n", version, goVersion)
}
