// Package fake has in-memory stand-ins for bridge.Kratos and bridge.Hydra,
// for the server's unit tests. The integration tests use the real servers.
package fake

import (
	"context"
	"sync"

	"github.com/idstack/idstack/bridge"
)

var (
	_ bridge.Kratos = (*Kratos)(nil)
	_ bridge.Hydra  = (*Hydra)(nil)
)

// Kratos serves flows, sessions and identities from maps.
type Kratos struct {
	mu         sync.Mutex
	Flows      map[string]bridge.Flow      // by id
	Errors     map[string]bridge.FlowError // by id
	Sessions   map[string]bridge.Session   // by the browser's Cookie header
	AAL1Only   map[string]bool             // by Cookie header: sessions Whoami withholds until a second factor
	Identities map[string]bridge.Identity  // by id
	Ended      []string                    // ids of the sessions EndBrowserSession ended
	Down       bool                        // Ready fails
	PublicURL  string
}

// Flow implements bridge.Kratos.
func (k *Kratos) Flow(_ context.Context, kind bridge.FlowKind, id, _ string) (bridge.Flow, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, ok := k.Flows[id]
	if !ok || f.Kind != kind {
		return bridge.Flow{}, bridge.ErrFlowGone
	}
	return f, nil
}

// FlowError implements bridge.Kratos.
func (k *Kratos) FlowError(_ context.Context, id string) (bridge.FlowError, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.Errors[id]
	if !ok {
		return bridge.FlowError{}, bridge.ErrFlowGone
	}
	return e, nil
}

// Whoami implements bridge.Kratos.
func (k *Kratos) Whoami(_ context.Context, cookie string) (bridge.Session, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.AAL1Only[cookie] {
		return bridge.Session{}, bridge.ErrAAL2Required
	}
	s, ok := k.Sessions[cookie]
	if !ok {
		return bridge.Session{}, bridge.ErrNoSession
	}
	return s, nil
}

// Identity implements bridge.Kratos.
func (k *Kratos) Identity(_ context.Context, id string) (bridge.Identity, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.Identities[id], nil
}

// EndBrowserSession implements bridge.Kratos: it ends the session in
// Sessions of the Cookie header, AAL1Only or not, as Kratos' logout flow does.
func (k *Kratos) EndBrowserSession(_ context.Context, cookie string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.Sessions[cookie]
	if !ok {
		return bridge.ErrNoSession
	}
	k.Ended = append(k.Ended, s.ID)
	delete(k.Sessions, cookie)
	delete(k.AAL1Only, cookie)
	return nil
}

// BrowserURL implements bridge.Kratos.
func (k *Kratos) BrowserURL(kind bridge.FlowKind) string {
	return k.PublicURL + "/self-service/" + string(kind) + "/browser"
}

// Ready implements bridge.Kratos.
func (k *Kratos) Ready(context.Context) error {
	if k.Down {
		return context.DeadlineExceeded
	}
	return nil
}

// Hydra keeps consent and logout requests, and records what was decided.
type Hydra struct {
	mu       sync.Mutex
	Logins   map[string]bridge.LoginRequest
	Consents map[string]bridge.ConsentRequest
	Logouts  map[string]bridge.LogoutRequest
	Accepted map[string]bridge.AcceptConsent // by challenge
	Rejected []string
	// LoggedOut lists the logout challenges accepted.
	LoggedOut []string
	// Down makes Ready fail.
	Down bool
	// Calls counts every call, so tests can assert nothing reached Hydra.
	Calls int
}

// NewHydra returns an empty Hydra.
func NewHydra() *Hydra {
	return &Hydra{Logins: map[string]bridge.LoginRequest{}, Consents: map[string]bridge.ConsentRequest{},
		Logouts: map[string]bridge.LogoutRequest{}, Accepted: map[string]bridge.AcceptConsent{}}
}

func (h *Hydra) call() { h.Calls++ }

// Login implements bridge.Hydra.
func (h *Hydra) Login(_ context.Context, ch string) (bridge.LoginRequest, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.call()
	r, ok := h.Logins[ch]
	if !ok {
		return r, bridge.ErrUnknownChallenge
	}
	return r, nil
}

// Consent implements bridge.Hydra.
func (h *Hydra) Consent(_ context.Context, ch string) (bridge.ConsentRequest, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.call()
	r, ok := h.Consents[ch]
	if !ok {
		return r, bridge.ErrUnknownChallenge
	}
	return r, nil
}

// AcceptConsent implements bridge.Hydra.
func (h *Hydra) AcceptConsent(_ context.Context, ch string, a bridge.AcceptConsent) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.call()
	if _, ok := h.Consents[ch]; !ok {
		return "", bridge.ErrUnknownChallenge
	}
	h.Accepted[ch] = a
	return "http://hydra.test/oauth2/auth?consent_verifier=v", nil
}

// RejectConsent implements bridge.Hydra.
func (h *Hydra) RejectConsent(_ context.Context, ch, _ string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.call()
	h.Rejected = append(h.Rejected, ch)
	return "http://app.test/cb?error=access_denied", nil
}

// Logout implements bridge.Hydra.
func (h *Hydra) Logout(_ context.Context, ch string) (bridge.LogoutRequest, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.call()
	r, ok := h.Logouts[ch]
	if !ok {
		return r, bridge.ErrUnknownChallenge
	}
	return r, nil
}

// AcceptLogout implements bridge.Hydra.
func (h *Hydra) AcceptLogout(_ context.Context, ch string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.call()
	h.LoggedOut = append(h.LoggedOut, ch)
	return "http://hydra.test/oauth2/sessions/logout?logout_verifier=v", nil
}

// RejectLogout implements bridge.Hydra.
func (h *Hydra) RejectLogout(context.Context, string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.call()
	return nil
}

// Ready implements bridge.Hydra.
func (h *Hydra) Ready(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Down {
		return context.DeadlineExceeded
	}
	return nil
}
