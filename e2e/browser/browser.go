// Package browser runs one headless Chromium per run and hands out fresh,
// isolated browser contexts (one per flow: no cookie leaks between flows).
// A Session records what a person would notice: every step's time, the
// documents each step went through (redirects included) and what each page
// loaded; on failure it saves a screenshot, the page's HTML and the console
// log.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ErrNoChromium is returned when no Chromium binary can be found.
var ErrNoChromium = errors.New("no chromium binary (install Debian's chromium package: make tools)")

// Options configure the browser.
type Options struct {
	// ExecPath is the Chromium binary; empty looks for chromium,
	// chromium-browser and google-chrome on PATH.
	ExecPath string
	// HostRules maps host names to addresses (--host-resolver-rules), e.g.
	// "MAP *.idstack.test 127.0.0.1".
	HostRules string
	// ResultsDir receives the artefacts of failed flows; empty keeps none.
	ResultsDir string
	// Lang is the Accept-Language the browser sends (default "en-US").
	Lang string
}

// Browser is one running Chromium.
type Browser struct {
	opts    Options
	ctx     context.Context // the browser's own context (first tab)
	cancel  context.CancelFunc
	flowSeq atomic.Int64
}

// FindChromium returns the path of a Chromium binary.
func FindChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Launch starts Chromium headless with flags that work as root and with no
// internet: no sandbox (root), no GPU, no background or component
// networking, no QUIC, no sync. The browser stops when parent is done or
// Close is called.
func Launch(parent context.Context, o Options) (*Browser, error) {
	if o.ExecPath == "" {
		p, err := FindChromium()
		if err != nil {
			return nil, err
		}
		o.ExecPath = p
	}
	if o.Lang == "" {
		o.Lang = "en-US"
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(o.ExecPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider"),
		chromedp.Flag("lang", o.Lang),
		chromedp.WindowSize(1024, 768),
	)
	if o.HostRules != "" {
		opts = append(opts, chromedp.Flag("host-resolver-rules", o.HostRules))
	}
	actx, acancel := chromedp.NewExecAllocator(parent, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// The first Run starts the browser.
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		return nil, fmt.Errorf("start chromium %s: %w", o.ExecPath, err)
	}
	if o.ResultsDir != "" {
		if err := os.MkdirAll(o.ResultsDir, 0o755); err != nil {
			bcancel()
			acancel()
			return nil, err
		}
	}
	return &Browser{opts: o, ctx: bctx, cancel: func() { bcancel(); acancel() }}, nil
}

// Close stops the browser.
func (b *Browser) Close() { b.cancel() }

// Hop is one document the browser requested: a page or a redirect.
type Hop struct {
	URL    string        `json:"url"`
	Status int64         `json:"status,omitempty"` // the redirect's status; 0 for the final page
	At     time.Duration `json:"at"`               // since the session started
}

// Step is one thing a person does: open a page, submit a form.
type Step struct {
	Name string        `json:"name"`
	Took time.Duration `json:"took"`
	Hops []Hop         `json:"hops,omitempty"`
	// Subresources counts what the step's pages loaded besides documents,
	// by type (Stylesheet, Script, Font, Image, ...).
	Subresources map[string]int `json:"subresources,omitempty"`
}

// Session is one isolated browser context: its own cookies and storage.
type Session struct {
	b      *Browser
	name   string
	flow   context.Context // bounds every call the flow makes
	ctx    context.Context // the tab's own context: lives until Close
	cancel context.CancelFunc
	start  time.Time

	mu      sync.Mutex
	steps   []Step
	hops    []Hop
	subres  map[string]int
	console []string
	// failStep ends the running step early, with the cause, when a page
	// answers with a server error (see listen).
	failStep context.CancelCauseFunc
}

// ErrServerError is the cause of a step that ended because a page it
// loaded answered 5xx: waiting for the page it expected would only run
// into the flow's deadline.
var ErrServerError = errors.New("server error")

// serverErrorGrace is how long a step still waits after a page answered
// 5xx, before it ends with ErrServerError.
const serverErrorGrace = 2 * time.Second

// NewSession opens a fresh browser context with one tab. name labels its
// artefacts. ctx bounds everything the session does.
func (b *Browser) NewSession(ctx context.Context, name string) (*Session, error) {
	s := &Session{b: b, name: name, flow: ctx, start: time.Now(), subres: map[string]int{}}
	// The tab outlives the flow's deadline, so that a failed flow's page
	// can still be saved; Close disposes of it.
	s.ctx, s.cancel = chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(s.listen))
	// The first run on the tab's own context allocates the tab: a derived
	// context would close it when cancelled.
	// ctx still bounds it: when ctx ends first, the tab is closed.
	stop := context.AfterFunc(ctx, s.cancel)
	err := chromedp.Do(s.ctx)
	stop()
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("open a browser context: %w", err)
	}
	return s, nil
}

// Close disposes of the browser context.
func (s *Session) Close() { s.cancel() }

// call returns a context for one call on the tab, done when the flow's
// context is. Cancelling it does not close the tab.
func (s *Session) call() (context.Context, context.CancelFunc) {
	var ctx context.Context
	var cancel context.CancelFunc
	if d, ok := s.flow.Deadline(); ok {
		ctx, cancel = context.WithDeadline(s.ctx, d)
	} else {
		ctx, cancel = context.WithCancel(s.ctx)
	}
	stop := context.AfterFunc(s.flow, cancel)
	return ctx, func() { stop(); cancel() }
}

// Read runs one action that returns a value (a text, an attribute) on the
// session's tab, within the flow's deadline.
func Read[T any](s *Session, a chromedp.Action[T]) (T, error) {
	ctx, cancel := s.call()
	defer cancel()
	return chromedp.Run(ctx, a)
}

// listen records documents, subresources and console messages. It runs on
// chromedp's reader goroutine and must return fast.
func (s *Session) listen(ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		s.mu.Lock()
		defer s.mu.Unlock()
		if e.Type == network.ResourceTypeDocument {
			if e.RedirectResponse != nil && len(s.hops) > 0 {
				s.hops[len(s.hops)-1].Status = e.RedirectResponse.Status
			}
			s.hops = append(s.hops, Hop{URL: e.Request.URL, At: time.Since(s.start)})
		} else if e.Type != "" {
			s.subres[string(e.Type)]++
		}
	case *network.EventResponseReceived:
		if e.Type == network.ResourceTypeDocument && e.Response != nil && e.Response.Status >= 500 {
			s.mu.Lock()
			defer s.mu.Unlock()
			if fail := s.failStep; fail != nil {
				// A grace, so that a page the step waits for (an app's
				// error page, say) still ends it the usual way.
				cause := fmt.Errorf("%w: HTTP %d at %s", ErrServerError, e.Response.Status, e.Response.URL)
				time.AfterFunc(serverErrorGrace, func() { fail(cause) })
			}
		}
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		s.addConsole(string(e.Type) + ": " + strings.Join(parts, " "))
	case *runtime.EventExceptionThrown:
		s.addConsole("exception: " + e.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		s.addConsole(string(e.Entry.Level) + ": " + e.Entry.Text + " " + e.Entry.URL)
	}
}

func (s *Session) addConsole(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.console) < 500 {
		s.console = append(s.console, line)
	}
}

// Step runs actions as one named step and records its time, the documents
// it went through and what their pages loaded.
func (s *Session) Step(name string, actions ...chromedp.Action[chromedp.Void]) error {
	call, cancel := s.call()
	defer cancel()
	ctx, failStep := context.WithCancelCause(call)
	defer failStep(nil)
	s.mu.Lock()
	firstHop := len(s.hops)
	s.subres = map[string]int{}
	s.failStep = failStep
	s.mu.Unlock()
	start := time.Now()
	err := chromedp.Do(ctx, actions...)
	took := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStep = nil
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, ErrServerError) {
		err = cause
	}
	st := Step{Name: name, Took: took, Hops: append([]Hop(nil), s.hops[firstHop:]...), Subresources: s.subres}
	s.steps = append(s.steps, st)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Steps returns the steps so far.
func (s *Session) Steps() []Step {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Step(nil), s.steps...)
}

// Location is the tab's current URL ("" when it cannot be read).
func (s *Session) Location() string {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// SaveArtefacts writes a screenshot, the page's HTML, the console log and
// the steps under the results directory and returns that directory ("" when
// the browser keeps no results). It uses its own short deadline, so it works
// after the flow's context has expired.
func (s *Session) SaveArtefacts(reason error) string {
	if s.b.opts.ResultsDir == "" {
		return ""
	}
	dir := filepath.Join(s.b.opts.ResultsDir, fmt.Sprintf("%03d-%s", s.b.flowSeq.Add(1), safeName.ReplaceAllString(s.name, "-")))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ""
	}
	// The tab's context may be done; talk to the target through a fresh
	// deadline derived from the browser.
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(dir, "screenshot.png"), png, 0o644)
	}
	if page, err := chromedp.Run(ctx, chromedp.OuterHTML("html")); err == nil {
		os.WriteFile(filepath.Join(dir, "page.html"), []byte(page), 0o644)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "flow: %s\nerror: %v\nlocation: %s\n\nsteps:\n", s.name, reason, s.Location())
	for _, st := range s.Steps() {
		fmt.Fprintf(&b, "  %-12s %8s\n", st.Name, st.Took.Round(time.Millisecond))
		for _, h := range st.Hops {
			fmt.Fprintf(&b, "    %8s %3d %s\n", h.At.Round(time.Millisecond), h.Status, h.URL)
		}
	}
	s.mu.Lock()
	fmt.Fprintf(&b, "\nconsole (%d lines):\n%s\n", len(s.console), strings.Join(s.console, "\n"))
	s.mu.Unlock()
	os.WriteFile(filepath.Join(dir, "report.txt"), []byte(b.String()), 0o644)
	return dir
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
