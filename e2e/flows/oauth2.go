package flows

import (
	"context"
	"fmt"

	"github.com/chromedp/chromedp"

	"github.com/idstack/idstack/e2e/browser"
)

// SignUp registers u through region's pages, starting at the app: the
// login page's sign-up link keeps the OAuth2 login going, so the new user
// lands back at the app signed in (consent accepted when asked).
func (r *Runner) SignUp(ctx context.Context, region string, u User) (Result, error) {
	return r.run(ctx, "sign-up", region, func(s *browser.Session, res *Result) error {
		if err := r.appLogin(s, res, region); err != nil {
			return err
		}
		const form = `form:has(input[name="traits.email"])`
		if err := s.Step("open-sign-up", chromedp.Click(chromedp.CSS(selRegisterLink)), chromedp.WaitVisible(chromedp.CSS(form))); err != nil {
			return err
		}
		if err := s.Step(StepType,
			chromedp.SendKeys(chromedp.CSS(form+` input[name="traits.email"]`), u.Email),
			chromedp.SendKeys(chromedp.CSS(form+` input[name="password"]`), u.Password),
			chromedp.SendKeys(chromedp.CSS(form+` input[name="traits.name.first"]`), u.First),
			chromedp.SendKeys(chromedp.CSS(form+` input[name="traits.name.last"]`), u.Last),
		); err != nil {
			return err
		}
		if err := s.Step("register",
			chromedp.Click(chromedp.CSS(form+` button[name="method"][value="password"]`)),
			chromedp.WaitVisible(chromedp.CSS(selAfterSignIn)),
		); err != nil {
			return err
		}
		return finishAtApp(s, res, Accept)
	})
}

// SignIn signs u in at the app through region's pages and handles consent
// as told. With Deny it succeeds when the app receives access_denied.
func (r *Runner) SignIn(ctx context.Context, region string, u User, consent Consent) (Result, error) {
	return r.run(ctx, "sign-in", region, func(s *browser.Session, res *Result) error {
		return r.signIn(s, res, region, u, consent)
	})
}

func (r *Runner) signIn(s *browser.Session, res *Result, region string, u User, consent Consent) error {
	if err := r.appLogin(s, res, region); err != nil {
		return err
	}
	if err := typeCredentials(s, u); err != nil {
		return err
	}
	return finishAtApp(s, res, consent)
}

// SignOut signs u in, then out from the app (RP-initiated logout through
// the bridge's logout page), and checks that both sessions ended: the
// bridge shows no signed-in user, and a new sign-in at the app asks for
// credentials again.
func (r *Runner) SignOut(ctx context.Context, region string, u User) (Result, error) {
	return r.run(ctx, "sign-out", region, func(s *browser.Session, res *Result) error {
		if err := r.signIn(s, res, region, u, Accept); err != nil {
			return err
		}
		if err := s.Step("sign-out",
			chromedp.Click(chromedp.CSS(selAppLogout)),
			chromedp.WaitVisible(chromedp.CSS(selLogoutAccept+", "+selAppLoggedOut)),
		); err != nil {
			return err
		}
		if onPage, err := present(s, selLogoutAccept); err != nil {
			return err
		} else if onPage {
			if err := s.Step("confirm-sign-out", chromedp.Click(chromedp.CSS(selLogoutAccept)), chromedp.WaitVisible(chromedp.CSS(selAppLoggedOut))); err != nil {
				return err
			}
		}
		// Kratos' session is gone: the bridge's home sends to its login page.
		bridge := r.Target.Login[region]
		if bridge == "" {
			bridge = r.Target.Login[r.Target.Regions()[0]]
		}
		if err := s.Step("check-kratos", chromedp.Navigate(bridge+"/"), chromedp.WaitVisible(chromedp.CSS(selIdentifier))); err != nil {
			return fmt.Errorf("the Kratos session survived the logout: %w", err)
		}
		// Hydra's session is gone: the app's sign-in asks for credentials.
		if err := r.appLogin(s, res, region); err != nil {
			return fmt.Errorf("the Hydra session survived the logout: %w", err)
		}
		return nil
	})
}

// CrossRegion signs u up through region a, then in through region b in a
// fresh browser: an identity written in one region signs in in another.
// It returns both results.
func (r *Runner) CrossRegion(ctx context.Context, a, b string, u User) ([]Result, error) {
	up, err := r.SignUp(ctx, a, u)
	if err != nil {
		return []Result{up}, err
	}
	in, err := r.SignIn(ctx, b, u, Accept)
	if err == nil && in.Subject != up.Subject {
		err = fmt.Errorf("cross-region: signed up as %s in %s, signed in as %s in %s", up.Subject, a, in.Subject, b)
	}
	return []Result{up, in}, err
}
