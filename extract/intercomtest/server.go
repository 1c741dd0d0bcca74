package intercomtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server. The zero value serves without faults, latency or a tight rate limit.
type Options struct {
	Token      string        // bearer token required on every request; default "test-token"
	RateLimit  int           // requests allowed per window; 0 means 10000
	RateWindow time.Duration // default 10s
	Latency    time.Duration // added to every response
	Faults     Faults
	Now        func() time.Time // clock of the rate-limit windows; default time.Now

	// AuthError, when set, answers requests with that authentication error whatever their token:
	// unauthorized, token_revoked, token_expired or token_not_found (401), api_plan_restricted or
	// forbidden (403). The first AuthErrorAfter requests are served normally first, as when a token is
	// revoked during a run.
	AuthError      string
	AuthErrorAfter int

	// DeletedStatus, when set, is what GET /conversations/deleted answers, with Intercom's error body:
	// 404 (an app or workspace without the endpoint), 403 (an app without the permission), 405 or
	// another status, to see a run go on without the optional endpoint.
	DeletedStatus int
	// AdminsStatus and TeamsStatus, when set, are what GET /admins and GET /teams answer instead of the
	// lists (403: an app without the "Read admins" permission), to see a run go on without them.
	AdminsStatus, TeamsStatus int

	// Corrupt maps conversation ids to the body GET /conversations/{id} answers for them instead of
	// the conversation: valid JSON that breaks the model, to see bad data set aside and the rest go on.
	Corrupt map[string]string
}

// Stats counts what the server did. Endpoint counters count requests that reached the endpoint:
// requests refused (auth, rate limit, bad headers) or faulted count only in Requests and their own
// counter.
type Stats struct {
	Requests         int64 // every request received
	ListRequests     int64 // GET /conversations
	SearchRequests   int64 // POST /conversations/search
	RetrieveRequests int64 // GET /conversations/{id}, found or not
	DeletedRequests  int64 // GET /conversations/deleted
	AdminsRequests   int64 // GET /admins
	TeamsRequests    int64 // GET /teams
	RateLimited      int64 // answered 429
	Faults           int64 // answered with an injected fault (FaultCounts by kind)
	FaultCounts      FaultCounts
	AuthErrors       int64          // answered 401 or 403
	NotFound         int64          // answered 404
	Retrieved        map[string]int // successful retrievals per conversation id
}

// Server is a fake Intercom API on 127.0.0.1 serving a Workspace.
type Server struct {
	URL string // base URL, e.g. http://127.0.0.1:51234, without a trailing slash

	ts      *httptest.Server
	ws      *Workspace
	opts    Options
	limiter *limiter
	faults  *faultDrawer
	reqSeq  atomic.Int64

	mu    sync.Mutex
	stats Stats
}

// DefaultToken is the bearer token a Server accepts when Options.Token is empty.
const DefaultToken = "test-token"

// NewServer starts a server for ws. The caller must Close it.
func NewServer(ws *Workspace, opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 10000
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	checkAuthError(opts.AuthError)
	s := &Server{
		ws:      ws,
		opts:    opts,
		limiter: &limiter{limit: opts.RateLimit, window: opts.RateWindow, now: opts.Now, current: -1},
		faults:  newFaultDrawer(opts.Faults),
		stats:   Stats{Retrieved: map[string]int{}},
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down, blocking until outstanding requests have completed.
func (s *Server) Close() { s.ts.Close() }

// Client returns an HTTP client configured for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Retrieved = maps.Clone(s.stats.Retrieved)
	return st
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{Retrieved: map[string]int{}}
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var seq int64
	s.count(func(st *Stats) { st.Requests++; seq = st.Requests })
	if d := s.opts.Latency; d > 0 && !holdBack(r, d) {
		return
	}

	if code := s.opts.AuthError; code != "" && seq > int64(s.opts.AuthErrorAfter) {
		s.count(func(st *Stats) { st.AuthErrors++ })
		e := authErrors[code]
		s.writeError(w, e.status, code, e.message)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.opts.Token {
		s.count(func(st *Stats) { st.AuthErrors++ })
		s.writeError(w, http.StatusUnauthorized, "unauthorized", "Access Token Invalid")
		return
	}
	allowed, rateHeaders := s.limiter.take()
	for k, v := range rateHeaders {
		w.Header()[k] = v
	}
	if !allowed {
		s.count(func(st *Stats) { st.RateLimited++ })
		s.writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", s.limiter.message())
		return
	}

	f := s.faults.draw(requestCursor(r))
	switch f.kind {
	case faultServerError, faultBurst:
		s.count(func(st *Stats) {
			st.Faults++
			if f.kind == faultBurst {
				st.FaultCounts.Bursts++
			} else {
				st.FaultCounts.ServerErrors++
			}
		})
		code, msg := "server_error", "Server Error"
		if f.status == http.StatusServiceUnavailable {
			code, msg = "service_unavailable", "Sorry, the API service is temporarily unavailable"
		}
		s.writeError(w, f.status, code, msg)
		return
	case faultCut:
		s.count(func(st *Stats) { st.Faults++; st.FaultCounts.Cuts++ })
		cutConnection(w, nil)
		return
	case faultStorm:
		s.count(func(st *Stats) { st.Faults++; st.FaultCounts.Storms++; st.RateLimited++ })
		if s.opts.Faults.StormWithoutHeaders {
			for k := range rateHeaders {
				w.Header().Del(k)
			}
		} else {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("Retry-After", strconv.FormatInt(retryAfter(rateHeaders, s.opts.Now()), 10))
		}
		s.writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", s.limiter.message())
		return
	case faultSlow:
		s.count(func(st *Stats) { st.Faults++; st.FaultCounts.Slow++ })
		if !holdBack(r, s.faults.f.SlowDelay) {
			return
		}
	case faultInvalidJSON:
		s.count(func(st *Stats) { st.Faults++; st.FaultCounts.InvalidJSON++ })
		b := invalidBodies[f.variant]
		w.Header().Set("Content-Type", b.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(b.body)))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, b.body)
		return
	case faultRejectCursor:
		s.count(func(st *Stats) { st.Faults++; st.FaultCounts.RejectedCursors++ })
		s.badParameter(w, errBadCursor.Error())
		return
	}

	// The answer is recorded first so that the counters are up to date before the client has it.
	rec := httptest.NewRecorder()
	for k, v := range rateHeaders {
		rec.Header()[k] = v
	}
	out := s.handle(rec, r)
	if f.kind == faultTruncate {
		s.count(func(st *Stats) { st.Faults++; st.FaultCounts.Truncations++ })
		cutConnection(w, rec) // the client never gets all of it: not counted as served
		return
	}
	s.record(out)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// retryAfter is the whole seconds until the window's reset, at least 1, for a storm's Retry-After.
func retryAfter(rateHeaders http.Header, now time.Time) int64 {
	reset, err := strconv.ParseInt(rateHeaders.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return 1
	}
	return max(reset-now.Unix(), 1)
}

// record counts a request that reached handle and whose answer the client gets.
func (s *Server) record(out outcome) {
	s.count(func(st *Stats) {
		switch out.endpoint {
		case endpointList:
			st.ListRequests++
		case endpointSearch:
			st.SearchRequests++
		case endpointRetrieve:
			st.RetrieveRequests++
		case endpointDeleted:
			st.DeletedRequests++
		case endpointAdmins:
			st.AdminsRequests++
		case endpointTeams:
			st.TeamsRequests++
		}
		if out.status == http.StatusNotFound {
			st.NotFound++
		}
		if out.retrieved != "" {
			st.Retrieved[out.retrieved]++
		}
	})
}

type endpoint int

const (
	endpointNone endpoint = iota
	endpointList
	endpointSearch
	endpointRetrieve
	endpointDeleted
	endpointAdmins
	endpointTeams
)

// outcome is what handle did, for the counters.
type outcome struct {
	endpoint  endpoint
	status    int
	retrieved string // id of a conversation returned by GET /conversations/{id}
}

// handle checks the Accept and Intercom-Version headers and routes an authenticated request.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) outcome {
	if !acceptsJSON(r.Header.Values("Accept")) {
		return outcome{status: s.writeError(w, http.StatusNotAcceptable, "media_type_not_acceptable",
			"The Accept header should send application/json")}
	}
	vs := r.Header.Get("Intercom-Version")
	if vs == "" {
		vs = defaultVersion
	}
	v, ok := parseVersion(vs)
	if !ok {
		return outcome{status: s.writeError(w, http.StatusBadRequest, "intercom_version_invalid",
			fmt.Sprintf("The Intercom-Version header has an unsupported value %q", vs))}
	}

	path := r.URL.Path
	switch {
	case path == "/me" && r.Method == http.MethodGet:
		return outcome{status: s.writeJSON(w, http.StatusOK, me)}
	case path == "/admins" && r.Method == http.MethodGet:
		return outcome{endpoint: endpointAdmins, status: s.listAdmins(w, v)}
	case path == "/teams" && r.Method == http.MethodGet:
		return outcome{endpoint: endpointTeams, status: s.listTeams(w, v)}
	case path == "/conversations" && r.Method == http.MethodGet:
		return outcome{endpoint: endpointList, status: s.list(w, r, v)}
	case path == "/conversations/search" && r.Method == http.MethodPost && v.v2():
		return outcome{endpoint: endpointSearch, status: s.search(w, r, v)}
	case path == "/conversations/deleted" && s.opts.DeletedStatus != 0:
		return outcome{endpoint: endpointDeleted, status: s.refuse(w, s.opts.DeletedStatus)}
	case path == "/conversations/deleted" && r.Method == http.MethodGet && v.hasDeleted():
		return outcome{endpoint: endpointDeleted, status: s.deleted(w, r)}
	case strings.HasPrefix(path, "/conversations/") && r.Method == http.MethodGet:
		id := strings.TrimPrefix(path, "/conversations/")
		out := outcome{endpoint: endpointRetrieve, status: s.retrieve(w, id, v)}
		if out.status == http.StatusOK {
			out.retrieved = id
		}
		return out
	}
	return outcome{status: s.notFound(w)}
}

func acceptsJSON(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
				return true
			}
		}
	}
	return false
}

func (s *Server) retrieve(w http.ResponseWriter, id string, v version) int {
	c, ok := s.ws.Conversation(id)
	if !ok {
		return s.notFound(w)
	}
	if body, corrupt := s.opts.Corrupt[id]; corrupt {
		return s.writeJSON(w, http.StatusOK, json.RawMessage(body))
	}
	return s.writeJSON(w, http.StatusOK, renderConversation(c, v, true))
}

// me is the admin every token of the fake acts as, in the shape of GET /me.
var me = map[string]any{
	"type": "admin", "id": "991267460", "name": "Ada Lovelace", "email": "ada@example.com",
	"email_verified": true,
	"app": map[string]any{"type": "app", "id_code": "fake1234", "name": "Fake Workspace", "region": "US",
		"timezone": "Europe/London", "identity_verification": false},
}

// refuse answers an optional endpoint's request with status and Intercom's error body for it.
func (s *Server) refuse(w http.ResponseWriter, st int) int {
	switch st {
	case http.StatusNotFound:
		return s.notFound(w)
	case http.StatusForbidden:
		return s.writeError(w, st, "forbidden", "You do not have permission to access this resource")
	default:
		return s.writeError(w, st, strings.ReplaceAll(strings.ToLower(http.StatusText(st)), " ", "_"), http.StatusText(st))
	}
}

func (s *Server) notFound(w http.ResponseWriter) int {
	return s.writeError(w, http.StatusNotFound, "not_found", "Resource Not Found")
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type errorList struct {
	Type      string     `json:"type"`
	RequestID string     `json:"request_id,omitempty"`
	Errors    []apiError `json:"errors"`
}

// writeError answers with an Intercom error body and returns the status.
func (s *Server) writeError(w http.ResponseWriter, status int, code, message string) int {
	body := errorList{Type: "error.list", Errors: []apiError{{code, message}}}
	// Request ids look like Intercom's (20 base-36 characters, not a UUID) and are sometimes absent.
	if seq := s.reqSeq.Add(1); seq%10 != 0 {
		id := strconv.FormatUint(uint64(seq)*0x9E3779B97F4A7C15, 36)
		body.RequestID = "000" + strings.Repeat("0", max(0, 17-len(id))) + id
	}
	return s.writeJSON(w, status, body)
}

// writeJSON answers with v as JSON and returns the status.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) int {
	b, err := marshalJSON(v)
	if err != nil {
		// Only a bug in this package can get here; say so in the answer rather than hang the client.
		http.Error(w, "intercomtest: "+err.Error(), http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	return status
}

// cutConnection closes the client's connection. With a recorded answer it first sends the answer's
// status and headers, including the full Content-Length, and half its body.
func cutConnection(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // closes the connection too, without logging
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	if rec == nil {
		return
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	rec.Header().Write(&buf)
	buf.WriteString("\r\n")
	body := rec.Body.Bytes()
	buf.Write(body[:len(body)/2])
	conn.Write(buf.Bytes())
}

// limiter counts requests in fixed windows, as Intercom does in 10-second windows.
type limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	current int64 // number of the current window since the Unix epoch
	used    int
}

// take counts a request and reports whether it is within the limit, with the rate-limit headers.
func (l *limiter) take() (bool, http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.now().UnixNano() / int64(l.window)
	if n != l.current {
		l.current, l.used = n, 0
	}
	l.used++
	end := (n + 1) * int64(l.window)
	reset := (end + int64(time.Second) - 1) / int64(time.Second)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(l.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, l.limit-l.used)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	return l.used <= l.limit, h
}

func (l *limiter) message() string {
	return fmt.Sprintf("Exceeded rate limit of %d in %s_seconds", l.limit,
		strconv.FormatFloat(l.window.Seconds(), 'f', -1, 64))
}
