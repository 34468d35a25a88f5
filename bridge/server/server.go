// Package server is the bridge's HTTP server: it renders Kratos' browser
// flows from their UI nodes, handles Hydra's consent and logout, and serves
// health and metrics. Pages use html/template and one embedded stylesheet:
// no script, nothing from the internet.
package server

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/idstack/idstack/bridge"
)

// Routes.
const (
	PathHome         = "/"
	PathLogin        = "/login"
	PathRegistration = "/registration"
	PathRecovery     = "/recovery"
	PathVerification = "/verification"
	PathSettings     = "/settings"
	PathError        = "/error"
	PathConsent      = "/consent"
	PathLogout       = "/logout"
	PathLoggedOut    = "/logged-out"
	PathAlive        = "/health/alive"
	PathReady        = "/health/ready"
	PathStatic       = "/static/"
)

// Config is the server's configuration.
type Config struct {
	// FirstParty clients skip the consent page.
	FirstParty []string
	// RememberFor is how long Hydra remembers a consent (0: forever).
	RememberFor time.Duration
	// ReturnTo allows return addresses (hosts or *.suffix rules).
	ReturnTo bridge.AllowList
	// FormActions are extra CSP form-action sources (Kratos' and Hydra's
	// public origins).
	FormActions []string
	Claims      bridge.ClaimMapping
	CSRF        bridge.CSRF
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64
	// UpstreamTimeout bounds each call to Kratos or Hydra.
	UpstreamTimeout time.Duration
	// TLS: the bridge is served over HTTPS (HSTS, Secure cookies: it sets
	// CSRF.Secure).
	TLS bool
	// Metrics, when set, are served at PathMetrics and record every request.
	Metrics *Metrics
}

// Server serves the bridge.
type Server struct {
	cfg     Config
	kratos  bridge.Kratos
	hydra   bridge.Hydra
	log     *slog.Logger
	tmpl    *template.Template
	mux     *http.ServeMux
	handler http.Handler
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns a Server.
func New(cfg Config, k bridge.Kratos, h bridge.Hydra, log *slog.Logger) (*Server, error) {
	tmpl, err := template.New("").Funcs(template.FuncMap{"t": translate, "imageSrc": imageSrc}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.TLS {
		cfg.CSRF.Secure = true
	}
	s := &Server{cfg: cfg, kratos: k, hydra: h, log: log, tmpl: tmpl, mux: http.NewServeMux()}
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET "+PathStatic, http.StripPrefix(PathStatic, http.FileServerFS(static)))
	s.mux.HandleFunc("GET "+PathAlive, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET "+PathReady, s.handleReady)
	for kind, path := range flowPaths {
		s.mux.HandleFunc("GET "+path, s.flowHandler(kind))
	}
	s.mux.HandleFunc("GET "+PathError, s.handleError)
	s.mux.HandleFunc("GET "+PathConsent, s.handleConsent)
	s.mux.HandleFunc("POST "+PathConsent, s.handleConsentSubmit)
	s.mux.HandleFunc("GET "+PathLogout, s.handleLogout)
	s.mux.HandleFunc("POST "+PathLogout, s.handleLogoutSubmit)
	s.mux.HandleFunc("GET "+PathLoggedOut, s.handleLoggedOut)
	s.mux.HandleFunc("GET "+PathHome+"{$}", s.handleHome)
	s.handler = s.mux
	if cfg.Metrics != nil {
		s.mux.Handle("GET "+PathMetrics, cfg.Metrics.Handler())
		s.handler = cfg.Metrics.instrument(s.mux, s.mux)
	}
	return s, nil
}

var flowPaths = map[bridge.FlowKind]string{
	bridge.FlowLogin: PathLogin, bridge.FlowRegistration: PathRegistration, bridge.FlowRecovery: PathRecovery,
	bridge.FlowVerification: PathVerification, bridge.FlowSettings: PathSettings,
}

// ServeHTTP implements http.Handler with the security headers every
// response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", s.csp(nil))
	if s.cfg.TLS {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	s.handler.ServeHTTP(w, r)
}

// csp allows forms to post to the bridge and the configured origins, and to
// be redirected on to extra origins (a client's redirect URIs).
func (s *Server) csp(extra []string) string {
	actions := append([]string{"'self'"}, s.cfg.FormActions...)
	for _, u := range extra {
		if o := origin(u); o != "" && !slices.Contains(actions, o) {
			actions = append(actions, o)
		}
	}
	return "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action " + strings.Join(actions, " ") +
		"; frame-ancestors 'none'; base-uri 'none'"
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// dataImage is a base64 PNG, JPEG or GIF data URL: how Kratos sends the
// TOTP QR code (img-src in the CSP allows data:).
var dataImage = regexp.MustCompile(`^data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/]+={0,2}$`)

// imageSrc lets an img node's data URL through html/template, which
// replaces every data: URL with "#ZgotmplZ"; any other source is left to
// the template's own URL filter.
func imageSrc(src string) any {
	if dataImage.MatchString(src) {
		return template.URL(src)
	}
	return src
}

// upstream bounds a call to Kratos or Hydra.
func (s *Server) upstream(r *http.Request) (context.Context, context.CancelFunc) {
	t := s.cfg.UpstreamTimeout
	if t == 0 {
		t = 10 * time.Second
	}
	return context.WithTimeout(r.Context(), t)
}

// page is what every template gets.
type page struct {
	Lang    string
	Title   string
	Flow    *bridge.Flow
	Groups  []nodeGroup
	Consent *bridge.ConsentRequest
	Logout  *bridge.LogoutRequest
	CSRF    string
	Session *bridge.Session
	Error   string
	// KratosError is the Kratos error the error page shows.
	KratosError *bridge.FlowError
	Links       map[string]string
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Lang = language(r.Header.Get("Accept-Language"))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.tmpl.ExecuteTemplate(w, name, p); err != nil {
		s.log.Error("render", "template", name, "err", err)
	}
}

// fail renders an error page; the message never carries upstream details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msgKey string, err error) {
	if err != nil {
		s.log.Warn("request failed", "request_id", RequestID(r.Context()), "path", r.URL.Path, "status", status, "err", err)
	}
	s.render(w, r, status, "error.html", page{Title: "error_title", Error: msgKey})
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request's id, which the server's
// log lines repeat.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, bridge.ErrBadChallenge), errors.Is(err, bridge.ErrBadFlowID), errors.Is(err, bridge.ErrBadReturnTo):
		return http.StatusBadRequest
	case errors.Is(err, bridge.ErrUnknownChallenge), errors.Is(err, bridge.ErrFlowGone):
		return http.StatusNotFound
	case errors.Is(err, bridge.ErrCSRF):
		return http.StatusForbidden
	}
	return http.StatusBadGateway
}
