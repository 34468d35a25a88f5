package flows

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idstack/idstack/e2e/browser"
)

// Kratos message ids the flows check.
const (
	MsgInvalidCredentials = "4000006"
	MsgFlowExpired        = "4010001"
	MsgSettingsSaved      = "1050001"
	MsgVerified           = "1080002"
)

// Bridge pages the flows open directly.
const (
	selBridgeSignedIn = `#signed-in`
	selEmail          = `input[name="email"]`
	selCodeForm       = `form:has(input[name="code"])`
	selCode           = selCodeForm + ` input[name="code"]`
	selCodeSubmit     = selCodeForm + ` button[name="method"][value="code"]`
	selSendCode       = `form:has(input[name="email"]) button[name="method"][value="code"]`
)

func (r *Runner) bridge(region string) string {
	if u, ok := r.Target.Login[region]; ok {
		return u
	}
	return r.Target.Login[r.Target.Regions()[0]]
}

// bridgeSignIn signs u in on the bridge's own login page (no OAuth2
// client) and waits for its signed-in page.
func (r *Runner) bridgeSignIn(s *browser.Session, region string, u User) error {
	if err := s.Step("open-login", chromedp.Navigate(r.bridge(region)+"/login"), chromedp.WaitVisible(chromedp.CSS(selIdentifier))); err != nil {
		return err
	}
	return s.Step("sign-in",
		chromedp.SendKeys(chromedp.CSS(selIdentifier), u.Email),
		chromedp.SendKeys(chromedp.CSS(selPassword), u.Password),
		chromedp.Click(chromedp.CSS(selPasswordSubmit)),
		chromedp.WaitVisible(chromedp.CSS(selBridgeSignedIn)),
	)
}

// WrongPassword signs in with a wrong password and expects Kratos' message
// on the login page (Result.Message).
func (r *Runner) WrongPassword(ctx context.Context, region string, u User) (Result, error) {
	return r.run(ctx, "wrong-password", region, func(s *browser.Session, res *Result) error {
		u.Password += " wrong"
		return r.expectRefused(s, res, region, u)
	})
}

// UnknownUser signs in as an address nobody registered and expects the
// same message as for a wrong password (no user enumeration).
func (r *Runner) UnknownUser(ctx context.Context, region string) (Result, error) {
	return r.run(ctx, "unknown-user", region, func(s *browser.Session, res *Result) error {
		return r.expectRefused(s, res, region, NewUser())
	})
}

func (r *Runner) expectRefused(s *browser.Session, res *Result, region string, u User) error {
	if err := r.appLogin(s, res, region); err != nil {
		return err
	}
	if err := typeCredentials(s, u); err != nil {
		return err
	}
	msg, err := message(s)
	if err != nil {
		return err
	}
	res.Message = msg
	if msg != MsgInvalidCredentials {
		return fmt.Errorf("%w: message %q at %s, want %s", ErrUnexpectedPage, msg, s.Location(), MsgInvalidCredentials)
	}
	// The form is still there to try again.
	if ok, err := present(s, selIdentifier); err != nil || !ok {
		return fmt.Errorf("%w: no login form after the refusal (%v)", ErrUnexpectedPage, err)
	}
	return nil
}

// ExpiredLogin opens the app's sign-in, lets expire (a function the target
// provides, e.g. one that moves the flow's expiry into the past) end the
// login flow, then submits it: the bridge must restart with a fresh flow
// that says so, keep the OAuth2 login going, and sign u in.
func (r *Runner) ExpiredLogin(ctx context.Context, region string, u User, expire func(ctx context.Context, flowID string) error) (Result, error) {
	return r.run(ctx, "expired-login", region, func(s *browser.Session, res *Result) error {
		if err := r.appLogin(s, res, region); err != nil {
			return err
		}
		old := flowID(s.Location())
		if old == "" {
			return fmt.Errorf("%w: no flow id in %s", ErrUnexpectedPage, s.Location())
		}
		if err := expire(ctx, old); err != nil {
			return fmt.Errorf("expire flow %s: %w", old, err)
		}
		if err := typeCredentials(s, u); err != nil {
			return err
		}
		msg, err := message(s)
		if err != nil {
			return err
		}
		res.Message = msg
		fresh := flowID(s.Location())
		if msg != MsgFlowExpired || fresh == "" || fresh == old {
			return fmt.Errorf("%w: after an expired flow: message %q, flow %q (was %q)", ErrUnexpectedPage, msg, fresh, old)
		}
		// The restarted page already shows the expiry message, so waiting
		// for "any message" would match before the submit navigates: wait
		// for what comes after the submit, or for a different message.
		afterRetry := selAppSignedIn + `, ` + selConsentForm + `, ` + selAppError + `, ` +
			`p.msg[data-id]:not([data-id="` + MsgFlowExpired + `"])`
		if err := s.Step("sign-in-again",
			chromedp.SetValue(chromedp.CSS(selIdentifier), u.Email),
			chromedp.SendKeys(chromedp.CSS(selPassword), u.Password),
			chromedp.Click(chromedp.CSS(selPasswordSubmit)),
			chromedp.WaitVisible(chromedp.CSS(afterRetry)),
		); err != nil {
			return err
		}
		return finishAtApp(s, res, Accept)
	})
}

// Verify verifies u's address with the code mailed to it.
func (r *Runner) Verify(ctx context.Context, region string, u User) (Result, error) {
	return r.run(ctx, "verify", region, func(s *browser.Session, res *Result) error {
		if err := s.Step("open-verification", chromedp.Navigate(r.bridge(region)+"/verification"), chromedp.WaitVisible(chromedp.CSS(selEmail))); err != nil {
			return err
		}
		if err := s.Step("send-code",
			chromedp.SendKeys(chromedp.CSS(selEmail), u.Email),
			chromedp.Click(chromedp.CSS(selSendCode)),
			chromedp.WaitVisible(chromedp.CSS(selCode)),
		); err != nil {
			return err
		}
		// Registration mailed a code too: take the mail naming this flow.
		code, err := r.mailedCode(ctx, u.Email, flowID(s.Location()))
		if err != nil {
			return err
		}
		return r.submitCode(s, res, code, MsgVerified)
	})
}

// Recover recovers u's account with a mailed code, sets newPassword in the
// settings page recovery leads to, and returns u with it.
func (r *Runner) Recover(ctx context.Context, region string, u User, newPassword string) (Result, User, error) {
	res, err := r.run(ctx, "recover", region, func(s *browser.Session, res *Result) error {
		if err := s.Step("open-recovery", chromedp.Navigate(r.bridge(region)+"/recovery"), chromedp.WaitVisible(chromedp.CSS(selEmail))); err != nil {
			return err
		}
		if err := s.Step("send-code",
			chromedp.SendKeys(chromedp.CSS(selEmail), u.Email),
			chromedp.Click(chromedp.CSS(selSendCode)),
			chromedp.WaitVisible(chromedp.CSS(selCode)),
		); err != nil {
			return err
		}
		code, err := r.mailedCode(ctx, u.Email, "recover")
		if err != nil {
			return err
		}
		if err := s.Step("submit-code",
			chromedp.SendKeys(chromedp.CSS(selCode), code),
			chromedp.Click(chromedp.CSS(selCodeSubmit)),
			chromedp.WaitVisible(chromedp.CSS(`form.group-password input[name="password"]`)),
		); err != nil {
			return err
		}
		return setPassword(s, res, newPassword)
	})
	if err == nil {
		u.Password = newPassword
	}
	return res, u, err
}

// ChangePassword signs u in on the bridge, sets newPassword in settings,
// then signs in at the app with it in a fresh browser. It returns u with
// the new password.
func (r *Runner) ChangePassword(ctx context.Context, region string, u User, newPassword string) (Result, User, error) {
	res, err := r.run(ctx, "change-password", region, func(s *browser.Session, res *Result) error {
		if err := r.bridgeSignIn(s, region, u); err != nil {
			return err
		}
		if err := s.Step("open-settings", chromedp.Navigate(r.bridge(region)+"/settings"), chromedp.WaitVisible(chromedp.CSS(`form.group-password input[name="password"]`))); err != nil {
			return err
		}
		return setPassword(s, res, newPassword)
	})
	if err != nil {
		return res, u, err
	}
	u.Password = newPassword
	again, err := r.SignIn(ctx, region, u, Accept)
	res.Steps = append(res.Steps, again.Steps...)
	res.Took = time.Since(res.Start) // the sign-in with the new password is part of the flow
	res.Subject = again.Subject
	if err != nil {
		res.Err, res.Artefacts = again.Err, again.Artefacts
		return res, u, fmt.Errorf("sign in with the new password: %w", err)
	}
	return res, u, nil
}

// Refresh signs u in on the bridge, then re-authenticates (refresh=true):
// Kratos asks only for the password and the session goes on.
func (r *Runner) Refresh(ctx context.Context, region string, u User) (Result, error) {
	return r.run(ctx, "refresh", region, func(s *browser.Session, res *Result) error {
		if err := r.bridgeSignIn(s, region, u); err != nil {
			return err
		}
		if err := s.Step("open-refresh", chromedp.Navigate(r.bridge(region)+"/login?refresh=true"), chromedp.WaitVisible(chromedp.CSS(selPassword))); err != nil {
			return err
		}
		return s.Step("re-authenticate",
			chromedp.SendKeys(chromedp.CSS(selPassword), u.Password),
			chromedp.Click(chromedp.CSS(selPasswordSubmit)),
			chromedp.WaitVisible(chromedp.CSS(selBridgeSignedIn)),
		)
	})
}

func (r *Runner) submitCode(s *browser.Session, res *Result, code, want string) error {
	if err := s.Step("submit-code",
		chromedp.SendKeys(chromedp.CSS(selCode), code),
		chromedp.Click(chromedp.CSS(selCodeSubmit)),
		chromedp.WaitVisible(chromedp.CSS(`p.msg[data-id="`+want+`"], p.msg.error`)),
	); err != nil {
		return err
	}
	return expectMessage(s, res, want)
}

// expectMessage checks that the page shows Kratos message want.
func expectMessage(s *browser.Session, res *Result, want string) error {
	ok, err := present(s, `p.msg[data-id="`+want+`"]`)
	if err != nil {
		return err
	}
	if ok {
		res.Message = want
		return nil
	}
	msg, _ := message(s)
	res.Message = msg
	return fmt.Errorf("%w: message %q at %s, want %s", ErrUnexpectedPage, msg, s.Location(), want)
}

func setPassword(s *browser.Session, res *Result, password string) error {
	const form = `form.group-password`
	if err := s.Step("set-password",
		chromedp.SendKeys(chromedp.CSS(form+` input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(form+` button[name="method"][value="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.msg[data-id="`+MsgSettingsSaved+`"], p.msg.error`)),
	); err != nil {
		return err
	}
	return expectMessage(s, res, MsgSettingsSaved)
}

// flowID is the flow query parameter of a page URL.
func flowID(page string) string {
	u, err := url.Parse(page)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(u.Query().Get("flow"))
}
