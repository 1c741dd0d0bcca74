package extract

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// APIError is an error answer of the Intercom API.
type APIError struct {
	Status    int
	Code      string // the first error's code, e.g. not_found, unauthorized, rate_limit_exceeded
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("intercom API: HTTP %d", e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RequestID != "" {
		msg += " (request " + e.RequestID + ")"
	}
	return msg
}

// Is lets errors.Is(err, ErrNotFound) and errors.Is(err, ErrAuth) classify API errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrAuth:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

var (
	// ErrNotFound: the resource does not exist (a conversation deleted after it was listed).
	ErrNotFound = errors.New("not found")
	// ErrAuth: the token is invalid, revoked or expired, or the plan does not include the API.
	ErrAuth = errors.New("not authorised")
	// ErrRetriesExhausted: a request kept failing in a retryable way until the attempt or time budget ran out.
	ErrRetriesExhausted = errors.New("retries exhausted")
	// ErrCursorRejected: the API kept refusing a pagination cursor it had issued (400 parameter_invalid).
	ErrCursorRejected = errors.New("the API refused the pagination cursor")
	// ErrUnreachable: the API's host cannot be resolved, refuses connections or fails the TLS handshake,
	// which retrying for minutes would not fix.
	ErrUnreachable = errors.New("cannot reach the Intercom API")
)

// Stats counts a client's traffic. Read it with Client.Stats.
type Stats struct {
	Calls       int64 // HTTP attempts sent
	Retries     int64 // attempts that repeated an earlier failed one
	RateLimited int64 // 429 answers
}

// Client talks to one Intercom workspace. It is safe for concurrent use; all requests share one limiter.
type Client struct {
	cfg     Config
	base    *url.URL
	version apiVersion
	limiter *limiter
	log     zerolog.Logger

	calls, retries, rateLimited atomic.Int64
	// retryKinds holds the kinds of failure already logged at info level: the first retry of each kind
	// is worth a line at the default level, the rest only at debug.
	retryKinds sync.Map
}

// NewClient validates cfg (after SetDefaults) and returns a client. It sends no request.
func NewClient(cfg Config) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := cfg.baseURL()
	version, _ := parseAPIVersion(cfg.APIVersion)
	return &Client{cfg: cfg, base: base, version: version, limiter: newLimiter(), log: cfg.Logger}, nil
}

// Stats returns the traffic so far.
func (c *Client) Stats() Stats {
	return Stats{Calls: c.calls.Load(), Retries: c.retries.Load(), RateLimited: c.rateLimited.Load()}
}

// endpoint resolves a path (with query) against the base URL.
func (c *Client) endpoint(pathAndQuery string) string {
	return c.base.String() + pathAndQuery
}

// sameHost reports whether a URL the API handed us (a page-based `next`) points at our own host, so the
// token is never sent anywhere else.
func (c *Client) sameHost(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == c.base.Scheme && u.Host == c.base.Host
}

// retryable marks an attempt's failure as worth another attempt.
type retryable struct {
	err            error
	wait           time.Duration // at least this long before the next attempt (from a 429), else backoff
	rateLimited    bool          // a 429
	cursorRejected bool          // a 400 parameter_invalid on a request carrying a cursor
	unreachable    bool          // the host cannot be resolved or reached: retried only briefly
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// getJSON sends a GET and returns the answer's body, which is valid JSON.
func (c *Client) getJSON(ctx context.Context, rawURL string) ([]byte, error) {
	return c.do(ctx, http.MethodGet, rawURL, nil)
}

// postJSON sends a POST with a JSON body and returns the answer's body.
func (c *Client) postJSON(ctx context.Context, rawURL string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, http.MethodPost, rawURL, b)
}

// maxCursorRejections bounds the attempts at a page whose cursor the API refuses with 400
// parameter_invalid. The real API sometimes refuses a cursor it issued and takes it on a later attempt; a
// cursor refused this many times is taken as really invalid (expired, say) and the request fails with
// ErrCursorRejected, rather than the listing starting over and reading every page again.
const maxCursorRejections = 3

// unreachableAttempts bounds the attempts at a host that cannot be resolved, refuses connections or fails
// the TLS handshake: a short retry covers a resolver or a proxy that is restarting, not a mistyped
// --base-url, a region without DNS or a firewall, which would otherwise take MaxRetryTime to report.
const unreachableAttempts = 3

// errRetryWindowClosed: a retry had to wait for the rate limiter past the request's MaxRetryTime.
var errRetryWindowClosed = errors.New("the retry time ran out while waiting for the rate limit")

// do sends a request until it succeeds, fails for good, or runs out of attempts or time. Retried: 429
// (after the window resets, or with backoff when the answer does not say when), 5xx, 408, 409, cut
// connections, timeouts, truncated or invalid JSON bodies, and a cursor the API refuses (at most
// maxCursorRejections times). Other 4xx fail at once with the API's code and message.
//
// MaxAttempts and MaxRetryTime both bound the retries: a request that keeps failing ends within
// MaxRetryTime plus one RequestTimeout, waits for the rate limiter included.
func (c *Client) do(ctx context.Context, method, rawURL string, body []byte) ([]byte, error) {
	started := time.Now()
	deadline := started.Add(c.cfg.MaxRetryTime)
	var lastErr error
	cursorRejections := 0
	for attempt := 1; ; attempt++ {
		notAfter := time.Time{} // the first attempt may wait for the rate limit as long as it takes
		if attempt > 1 {
			c.retries.Add(1)
			notAfter = deadline
		}
		data, err := c.attempt(ctx, method, rawURL, body, attempt, notAfter)
		if err == nil {
			return data, nil
		}
		if errors.Is(err, errRetryWindowClosed) {
			return nil, c.exhausted(method, rawURL, attempt-1, started, lastErr)
		}
		var retry *retryable
		if !errors.As(err, &retry) || ctx.Err() != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		lastErr = retry.err
		if retry.cursorRejected {
			if cursorRejections++; cursorRejections >= maxCursorRejections {
				return nil, fmt.Errorf("%s %s: %w %d times: %w; the listing cannot go on from this page: run the export again",
					method, redactURL(rawURL), ErrCursorRejected, cursorRejections, lastErr)
			}
		}
		if retry.unreachable && attempt >= min(unreachableAttempts, c.cfg.MaxAttempts) {
			return nil, fmt.Errorf("%w after %d attempts: check --region or --base-url, and this machine's DNS, proxy and firewall", lastErr, attempt)
		}
		if attempt >= c.cfg.MaxAttempts || time.Since(started) >= c.cfg.MaxRetryTime {
			return nil, c.exhausted(method, rawURL, attempt, started, lastErr)
		}
		wait := retry.wait
		switch {
		case wait == 0:
			wait = c.backoff(attempt)
			if retry.rateLimited {
				// A 429 that does not say until when is about the client, not this request: every
				// worker holds off, or the others keep the storm going.
				c.limiter.pause(time.Now().Add(wait))
			}
		default:
			wait += jitter(wait/10 + 50*time.Millisecond)
		}
		if remaining := time.Until(deadline); wait > remaining {
			wait = remaining
		}
		c.logRetry(method, rawURL, attempt, wait, lastErr)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// logRetry logs a retry's cause: the first of each kind at info level, so that a run slowed by an
// unreachable proxy or a failing API says so at the default level, the others at debug.
func (c *Client) logRetry(method, rawURL string, attempt int, wait time.Duration, cause error) {
	kind := failureKind(cause)
	ev := c.log.Debug()
	if _, seen := c.retryKinds.LoadOrStore(kind, true); !seen {
		ev = c.log.Info()
	}
	ev.Str("method", method).Str("url", redactURL(rawURL)).Int("attempt", attempt).Str("kind", kind).
		Int64("wait_ms", wait.Milliseconds()).Err(cause).Msg("retrying a failed request (first of its kind; the others at debug level)")
}

// failureKind names the kind of a retried failure, for logRetry.
func failureKind(err error) string {
	var api *APIError
	var netErr net.Error
	switch {
	case errors.As(err, &api):
		return "HTTP " + strconv.Itoa(api.Status)
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection cut"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "not valid JSON"):
		return "invalid answer"
	}
	return "network error"
}

// unreachableCause says why a failed connection cannot be fixed by retrying: the host name does not
// resolve, nothing listens, or the TLS handshake fails (a certificate the system does not trust, a
// proxy intercepting TLS, an http server on an https URL). Empty for every other failure.
func unreachableCause(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var headerErr tls.RecordHeaderError
	var authority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &certErr), errors.As(err, &authority), errors.As(err, &hostname), errors.As(err, &invalid):
		return "TLS certificate not accepted"
	case errors.As(err, &headerErr):
		return "TLS handshake failed"
	}
	return ""
}

func (c *Client) exhausted(method, rawURL string, attempts int, started time.Time, lastErr error) error {
	return fmt.Errorf("%s %s: %w after %d attempts in %s (limits: --max-attempts %d, --max-retry-time %s): %w",
		method, redactURL(rawURL), ErrRetriesExhausted, attempts, time.Since(started).Round(time.Millisecond),
		c.cfg.MaxAttempts, c.cfg.MaxRetryTime, lastErr)
}

// backoff is capped exponential backoff with full jitter: it spreads retries of many workers apart.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.RetryBaseDelay << min(attempt-1, 20)
	if d > c.cfg.RetryMaxDelay || d <= 0 {
		d = c.cfg.RetryMaxDelay
	}
	return d/2 + jitter(d/2)
}

// attempt sends the request once. It waits for the rate limiter first, giving up at notAfter when that
// is set. Every attempt is logged at debug level, without query string, headers or token.
func (c *Client) attempt(ctx context.Context, method, rawURL string, body []byte, n int, notAfter time.Time) (data []byte, err error) {
	lctx := ctx
	if !notAfter.IsZero() {
		var cancel context.CancelFunc
		lctx, cancel = context.WithDeadline(ctx, notAfter)
		defer cancel()
	}
	if err := c.limiter.acquire(lctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errRetryWindowClosed
	}
	var answered http.Header
	defer func() { c.limiter.release(answered) }()

	actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, rawURL, reader)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+string(c.cfg.Token))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Intercom-Version", c.cfg.APIVersion)
	req.Header.Set("User-Agent", "intercom-export")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.calls.Add(1)
	sent, status := time.Now(), 0
	defer func() {
		if ev := c.log.Debug(); ev.Enabled() {
			ev.Str("method", method).Str("url", redactURL(rawURL)).Int("attempt", n).Int64("duration_ms", time.Since(sent).Milliseconds())
			if status != 0 {
				ev.Int("status", status)
			}
			ev.Err(err).Msg("request")
		}
	}()
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		cause := scrubURLError(err)
		if why := unreachableCause(cause); why != "" {
			u, _ := url.Parse(rawURL)
			return nil, &retryable{unreachable: true, err: fmt.Errorf("%s %s: %w at %s (%s): %w",
				method, redactURL(rawURL), ErrUnreachable, u.Host, why, cause)}
		}
		// Cut connections, resets and per-attempt timeouts are all worth another attempt.
		return nil, &retryable{err: fmt.Errorf("%s %s: %w", method, redactURL(rawURL), c.timeoutError(actx, cause))}
	}
	defer resp.Body.Close()
	answered, status = resp.Header, resp.StatusCode
	data, readErr := io.ReadAll(resp.Body)

	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		c.rateLimited.Add(1)
		now := time.Now()
		wait := waitFor429(resp.Header, now)
		if wait > 0 {
			c.limiter.exhausted(now.Add(wait))
		}
		return nil, &retryable{err: apiError(resp, data), wait: wait, rateLimited: true}
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusConflict:
		return nil, &retryable{err: apiError(resp, data)}
	case resp.StatusCode >= 300:
		e := apiError(resp, data)
		if e.Status == http.StatusBadRequest && e.Code == "parameter_invalid" && carriesCursor(rawURL, body) {
			return nil, &retryable{err: e, cursorRejected: true}
		}
		return nil, e
	}
	if readErr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &retryable{err: fmt.Errorf("%s %s: reading the answer: %w", method, redactURL(rawURL), c.timeoutError(actx, scrubURLError(readErr)))}
	}
	if !json.Valid(data) {
		return nil, &retryable{err: fmt.Errorf("%s %s: the answer is not valid JSON (%d bytes, truncated or corrupt)", method, redactURL(rawURL), len(data))}
	}
	c.limiter.observe(time.Since(sent))
	return data, nil
}

// timeoutError says which limit a timed-out attempt hit, so that a run ending on it names the flag.
func (c *Client) timeoutError(actx context.Context, err error) error {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no complete answer within the request timeout of %s (--request-timeout): %w", c.cfg.RequestTimeout, err)
	}
	return err
}

// carriesCursor reports whether a request asks for the page after a starting_after cursor: in the query
// of a list, or in the pagination of a search's body.
func carriesCursor(rawURL string, body []byte) bool {
	if u, err := url.Parse(rawURL); err == nil && u.Query().Get("starting_after") != "" {
		return true
	}
	if body == nil {
		return false
	}
	var search struct {
		Pagination struct {
			StartingAfter string `json:"starting_after"`
		} `json:"pagination"`
	}
	return json.Unmarshal(body, &search) == nil && search.Pagination.StartingAfter != ""
}

// apiError reads Intercom's error envelope, falling back to the status line for non-JSON answers.
func apiError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode}
	var env struct {
		RequestID string `json:"request_id"`
		Errors    []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Errors) > 0 {
		e.Code, e.Message, e.RequestID = env.Errors[0].Code, env.Errors[0].Message, env.RequestID
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// redactURL drops the query string: it can carry cursors that are long and uninteresting in logs.
func redactURL(raw string) string {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		return raw[:i]
	}
	return raw
}

// scrubURLError keeps the cause of a *url.Error but not its URL, which redactURL already reports.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
