// Package flows drives the pages a person uses to sign up, sign in, consent,
// sign out, recover an account, verify an address and change a password,
// in a real browser, through the relying party of package rp and idstack's
// bridge. Each flow opens a fresh browser context, takes a context whose
// deadline bounds it, and returns per-step timings; on failure it saves a
// screenshot, the page and the console log. The chaos suite runs these
// flows as probes.
package flows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idstack/idstack/e2e/browser"
)

// Errors a caller can match.
var (
	// ErrUnexpectedPage is returned when a step ends on another page than
	// the flow expects.
	ErrUnexpectedPage = errors.New("unexpected page")
	// ErrConsentAsked is returned when consent was asked where it must not
	// be (remembered or first-party).
	ErrConsentAsked = errors.New("consent was asked")
	// ErrNoMail is returned when the code mail never arrived.
	ErrNoMail = errors.New("no mail with a code")
)

// Target is where the flows run: the relying party and each region's
// bridge, and the mail sink that receives the codes.
type Target struct {
	// App is the relying party's base URL (package rp).
	App string
	// Login maps each region to its bridge's base URL.
	Login map[string]string
	// Mail is the mail sink's HTTP API (recovery and verification read
	// their codes there).
	Mail string
	// HTTP talks to the mail sink; it must have a timeout.
	HTTP *http.Client
}

// Regions lists the target's regions.
func (t Target) Regions() []string {
	var out []string
	for r := range t.Login {
		out = append(out, r)
	}
	return out
}

// User is a person's credentials and name.
type User struct {
	Email, Password, First, Last string
}

// NewUser returns a user with a unique address under example.com.
func NewUser() User {
	return User{Email: "e2e-" + randomHex(6) + "@example.com", Password: "correct horse battery staple " + randomHex(2), First: "Ada", Last: "Lovelace"}
}

// Consent says what a flow does on the consent page.
type Consent int

// Consent decisions.
const (
	// Accept accepts consent when it is asked.
	Accept Consent = iota
	// Deny denies it; the flow expects access_denied at the app.
	Deny
	// NotAsked fails the flow when consent is asked (remembered, skipped
	// for a first-party client).
	NotAsked
)

// Result is what one flow did.
type Result struct {
	Flow   string `json:"flow"`
	Region string `json:"region,omitempty"`
	// Probe tags the flow's OAuth2 login at the app (rp.Login.Probe).
	Probe string         `json:"probe,omitempty"`
	Start time.Time      `json:"start"`
	Took  time.Duration  `json:"took"`
	Steps []browser.Step `json:"steps"`
	// ConsentShown says whether the consent page was shown.
	ConsentShown bool `json:"consent_shown"`
	// Subject is the signed-in identity, as the app saw it.
	Subject string `json:"subject,omitempty"`
	// AppError is the OAuth2 error the app received (access_denied).
	AppError string `json:"app_error,omitempty"`
	// Message is the message id Kratos showed, where the flow checks one.
	Message   string `json:"message,omitempty"`
	Err       string `json:"error,omitempty"`
	Artefacts string `json:"artefacts,omitempty"`
}

// OK reports whether the flow succeeded.
func (r Result) OK() bool { return r.Err == "" }

// Runner runs flows in one browser against one target.
type Runner struct {
	Browser *browser.Browser
	Target  Target
}

// run opens a session, runs fn in it and fills the result: timings always,
// artefacts on failure.
func (r *Runner) run(ctx context.Context, flow, region string, fn func(s *browser.Session, res *Result) error) (Result, error) {
	res := Result{Flow: flow, Region: region, Start: time.Now()}
	s, err := r.Browser.NewSession(ctx, flow)
	if err != nil {
		res.Err = err.Error()
		return res, err
	}
	defer s.Close()
	err = fn(s, &res)
	res.Took = time.Since(res.Start)
	res.Steps = s.Steps()
	if err != nil {
		err = fmt.Errorf("%s: %w", flow, err)
		res.Err = err.Error()
		res.Artefacts = s.SaveArtefacts(err)
	}
	return res, err
}

// Selectors of the pages the flows walk through. The bridge puts each
// Kratos method in its own form (class group-<method>).
const (
	selPasswordForm   = `form.group-password`
	selIdentifier     = selPasswordForm + ` input[name="identifier"]`
	selPassword       = selPasswordForm + ` input[name="password"]`
	selPasswordSubmit = selPasswordForm + ` button[name="method"][value="password"]`
	selRegisterLink   = `a[href*="/self-service/registration/browser"]`
	selConsentForm    = `form[action="/consent"]`
	selConsentAccept  = selConsentForm + ` button[name="action"][value="accept"]`
	selConsentDeny    = selConsentForm + ` button[name="action"][value="deny"]`
	selLogoutAccept   = `form[action="/logout"] button[name="action"][value="accept"]`
	selAppSignedIn    = `#signed-in`
	selAppSignedOut   = `#signed-out`
	selAppError       = `#error`
	selAppLogout      = `#logout`
	selAppLoggedOut   = `#logged-out`
	selMessage        = `p.msg[data-id]`
	// After credentials: the consent page, the app, or a message.
	selAfterSignIn = selAppSignedIn + `, ` + selConsentForm + `, ` + selAppError + `, ` + selMessage
)

// appLogin opens the app's sign-in for region and waits for the bridge's
// login page.
func (r *Runner) appLogin(s *browser.Session, res *Result, region string) error {
	res.Probe = randomHex(8)
	q := url.Values{"probe": {res.Probe}}
	if region != "" {
		q.Set("region", region)
	}
	return s.Step("open-app", chromedp.Navigate(r.Target.App+"/login?"+q.Encode()), chromedp.WaitVisible(chromedp.CSS(selIdentifier)))
}

// typeCredentials fills the password form and submits it, waiting for
// whatever comes next. Typing and submitting are separate steps, so that
// navigation times leave the typing out.
func typeCredentials(s *browser.Session, u User) error {
	if err := s.Step(StepType,
		chromedp.SendKeys(chromedp.CSS(selIdentifier), u.Email),
		chromedp.SendKeys(chromedp.CSS(selPassword), u.Password),
	); err != nil {
		return err
	}
	return s.Step("sign-in",
		chromedp.Click(chromedp.CSS(selPasswordSubmit)),
		chromedp.WaitVisible(chromedp.CSS(selAfterSignIn)),
	)
}

// StepType names the steps that only type into a form; every other step
// is navigation (a page load, a submit and its redirects).
const StepType = "type"

// Navigation is the time a result spent loading pages: every step but
// typing.
func (r Result) Navigation() time.Duration {
	var d time.Duration
	for _, st := range r.Steps {
		if st.Name != StepType {
			d += st.Took
		}
	}
	return d
}

// finishAtApp handles the consent page per decision and reads the app's
// result: the subject, or the OAuth2 error.
func finishAtApp(s *browser.Session, res *Result, consent Consent) error {
	onConsent, err := present(s, selConsentForm)
	if err != nil {
		return err
	}
	if onConsent {
		res.ConsentShown = true
		switch consent {
		case NotAsked:
			return ErrConsentAsked
		case Deny:
			if err := s.Step("deny", chromedp.Click(chromedp.CSS(selConsentDeny)), chromedp.WaitVisible(chromedp.CSS(selAppError))); err != nil {
				return err
			}
		default:
			if err := s.Step("consent", chromedp.Click(chromedp.CSS(selConsentAccept)), chromedp.WaitVisible(chromedp.CSS(selAppSignedIn+", "+selAppError))); err != nil {
				return err
			}
		}
	}
	if bad, err := present(s, selAppError); err != nil {
		return err
	} else if bad {
		attr, err := browser.Read(s, chromedp.AttributeValue(chromedp.CSS(selAppError), "data-error"))
		if err != nil {
			return err
		}
		res.AppError = attr.Value
		if consent == Deny && attr.Value == "access_denied" {
			return nil
		}
		text, _ := browser.Read(s, chromedp.Text(chromedp.CSS(selAppError)))
		return fmt.Errorf("%w: the app says %s", ErrUnexpectedPage, text)
	}
	if signedIn, err := present(s, selAppSignedIn); err != nil {
		return err
	} else if !signedIn {
		msg, _ := message(s)
		return fmt.Errorf("%w: %s (message %q)", ErrUnexpectedPage, s.Location(), msg)
	}
	if consent == Deny {
		return fmt.Errorf("%w: signed in after denying consent", ErrUnexpectedPage)
	}
	sub, err := browser.Read(s, chromedp.Text(chromedp.CSS(selAppSignedIn+` [data-claim="sub"]`)))
	if err != nil {
		return err
	}
	res.Subject = strings.TrimSpace(sub)
	return nil
}

// present reports whether the current page has an element matching sel,
// without waiting.
func present(s *browser.Session, sel string) (bool, error) {
	nodes, err := browser.Read(s, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
	if err != nil {
		return false, fmt.Errorf("query %s: %w", sel, err)
	}
	return nodes, nil
}

// message returns the data-id of the first Kratos message on the page, or
// "" when there is none.
func message(s *browser.Session) (string, error) {
	if ok, err := present(s, selMessage); err != nil || !ok {
		return "", err
	}
	attr, err := browser.Read(s, chromedp.AttributeValue(chromedp.CSS(selMessage), "data-id"))
	return attr.Value, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
