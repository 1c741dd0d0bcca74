// Package extract knows the Intercom REST API: it lists a workspace's conversations and retrieves each one
// with its parts, as fast as the workspace's rate limit allows and no faster.
package extract

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// DefaultAPIVersion is the Intercom-Version sent when none is configured. It is pinned because an app's
// default version can change under a running job; 2.16 is the first with GET /conversations/deleted.
const DefaultAPIVersion = "2.16"

// Regions maps the region names Intercom hosts data in to their API base URLs.
var Regions = map[string]string{
	"us": "https://api.intercom.io",
	"eu": "https://api.eu.intercom.io",
	"au": "https://api.au.intercom.io",
}

// Config configures a Client. Call SetDefaults, then Validate, before NewClient.
type Config struct {
	Region     string // us, eu or au; ignored when BaseURL is set
	BaseURL    string // overrides Region, e.g. a proxy or the fake workspace
	Token      Secret // access token
	APIVersion string // Intercom-Version header: 1.0..1.4, 2.0..2.16 or Preview
	// AnyAPIVersion sends an APIVersion this package does not know (a version newer than 2.16) instead
	// of refusing it, for the user who knows it exists.
	AnyAPIVersion bool

	Concurrency    int           // retrievals in flight at once
	PerPage        int           // list page size; the API allows at most 150
	RequestTimeout time.Duration // one attempt, headers and body
	MaxAttempts    int           // attempts per request, counting the first
	MaxRetryTime   time.Duration // total time one request may spend retrying
	RetryBaseDelay time.Duration // first backoff; doubles up to RetryMaxDelay, with full jitter
	RetryMaxDelay  time.Duration

	HTTPClient *http.Client
	Logger     zerolog.Logger
}

// SetDefaults fills the fields left at their zero value.
func (c *Config) SetDefaults() {
	if c.Region == "" {
		c.Region = "us"
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.Concurrency == 0 {
		c.Concurrency = 32
	}
	if c.PerPage == 0 {
		c.PerPage = 150
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 60 * time.Second
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.MaxRetryTime == 0 {
		c.MaxRetryTime = 10 * time.Minute
	}
	if c.RetryBaseDelay == 0 {
		c.RetryBaseDelay = 500 * time.Millisecond
	}
	if c.RetryMaxDelay == 0 {
		c.RetryMaxDelay = 60 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
		}}
	}
}

// Secret is an access token. It prints, formats and marshals as "[redacted]", so a Config that ends up
// in a log line, an error or a panic does not carry the token with it.
type Secret string

func (Secret) String() string               { return "[redacted]" }
func (Secret) GoString() string             { return `"[redacted]"` }
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// ErrConfig is wrapped by every configuration error, so callers can exit before any request.
var ErrConfig = errors.New("invalid configuration")

var versionPattern = regexp.MustCompile(`^(\d+)\.(\d+)$`)

// Validate checks the configuration; each error names the problem and the fix.
func (c Config) Validate() error {
	if c.Token == "" {
		return fmt.Errorf("%w: no access token: set INTERCOM_ACCESS_TOKEN to an Intercom access token, or INTERCOM_ACCESS_TOKEN_FILE to a file holding one", ErrConfig)
	}
	if strings.ContainsAny(string(c.Token), " \t\r\n") {
		return fmt.Errorf("%w: the access token contains white space: check INTERCOM_ACCESS_TOKEN", ErrConfig)
	}
	if _, err := c.baseURL(); err != nil {
		return err
	}
	v, err := parseAPIVersion(c.APIVersion)
	if err != nil {
		return err
	}
	if !v.known() && !c.AnyAPIVersion {
		return fmt.Errorf("%w: API version %q does not exist as far as this build knows: use one of %s (--allow-unknown-api-version sends it anyway)", ErrConfig, c.APIVersion, KnownAPIVersions)
	}
	switch {
	case c.Concurrency < 1 || c.Concurrency > 512:
		return fmt.Errorf("%w: concurrency %d: want 1 to 512", ErrConfig, c.Concurrency)
	case c.PerPage < 1 || c.PerPage > 150:
		return fmt.Errorf("%w: per-page %d: the API allows 1 to 150", ErrConfig, c.PerPage)
	case c.MaxAttempts < 1:
		return fmt.Errorf("%w: max attempts %d: want at least 1", ErrConfig, c.MaxAttempts)
	case c.RequestTimeout <= 0 || c.MaxRetryTime <= 0 || c.RetryBaseDelay <= 0 || c.RetryMaxDelay <= 0:
		return fmt.Errorf("%w: timeouts and retry delays must be positive", ErrConfig)
	}
	return nil
}

// baseURL resolves Region and BaseURL. Plain http is refused except on loopback, so a token is never
// sent in clear text across a network.
func (c Config) baseURL() (*url.URL, error) {
	raw := c.BaseURL
	if raw == "" {
		var ok bool
		raw, ok = Regions[strings.ToLower(c.Region)]
		if !ok {
			return nil, fmt.Errorf("%w: unknown region %q: use us, eu or au, or set --base-url", ErrConfig, c.Region)
		}
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%w: base URL %q: want an absolute http(s) URL such as https://api.intercom.io", ErrConfig, raw)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%w: base URL %q: plain http would send the token unencrypted; use https (http is allowed only for localhost)", ErrConfig, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: base URL %q: remove the query string", ErrConfig, raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiVersion is a parsed Intercom-Version.
type apiVersion struct {
	major, minor int
	preview      bool
}

func parseAPIVersion(s string) (apiVersion, error) {
	if strings.EqualFold(s, "preview") {
		return apiVersion{preview: true}, nil
	}
	m := versionPattern.FindStringSubmatch(s)
	if m == nil {
		return apiVersion{}, fmt.Errorf("%w: API version %q: want a version such as %s, 1.4 or Preview", ErrConfig, s, DefaultAPIVersion)
	}
	var v apiVersion
	fmt.Sscan(m[1], &v.major)
	fmt.Sscan(m[2], &v.minor)
	if v.major < 1 || v.major > 2 {
		return apiVersion{}, fmt.Errorf("%w: API version %q: Intercom has versions 1.x and 2.x", ErrConfig, s)
	}
	return v, nil
}

// newestMinor is the newest minor version of each major this build knows.
var newestMinor = map[int]int{1: 4, 2: 16}

// KnownAPIVersions lists the versions this build knows, for messages.
const KnownAPIVersions = "1.0 to 1.4, 2.0 to 2.16, Preview"

func (v apiVersion) known() bool { return v.preview || v.minor <= newestMinor[v.major] }

func (v apiVersion) atLeast(major, minor int) bool {
	return v.preview || v.major > major || (v.major == major && v.minor >= minor)
}

// cursorPaging reports whether the list answers with cursors (2.6 and later) rather than page URLs.
func (v apiVersion) cursorPaging() bool { return v.atLeast(2, 6) }

// hasSearch reports whether POST /conversations/search exists (2.x).
func (v apiVersion) hasSearch() bool { return v.atLeast(2, 0) }

// hasDeleted reports whether GET /conversations/deleted exists (2.16 and later).
func (v apiVersion) hasDeleted() bool { return v.atLeast(2, 16) }
