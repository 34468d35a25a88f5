package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Upstream errors handlers map to pages.
var (
	// ErrFlowGone: the flow expired or never existed; restart it.
	ErrFlowGone = errors.New("flow expired or unknown")
	// ErrNoSession: the browser has no Kratos session.
	ErrNoSession = errors.New("no session")
	// ErrAAL2Required: the browser has a session, but Kratos shows it only
	// after a second factor (session.whoami.required_aal is
	// highest_available and the identity has one). It is an ErrNoSession
	// too: nothing of the session may be used.
	ErrAAL2Required = fmt.Errorf("%w: second factor required", ErrNoSession)
	// ErrUnknownChallenge: Hydra does not know the challenge (or it was used).
	ErrUnknownChallenge = errors.New("unknown or used challenge")
)

// StatusError is an upstream's HTTP answer that none of the errors above
// describes. Code tells a transient failure (5xx, 429) from a final one.
type StatusError struct {
	Op   string // what was asked, e.g. "get identity"
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: upstream answered %d %s", e.Op, e.Code, http.StatusText(e.Code))
}

// FlowKind names a Kratos self-service browser flow.
type FlowKind string

// The flows the bridge renders.
const (
	FlowLogin        FlowKind = "login"
	FlowRegistration FlowKind = "registration"
	FlowRecovery     FlowKind = "recovery"
	FlowVerification FlowKind = "verification"
	FlowSettings     FlowKind = "settings"
)

// Flow is a Kratos flow reduced to what a page shows.
type Flow struct {
	ID             string
	Kind           FlowKind
	Action         string // the form's action: Kratos' public URL
	Method         string
	Nodes          []Node
	Messages       []Message
	ReturnTo       string
	LoginChallenge string // Hydra's, when the flow is part of an OAuth2 login
	// DroppedChallenge is the login_challenge of the flow's request URL
	// when Kratos did not keep it as LoginChallenge: a flow Kratos restarts
	// after expiry copies the old request URL but not the challenge
	// (Kratos v1.3.1 FromOldFlow), which would end the OAuth2 login.
	DroppedChallenge string
	Refresh          bool
	AAL              string
	State            string // e.g. "choose_method", "sent_email", "passed_challenge"
	ExpiresAt        time.Time
}

// Node is one UI node: an input, a text, an image or a link.
type Node struct {
	Group        string // default, password, code, profile, ...
	Type         string // input, text, img, a
	Name         string
	InputType    string // text, email, password, hidden, submit, ...
	Value        string
	Required     bool
	Disabled     bool
	Autocomplete string
	Label        *Message
	Messages     []Message
	Href         string // a, img
	Text         string // text nodes
}

// Message is a Kratos UI text; ID selects a translation, Context fills its
// placeholders (e.g. "min_length").
type Message struct {
	ID      int64
	Type    string // info, error, success
	Text    string
	Context map[string]any
}

// FlowError is a Kratos self-service error (the error flow's ?id=) reduced
// to what a page may show: never its debug details.
type FlowError struct {
	ID      string
	Code    int    // HTTP status, e.g. 400
	Status  string // e.g. "Bad Request"
	Reason  string
	Message string
}

// Session is the browser's Kratos session.
type Session struct {
	ID       string
	Identity Identity
}

// Kratos is what the bridge uses of Kratos: the frontend API with the
// browser's cookies, and the identity admin API.
type Kratos interface {
	// Flow fetches a browser flow, or ErrFlowGone.
	Flow(ctx context.Context, kind FlowKind, id, cookie string) (Flow, error)
	// FlowError fetches a self-service error by id, or ErrFlowGone.
	FlowError(ctx context.Context, id string) (FlowError, error)
	// Whoami returns the browser's session, or ErrNoSession, or
	// ErrAAL2Required.
	Whoami(ctx context.Context, cookie string) (Session, error)
	// Identity reads an identity by id (admin API).
	Identity(ctx context.Context, id string) (Identity, error)
	// EndBrowserSession ends the browser's session whatever its AAL (one
	// still waiting for a second factor too), or returns ErrNoSession.
	EndBrowserSession(ctx context.Context, cookie string) error
	// BrowserURL is where a browser starts flow kind (query added by caller).
	BrowserURL(kind FlowKind) string
	// Ready reports whether Kratos answers.
	Ready(ctx context.Context) error
}

// ConsentRequest is Hydra's consent request reduced to what the bridge uses.
type ConsentRequest struct {
	Challenge       string
	Subject         string
	Skip            bool // Hydra remembers the user's consent
	ClientID        string
	ClientName      string
	ClientSkip      bool // the client has skip_consent
	RedirectURIs    []string
	RequestedScopes []string
	Audience        []string
}

// AcceptConsent is what the bridge grants.
type AcceptConsent struct {
	Scopes      []string
	Audience    []string
	Remember    bool
	RememberFor time.Duration
	IDToken     map[string]any
}

// LogoutRequest is Hydra's logout request.
type LogoutRequest struct {
	Challenge  string
	Subject    string
	ClientID   string
	ClientName string
	ClientSkip bool // the client has skip_logout_consent
	// PostLogoutRedirectURIs are where Hydra may send the browser after
	// the logout: the one the request asked for when the client registered
	// it, else all the client registered.
	PostLogoutRedirectURIs []string
}

// LoginRequest is what the bridge reads of Hydra's login request.
type LoginRequest struct {
	Challenge    string
	ClientID     string
	RedirectURIs []string
}

// Hydra is what the bridge uses of Hydra's admin API.
type Hydra interface {
	Login(ctx context.Context, challenge string) (LoginRequest, error)
	Consent(ctx context.Context, challenge string) (ConsentRequest, error)
	AcceptConsent(ctx context.Context, challenge string, a AcceptConsent) (redirectTo string, err error)
	RejectConsent(ctx context.Context, challenge, reason string) (redirectTo string, err error)
	Logout(ctx context.Context, challenge string) (LogoutRequest, error)
	AcceptLogout(ctx context.Context, challenge string) (redirectTo string, err error)
	RejectLogout(ctx context.Context, challenge string) error
	// Ready reports whether Hydra answers.
	Ready(ctx context.Context) error
}
