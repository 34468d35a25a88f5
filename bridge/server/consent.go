package server

import (
	"errors"
	"net/http"
	"slices"

	"github.com/idstack/idstack/bridge"
)

func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	challenge, ok := s.queryChallenge(w, r, "consent_challenge")
	if !ok {
		return
	}
	ctx, cancel := s.upstream(r)
	defer cancel()
	req, err := s.hydra.Consent(ctx, challenge)
	if err != nil {
		s.fail(w, r, statusOf(err), "upstream", err)
		return
	}
	if req.Skip || req.ClientSkip || slices.Contains(s.cfg.FirstParty, req.ClientID) {
		s.acceptConsent(w, r, req, req.RequestedScopes, !req.Skip)
		return
	}
	token, err := s.cfg.CSRF.Token(w, r, challenge)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "internal", err)
		return
	}
	// Accepting redirects through Hydra to the client.
	w.Header().Set("Content-Security-Policy", s.csp(req.RedirectURIs))
	s.render(w, r, http.StatusOK, "consent.html", page{Title: "consent_title", Consent: &req, CSRF: token})
}

func (s *Server) handleConsentSubmit(w http.ResponseWriter, r *http.Request) {
	challenge, ok := s.formChallenge(w, r, "consent_challenge")
	if !ok {
		return
	}
	ctx, cancel := s.upstream(r)
	defer cancel()
	req, err := s.hydra.Consent(ctx, challenge)
	if err != nil {
		s.fail(w, r, statusOf(err), "upstream", err)
		return
	}
	if r.PostForm.Get("action") != "accept" {
		to, err := s.hydra.RejectConsent(ctx, challenge, "The user denied the request.")
		if err != nil {
			s.fail(w, r, statusOf(err), "upstream", err)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	// Only scopes the client asked for can be granted.
	var granted []string
	for _, sc := range r.PostForm["grant_scope"] {
		if slices.Contains(req.RequestedScopes, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	s.acceptConsent(w, r, req, granted, r.PostForm.Get("remember") == "true")
}

func (s *Server) acceptConsent(w http.ResponseWriter, r *http.Request, req bridge.ConsentRequest, scopes []string, remember bool) {
	ctx, cancel := s.upstream(r)
	defer cancel()
	id, err := s.kratos.Identity(ctx, req.Subject)
	if err != nil {
		s.fail(w, r, statusOf(err), "upstream", err)
		return
	}
	to, err := s.hydra.AcceptConsent(ctx, req.Challenge, bridge.AcceptConsent{
		Scopes: scopes, Audience: req.Audience, Remember: remember, RememberFor: s.cfg.RememberFor,
		IDToken: s.cfg.Claims.Claims(id, scopes),
	})
	if err != nil {
		s.fail(w, r, statusOf(err), "upstream", err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	challenge, ok := s.queryChallenge(w, r, "logout_challenge")
	if !ok {
		return
	}
	ctx, cancel := s.upstream(r)
	defer cancel()
	req, err := s.hydra.Logout(ctx, challenge)
	if err != nil {
		s.fail(w, r, statusOf(err), "upstream", err)
		return
	}
	if req.ClientSkip || slices.Contains(s.cfg.FirstParty, req.ClientID) {
		s.acceptLogout(w, r, challenge)
		return
	}
	token, err := s.cfg.CSRF.Token(w, r, challenge)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "internal", err)
		return
	}
	// Accepting redirects through Hydra to the client's post-logout URI.
	w.Header().Set("Content-Security-Policy", s.csp(req.PostLogoutRedirectURIs))
	s.render(w, r, http.StatusOK, "logout.html", page{Title: "logout_title", Logout: &req, CSRF: token})
}

func (s *Server) handleLogoutSubmit(w http.ResponseWriter, r *http.Request) {
	challenge, ok := s.formChallenge(w, r, "logout_challenge")
	if !ok {
		return
	}
	if r.PostForm.Get("action") != "accept" {
		ctx, cancel := s.upstream(r)
		defer cancel()
		if err := s.hydra.RejectLogout(ctx, challenge); err != nil {
			s.fail(w, r, statusOf(err), "upstream", err)
			return
		}
		http.Redirect(w, r, PathHome, http.StatusSeeOther)
		return
	}
	s.acceptLogout(w, r, challenge)
}

// acceptLogout accepts in Hydra, ends the browser's Kratos session (at any
// AAL), and sends the browser on to Hydra's post-logout redirect.
func (s *Server) acceptLogout(w http.ResponseWriter, r *http.Request, challenge string) {
	ctx, cancel := s.upstream(r)
	defer cancel()
	to, err := s.hydra.AcceptLogout(ctx, challenge)
	if err != nil {
		s.fail(w, r, statusOf(err), "upstream", err)
		return
	}
	// Not whoami then an admin disable: whoami withholds an aal1 session
	// of an identity with a second factor, which would outlive the logout.
	if err := s.kratos.EndBrowserSession(ctx, r.Header.Get("Cookie")); err != nil && !errors.Is(err, bridge.ErrNoSession) {
		s.fail(w, r, statusOf(err), "upstream", err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// queryChallenge reads and checks a challenge from the query; on a bad one
// it answers 400 and reports false.
func (s *Server) queryChallenge(w http.ResponseWriter, r *http.Request, field string) (string, bool) {
	challenge, err := bridge.ParseChallenge(r.URL.Query().Get(field))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad_request", err)
		return "", false
	}
	return challenge, true
}

// formChallenge reads a posted form of the bridge's own: it checks the
// challenge, then the CSRF token bound to it; on a problem it answers 400
// or 403 and reports false.
func (s *Server) formChallenge(w http.ResponseWriter, r *http.Request, field string) (string, bool) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad_request", err)
		return "", false
	}
	challenge, err := bridge.ParseChallenge(r.PostForm.Get(field))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad_request", err)
		return "", false
	}
	if err := s.cfg.CSRF.Check(r, challenge, r.PostForm.Get("csrf_token")); err != nil {
		s.fail(w, r, http.StatusForbidden, "csrf", err)
		return "", false
	}
	return challenge, true
}
