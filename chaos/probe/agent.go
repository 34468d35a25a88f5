package probe

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

// agent is a browser-like HTTP client: a fresh cookie jar, redirects
// followed except to stopAt, forms read from the page.
type agent struct {
	c      *http.Client
	stopAt string
}

func newAgent(base *http.Client, stopAt string) *agent {
	jar, _ := cookiejar.New(nil)
	c := *base
	c.Jar = jar
	a := &agent{stopAt: stopAt}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if stopAt != "" && strings.HasPrefix(req.URL.String(), stopAt) {
			return http.ErrUseLastResponse
		}
		if len(via) > 20 {
			return errors.New("more than 20 redirects")
		}
		return nil
	}
	a.c = &c
	return a
}

// page is a response read whole: where it ended, its status, its body.
type page struct {
	url      *url.URL
	status   int
	location string // the Location of a redirect the agent stopped at
	body     string
}

func (a *agent) do(req *http.Request) (page, error) {
	resp, err := a.c.Do(req)
	if err != nil {
		return page{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return page{}, fmt.Errorf("%s %s: read: %w", req.Method, req.URL.Redacted(), err)
	}
	return page{url: resp.Request.URL, status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}, nil
}

func (a *agent) get(ctx context.Context, u string) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return page{}, err
	}
	return a.do(req)
}

func (a *agent) post(ctx context.Context, base *url.URL, f webform.Form) (page, error) {
	target, err := base.Parse(f.Action)
	if err != nil {
		return page{}, fmt.Errorf("form action %q: %w", f.Action, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(f.Fields.Encode()))
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(req)
}

// formWith returns the first form on the page that has an input named
// field.
func formWith(body, field string) (webform.Form, error) { return webform.With(body, field) }
