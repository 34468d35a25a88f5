package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/idstack/idstack/bridge"
)

// passthrough are the query parameters a flow's start keeps.
var passthrough = []string{"login_challenge", "return_to", "refresh", "aal", "via"}

// startURL is where a browser starts (or restarts) flow kind, carrying the
// validated parameters of r and, for a restart, the flow's own.
func (s *Server) startURL(kind bridge.FlowKind, r *http.Request, f *bridge.Flow) (string, error) {
	q := url.Values{}
	for _, key := range passthrough {
		v := r.URL.Query().Get(key)
		if v == "" {
			continue
		}
		switch key {
		case "login_challenge":
			if _, err := bridge.ParseChallenge(v); err != nil {
				return "", err
			}
		case "return_to":
			if _, err := s.cfg.ReturnTo.Check(v); err != nil {
				return "", err
			}
		case "refresh":
			if v != "true" && v != "false" {
				continue
			}
		case "aal":
			if v != "aal1" && v != "aal2" {
				continue
			}
		}
		q.Set(key, v)
	}
	if f != nil {
		if f.LoginChallenge != "" && q.Get("login_challenge") == "" {
			q.Set("login_challenge", f.LoginChallenge)
		}
		if f.ReturnTo != "" && q.Get("return_to") == "" {
			if _, err := s.cfg.ReturnTo.Check(f.ReturnTo); err == nil {
				q.Set("return_to", f.ReturnTo)
			}
		}
	}
	// Only login and registration take Hydra's challenge; the others return
	// to the login page, which does.
	if ch := q.Get("login_challenge"); ch != "" && kind != bridge.FlowLogin && kind != bridge.FlowRegistration {
		q.Del("login_challenge")
		if q.Get("return_to") == "" {
			q.Set("return_to", PathLogin+"?login_challenge="+url.QueryEscape(ch))
		}
	}
	u := s.kratos.BrowserURL(kind)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, nil
}

func (s *Server) flowHandler(kind bridge.FlowKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("flow")
		if id == "" {
			to, err := s.startURL(kind, r, nil)
			if err != nil {
				s.fail(w, r, statusOf(err), "bad_request", err)
				return
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		if _, err := bridge.ParseFlowID(id); err != nil {
			s.fail(w, r, http.StatusBadRequest, "bad_request", err)
			return
		}
		ctx, cancel := s.upstream(r)
		defer cancel()
		f, err := s.kratos.Flow(ctx, kind, id, r.Header.Get("Cookie"))
		if errors.Is(err, bridge.ErrFlowGone) {
			// Expired or unknown: start a fresh flow, keeping the OAuth2 login.
			to, serr := s.startURL(kind, r, nil)
			if serr != nil {
				s.fail(w, r, statusOf(serr), "bad_request", serr)
				return
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		if err != nil {
			s.fail(w, r, statusOf(err), "upstream", err)
			return
		}
		if f.DroppedChallenge != "" {
			// Kratos restarted an expired flow without Hydra's challenge:
			// start it again with the challenge, and say why on the new page.
			if _, err := bridge.ParseChallenge(f.DroppedChallenge); err == nil {
				q := r.URL.Query()
				q.Set("login_challenge", f.DroppedChallenge)
				r2 := r.Clone(r.Context())
				r2.URL.RawQuery = q.Encode()
				if to, err := s.startURL(kind, r2, &f); err == nil {
					s.carryNotice(w, f.Messages)
					http.Redirect(w, r, to, http.StatusSeeOther)
					return
				}
			}
		}
		f.Messages = s.takeNotice(w, r, f.Messages)
		if f.LoginChallenge != "" {
			if lr, err := s.hydra.Login(ctx, f.LoginChallenge); err == nil {
				// Submitting the form may end, after redirects, at the client.
				w.Header().Set("Content-Security-Policy", s.csp(lr.RedirectURIs))
			}
		}
		links := map[string]string{}
		for _, k := range []bridge.FlowKind{bridge.FlowLogin, bridge.FlowRegistration, bridge.FlowRecovery} {
			if k != kind {
				links[string(k)], _ = s.startURL(k, r, &f)
			}
		}
		s.render(w, r, http.StatusOK, "flow.html", page{Title: string(kind), Flow: &f, Groups: groupNodes(f.Nodes), Links: links})
	}
}

// nodeGroup is a form section: Kratos groups its nodes by method.
type nodeGroup struct {
	Name  string
	Nodes []bridge.Node
}

// groupNodes keeps Kratos' order: hidden and default nodes go in every
// form, so each method's group is its own form with them.
func groupNodes(nodes []bridge.Node) []nodeGroup {
	var shared []bridge.Node
	order := []string{}
	byGroup := map[string][]bridge.Node{}
	for _, n := range nodes {
		if n.Group == "default" || n.InputType == "hidden" && n.Group == "" {
			shared = append(shared, n)
			continue
		}
		if _, ok := byGroup[n.Group]; !ok {
			order = append(order, n.Group)
		}
		byGroup[n.Group] = append(byGroup[n.Group], n)
	}
	if len(order) == 0 {
		return []nodeGroup{{Name: "default", Nodes: shared}}
	}
	var out []nodeGroup
	for _, g := range order {
		out = append(out, nodeGroup{Name: g, Nodes: append(append([]bridge.Node{}, shared...), byGroup[g]...)})
	}
	return out
}

// handleError shows the Kratos error of ?id= (its code, status, reason and
// message, never its debug details), or a generic page when there is none
// or it cannot be read.
func (s *Server) handleError(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "error_title", Error: "kratos_error"}
	id := r.URL.Query().Get("id")
	if id == "" {
		s.render(w, r, http.StatusOK, "error.html", p)
		return
	}
	if _, err := bridge.ParseFlowID(id); err != nil {
		s.fail(w, r, http.StatusBadRequest, "kratos_error", err)
		return
	}
	ctx, cancel := s.upstream(r)
	defer cancel()
	e, err := s.kratos.FlowError(ctx, id)
	if err != nil {
		s.log.Warn("kratos error unavailable", "request_id", RequestID(r.Context()), "path", r.URL.Path, "err", err)
	} else {
		p.KratosError = &e
	}
	s.render(w, r, http.StatusOK, "error.html", p)
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.upstream(r)
	defer cancel()
	sess, err := s.kratos.Whoami(ctx, r.Header.Get("Cookie"))
	if errors.Is(err, bridge.ErrAAL2Required) {
		// A plain login would find the session and send the browser back
		// here, in a loop: ask for the second factor instead.
		http.Redirect(w, r, PathLogin+"?aal=aal2", http.StatusSeeOther)
		return
	}
	if errors.Is(err, bridge.ErrNoSession) {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, statusOf(err), "upstream", err)
		return
	}
	s.render(w, r, http.StatusOK, "home.html", page{Title: "home_title", Session: &sess})
}

func (s *Server) handleLoggedOut(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "loggedout.html", page{Title: "logged_out"})
}

// handleReady is ready only while Kratos and Hydra answer.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.upstream(r)
	defer cancel()
	var problems []string
	if err := s.kratos.Ready(ctx); err != nil {
		problems = append(problems, "kratos: "+err.Error())
	}
	if err := s.hydra.Ready(ctx); err != nil {
		problems = append(problems, "hydra: "+err.Error())
	}
	if len(problems) > 0 {
		http.Error(w, strings.Join(problems, "\n"), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

// noticeCookie carries an expiry message across the restart of a flow
// (see bridge.Flow.DroppedChallenge): only its id, and only one of
// restartNotices, so a planted cookie can at most show one of these texts.
const noticeCookie = "idstack_notice"

// restartNotices are the Kratos messages a restart carries, with the
// English text shown in their place (Japanese comes from the Kratos table).
var restartNotices = map[int64]string{
	4010001: "The login flow expired, please try again.",
	4040001: "The registration flow expired, please try again.",
}

// carryNotice sets noticeCookie to the first restart notice in msgs.
func (s *Server) carryNotice(w http.ResponseWriter, msgs []bridge.Message) {
	for _, m := range msgs {
		if _, ok := restartNotices[m.ID]; ok {
			http.SetCookie(w, &http.Cookie{Name: noticeCookie, Value: strconv.FormatInt(m.ID, 10), Path: "/", MaxAge: 120, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.TLS})
			return
		}
	}
}

// takeNotice clears noticeCookie and, when the flow shows no message of
// its own, returns the carried notice as the flow's message.
func (s *Server) takeNotice(w http.ResponseWriter, r *http.Request, msgs []bridge.Message) []bridge.Message {
	c, err := r.Cookie(noticeCookie)
	if err != nil {
		return msgs
	}
	http.SetCookie(w, &http.Cookie{Name: noticeCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.TLS})
	id, _ := strconv.ParseInt(c.Value, 10, 64)
	text, ok := restartNotices[id]
	if !ok || len(msgs) > 0 {
		return msgs
	}
	return []bridge.Message{{ID: id, Type: "error", Text: text}}
}
