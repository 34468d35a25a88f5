// Package webagent is a browser-like HTTP client for tests and probes that
// drive the server-rendered pages: it keeps cookies in a jar of its own,
// follows redirects except to a stop prefix (a relying party's callback,
// which the caller reads instead of following), reads every response
// whole and submits forms read with package webform. The chaos probes and
// the bridge's integration tests both drive the stack through it.
package webagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"github.com/idstack/idstack/internal/webform"
)

// MaxRedirects is how many redirects one request follows before it fails.
const MaxRedirects = 20

// maxBody bounds what one response may hold; the stack's pages are a few
// kilobytes.
const maxBody = 4 << 20

// ErrTooManyRedirects is a request that was redirected more than
// MaxRedirects times.
var ErrTooManyRedirects = errors.New("too many redirects")

// Agent is one browser: its cookie jar and redirect policy. It is safe for
// concurrent use as far as its http.Client is, but flows that depend on
// their CSRF cookies want one agent each.
type Agent struct {
	// HTTP is the client the agent sends with (its jar and redirect
	// policy set); hand it to code that makes its own requests, such as
	// an OAuth2 code exchange.
	HTTP *http.Client
}

// New returns an agent that sends through a copy of base with a fresh
// cookie jar and stops at a redirect whose URL starts with stopAt (none
// when stopAt is empty): the response holding that redirect is returned,
// its Location unfollowed.
func New(base *http.Client, stopAt string) *Agent {
	jar, _ := cookiejar.New(nil) // never fails without options
	c := *base
	c.Jar = jar
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if stopAt != "" && strings.HasPrefix(req.URL.String(), stopAt) {
			return http.ErrUseLastResponse
		}
		if len(via) > MaxRedirects {
			return ErrTooManyRedirects
		}
		return nil
	}
	return &Agent{HTTP: &c}
}

// Page is a response read whole. Resp's body is drained and closed;
// Resp.Request is the last request of the redirect chain.
type Page struct {
	Resp *http.Response
	Text string
}

// URL is where the agent ended.
func (p Page) URL() *url.URL { return p.Resp.Request.URL }

// Status is the final response's status code.
func (p Page) Status() int { return p.Resp.StatusCode }

// Location is the redirect the agent stopped at, "" when it stopped at
// none.
func (p Page) Location() string { return p.Resp.Header.Get("Location") }

// RequestID is the id the server gave the response (X-Request-Id), which
// its logs repeat; "" when it gave none.
func (p Page) RequestID() string { return p.Resp.Header.Get("X-Request-Id") }

// Describe names the page for an error message: status, path and the
// server's request id.
func (p Page) Describe() string {
	s := fmt.Sprintf("%d at %s", p.Status(), p.URL().Path)
	if id := p.RequestID(); id != "" {
		s += ", request " + id
	}
	return s
}

// Do sends req and reads the answer whole.
func (a *Agent) Do(req *http.Request) (Page, error) {
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return Page{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Page{}, fmt.Errorf("%s %s: read: %w", req.Method, req.URL.Redacted(), err)
	}
	return Page{Resp: resp, Text: string(b)}, nil
}

// Get loads u.
func (a *Agent) Get(ctx context.Context, u string) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Page{}, err
	}
	return a.Do(req)
}

// PostForm posts fields to u, form-encoded.
func (a *Agent) PostForm(ctx context.Context, u string, fields url.Values) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(fields.Encode()))
	if err != nil {
		return Page{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.Do(req)
}

// Submit posts f as the browser would from the page at base: its action
// resolved against base.
func (a *Agent) Submit(ctx context.Context, base *url.URL, f webform.Form) (Page, error) {
	target, err := base.Parse(f.Action)
	if err != nil {
		return Page{}, fmt.Errorf("form action %q: %w", f.Action, err)
	}
	return a.PostForm(ctx, target.String(), f.Fields)
}
