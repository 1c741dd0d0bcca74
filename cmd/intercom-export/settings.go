package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterbourgon/ff/v3"
	"github.com/peterbourgon/ff/v3/fftoml"
)

// Every flag can also be set from the environment, as INTERCOM_EXPORT_<FLAG> (upper case, dashes as
// underscores), and, for export and check, from a config file. The order is the one of ff, Meltano
// and the twelve-factor convention: a flag on the command line wins over its variable, which wins
// over the config file, which wins over the default. The variables are read through the getenv the
// program is given (not os.Getenv), which keeps the tests hermetic and parallel; the config file
// formats are ff's parsers.
const (
	envPrefix  = "INTERCOM_EXPORT_"
	configFlag = "config"
)

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// configFlagUsage is the help of --config, which export and check define.
const configFlagUsage = "read settings from FILE: `name value` lines (flag names, # comments), or a .json or .toml file of name = value"

// settingsFromEnvironment sets the flags the command line did not give from their environment
// variables, then from the config file.
func settingsFromEnvironment(fset *flag.FlagSet, getenv env) error {
	given := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fset.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		value := getenv(name)
		if err != nil || given[f.Name] || value == "" {
			return
		}
		if e := fset.Set(f.Name, value); e != nil {
			err = fmt.Errorf("%w: %s=%q: %v (it sets --%s)", errUsage, name, value, e, f.Name)
		}
		given[f.Name] = true
	})
	if err != nil {
		return err
	}
	config := fset.Lookup(configFlag)
	if config == nil || config.Value.String() == "" {
		return nil
	}
	return readConfigFile(fset, config.Value.String(), given)
}

// readConfigFile sets the flags not given yet from a config file. A name that is no flag of the
// command is an error, with a guess, as on the command line: a misspelt setting would otherwise be
// ignored for every night it stays there.
func readConfigFile(fset *flag.FlagSet, path string, given map[string]bool) error {
	file, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: --%s %s: no such file", errUsage, configFlag, path)
		}
		return fmt.Errorf("%w: --%s: %v", errUsage, configFlag, err)
	}
	defer file.Close()
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: config file %s: %s", errUsage, path, fmt.Sprintf(format, args...))
	}
	set := func(name, value string) error {
		name = strings.TrimLeft(name, "-")
		switch f := fset.Lookup(name); {
		case name == configFlag:
			return fail("it cannot name another config file")
		case strings.Contains(strings.ToLower(name), "token"):
			return fail("%q: the access token is never read from a file of settings: set INTERCOM_ACCESS_TOKEN, or INTERCOM_ACCESS_TOKEN_FILE to the file that holds it", name)
		case f == nil:
			msg := fmt.Sprintf("unknown setting %q (settings are the flags of intercom-export %s, without the dashes", name, fset.Name())
			if guess := closestFlag(fset, name); guess != "" {
				msg += "; did you mean " + guess + "?"
			}
			return fail("%s)", msg)
		case given[name]:
			return nil
		}
		if err := fset.Set(name, value); err != nil {
			return fail("%s %q: %v", name, value, err)
		}
		return nil
	}
	if err := configParser(path)(file, set); err != nil {
		if errors.Is(err, errUsage) {
			return err
		}
		return fail("%v", err)
	}
	return nil
}

// configParser picks the file's format by its extension; plain `name value` lines otherwise.
func configParser(path string) func(io.Reader, func(name, value string) error) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return ff.JSONParser
	case ".toml":
		return fftoml.Parser
	}
	return ff.PlainParser
}

// accessToken reads the token from INTERCOM_ACCESS_TOKEN, or from the file INTERCOM_ACCESS_TOKEN_FILE
// names (Docker and Kubernetes mount secrets as files); never both, so a stale one cannot win unseen.
func accessToken(getenv env) (string, error) {
	token, file := strings.TrimSpace(getenv("INTERCOM_ACCESS_TOKEN")), getenv("INTERCOM_ACCESS_TOKEN_FILE")
	switch {
	case file == "":
		return token, nil
	case token != "":
		return "", fmt.Errorf("%w: both INTERCOM_ACCESS_TOKEN and INTERCOM_ACCESS_TOKEN_FILE are set: unset one", errUsage)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%w: INTERCOM_ACCESS_TOKEN_FILE: %v", errUsage, err)
	}
	if token = strings.TrimSpace(string(b)); token == "" {
		return "", fmt.Errorf("%w: INTERCOM_ACCESS_TOKEN_FILE names %s, which is empty: it should hold the access token", errUsage, file)
	}
	return token, nil
}
