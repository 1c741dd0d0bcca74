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

// releaseNumber and buildDetails describe this build, in `--version`, in every Parquet file's
// created_by ("intercom-export version v1.2.3(build commit 0123456789ab, ...)") and in every run
// manifest, so that a file can be traced to the release and commit that wrote it; version is both.
var (
	releaseNumber, buildDetails = describeBuild(debug.ReadBuildInfo())
	version                     = joinVersion(releaseNumber, buildDetails)
)

func joinVersion(number, details string) string {
	if details == "" {
		return number
	}
	return number + " (" + details + ")"
}

// describeBuild returns the version (-ldflags, else the module's, else dev) and "commit 0123456789ab,
// 2026-12-01T20:00:00Z, built 2026-12-02T08:00:00Z": the commit and its time as the go command recorded
// them (with "+dirty" for uncommitted changes), and the build date when make set it.
func describeBuild(info *debug.BuildInfo, ok bool) (number, details string) {
	v := releaseVersion
	var parts []string
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
			parts = append(parts, "commit "+rev[:min(12, len(rev))]+dirty)
		}
		if when != "" {
			parts = append(parts, when)
		}
	}
	if buildDate != "" {
		parts = append(parts, "built "+buildDate)
	}
	if v == "" {
		v = "dev"
	}
	return v, strings.Join(parts, ", ")
}

func printVersion(w io.Writer) {
	info, ok := debug.ReadBuildInfo()
	goVersion := "unknown Go"
	if ok {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(w, "intercom-export %s, %s\n", version, goVersion)
}
