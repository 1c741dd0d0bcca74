package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// commandHelp is what --help says of a command besides its flags.
type commandHelp struct {
	usage, about, example string
	token                 bool // the command reads INTERCOM_ACCESS_TOKEN
	fixedFlags            bool // the command reads no INTERCOM_EXPORT_<FLAG> variable
}

var helps = map[string]commandHelp{
	"export": {usage: "intercom-export export --out DIR [flags]", token: true,
		about:   "Exports the conversations of the workspace INTERCOM_ACCESS_TOKEN belongs to: the first run everything,\nlater runs what changed since the bookmark.",
		example: "INTERCOM_ACCESS_TOKEN=... intercom-export export --out /data/intercom --region eu"},
	"check": {usage: "intercom-export check --out DIR [flags of export]", token: true,
		about:   "Tries what a run needs, sending only a few read requests and writing nothing: the token and its\nworkspace (GET /me), the pinned API version, the app's permissions, the output folder and its lock;\nthen says what a run with these flags would do.",
		example: "INTERCOM_ACCESS_TOKEN=... intercom-export check --out /data/intercom"},
	"demo": {usage: "intercom-export demo [--out DIR] [flags]", fixedFlags: true,
		about:   "Runs the export pipeline against a fake workspace served on localhost.",
		example: "intercom-export demo --out demo-out --conversations 500"},
	"convert": {usage: "intercom-export convert --out DIR FILE...",
		about:   "Converts saved GET /conversations/{id} answers (NDJSON, a JSON array, one conversation over many\nlines, or a list or search body; - is stdin) into the same layout as export.",
		example: "intercom-export convert --out /data/intercom saved/*.ndjson"},
	"verify": {usage: "intercom-export verify DIR",
		about:   "Reads every Parquet file of an output folder back with Apache Arrow, a reader independent of the one\nthat wrote them, and checks each against its table's schema: column names, order, types and\nnullability; page checksums; and row counts. It lists every bad file, and anything in the folder that\nis not the tool's, and exits 1 when there is any.",
		example: "intercom-export verify /data/intercom"},
	"schema": {usage: "intercom-export schema [--format F] [--dir DIR]",
		about:   "Prints the table definitions, generated from the same source as the files.",
		example: "intercom-export schema --format duckdb --dir /data/intercom"},
}

const exitCodesHelp = "Exit codes: 0 success, 1 failure, 2 usage or configuration error, 3 partial export,\n75 another run holds the output folder."

// parseFlags parses a command's flags and refuses positional arguments; see parseCommand.
func parseFlags(fs *flag.FlagSet, args []string, getenv env, stdout io.Writer) error {
	rest, err := parseCommand(fs, args, getenv, stdout)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%w: unexpected argument %q (see intercom-export %s --help)", errUsage, rest[0], fs.Name())
	}
	return err
}

// parseCommand parses a command's flags and returns the arguments after them. A flag not on the
// command line is taken from INTERCOM_EXPORT_<FLAG> (see settingsFromEnvironment), then from the
// --config file of the commands that have one; a nil getenv reads neither. --help prints the
// command's help on stdout; a bad flag is one line of usage error, with a guess at the flag meant,
// instead of the flag package's message, flag list and message again.
func parseCommand(fs *flag.FlagSet, args []string, getenv env, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if err == nil && getenv != nil {
		err = settingsFromEnvironment(fs, getenv)
	}
	switch {
	case err == nil:
		return fs.Args(), nil
	case errors.Is(err, errUsage):
		return nil, err
	case errors.Is(err, flag.ErrHelp):
		printHelp(stdout, fs)
		return nil, errHelp
	}
	msg := strings.ReplaceAll(err.Error(), " -", " --")
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		msg = "unknown flag --" + strings.TrimLeft(name, "-")
		if guess := closestFlag(fs, strings.TrimLeft(name, "-")); guess != "" {
			msg += " (did you mean --" + guess + "?)"
		}
	}
	return nil, fmt.Errorf("%w: %s (see intercom-export %s --help)", errUsage, msg, fs.Name())
}

// printHelp writes a command's help: usage, what it does, its flags with double dashes, the token
// variable, the exit codes and an example, in the same form for every command.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	h := helps[fs.Name()]
	fmt.Fprintf(w, "Usage: %s\n\n", h.usage)
	if h.about != "" {
		fmt.Fprintf(w, "%s\n\n", h.about)
	}
	fmt.Fprintln(w, "Flags:")
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if kind != "" {
			name += " " + strings.ToUpper(kind)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %-28s %s\n", name, usage)
	})
	fmt.Fprintln(w, "\nEnvironment:")
	if h.token {
		fmt.Fprintf(w, "  %-28s %s\n", "INTERCOM_ACCESS_TOKEN", "the access token of your Intercom app (never a flag: flags show in ps)")
		fmt.Fprintf(w, "  %-28s %s\n", "INTERCOM_ACCESS_TOKEN_FILE", "or a file holding it (a container secret); not both")
	}
	if h.fixedFlags {
		fmt.Fprintln(w, "  (none: this command reads only its command line)")
	} else {
		fmt.Fprintf(w, "  %-28s %s\n", envPrefix+"<FLAG>", "any flag, e.g. "+envName("log-format")+"=json for --log-format")
		if fs.Lookup(configFlag) != nil {
			fmt.Fprintf(w, "  %-28s %s\n", "", "a flag given wins over its variable, which wins over --config, which wins over the default")
		} else {
			fmt.Fprintf(w, "  %-28s %s\n", "", "a flag given wins over its variable, which wins over the default")
		}
	}
	fmt.Fprintf(w, "\n%s\n", exitCodesHelp)
	if h.example != "" {
		fmt.Fprintf(w, "\nExample:\n  %s\n", h.example)
	}
}

// closestFlag is the flag name nearest to a mistyped one, when one is near enough to be a guess.
func closestFlag(fs *flag.FlagSet, typed string) string {
	best, bestDist := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(typed, f.Name)
		if strings.HasPrefix(f.Name, typed) && len(typed) >= 3 {
			d = 1
		}
		if d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
