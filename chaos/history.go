package chaos

import (
	"time"
)

// ProbeKind names a kind of probe.
type ProbeKind string

// Probe kinds.
const (
	// ProbeHTTPLogin is a sign-in through the bridge by an HTTP client that
	// behaves like a browser (cookies, forms, redirects).
	ProbeHTTPLogin ProbeKind = "http-login"
	// ProbeBrowserLogin is an OAuth2 sign-in in Chromium (e2e flows).
	ProbeBrowserLogin ProbeKind = "browser-login"
	// ProbeRegister is a registration; an acknowledged one must survive.
	ProbeRegister ProbeKind = "register"
	// ProbeVerify is a token checked by an independent verifier that caches
	// the JWKS the way a resource server does.
	ProbeVerify ProbeKind = "token-verify"
)

// Event is one probe operation: what was tried, where, when, how long it
// took and how it ended.
type Event struct {
	Probe   ProbeKind     `json:"probe"`
	Region  string        `json:"region"`
	Start   time.Time     `json:"start"`
	Latency time.Duration `json:"latency"`
	OK      bool          `json:"ok"`
	Err     string        `json:"error,omitempty"`
	// Subject is the identity signed in or registered.
	Subject string `json:"subject,omitempty"`
	// Email is the address a registration used.
	Email string `json:"email,omitempty"`
	// Kid is the key id of the token the operation got or checked.
	Kid string `json:"kid,omitempty"`
	// Token identifies the token a verify event checked (its jti).
	Token string `json:"token,omitempty"`
	// SignedBy is, for a token whose header kid's key did not verify it,
	// the kid of the published key that did.
	SignedBy string `json:"signed_by,omitempty"`
}

// End is when the operation finished.
func (e Event) End() time.Time { return e.Start.Add(e.Latency) }

// FaultWindow is one fault as it ran: injected at Start, healed at End.
type FaultWindow struct {
	Fault  string    `json:"fault"`
	Target string    `json:"target"` // the node, service or region it hit
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Err    string    `json:"error,omitempty"`
}

// KeySighting is when a verifier first saw a signing key published.
type KeySighting struct {
	Kid       string    `json:"kid"`
	Published time.Time `json:"published"`
}

// History is everything a scenario run recorded, the input of the checks
// and of the report.
type History struct {
	Scenario string            `json:"scenario"`
	Seed     int64             `json:"seed"`
	Versions map[string]string `json:"versions"`
	Regions  []string          `json:"regions"`
	Start    time.Time         `json:"start"`
	// FaultsStart is when the first fault was injected; Healed when the
	// last one was healed.
	FaultsStart time.Time `json:"faults_start"`
	Healed      time.Time `json:"healed"`
	End         time.Time `json:"end"`
	Events      []Event   `json:"events"`
	// SkippedTicks counts, per probe loop, the ticks that started nothing
	// because the loop already had its bound of operations in flight.
	SkippedTicks map[string]int `json:"skipped_ticks,omitempty"`
	Faults       []FaultWindow  `json:"faults"`
	// Keys lists when each signing key was first seen published; a zero
	// time means it was published before the run began.
	Keys []KeySighting `json:"keys"`
	// KeyLead is how long a key must be published before it signs (the
	// rotation policy's lead); 0 when nothing rotates.
	KeyLead time.Duration `json:"key_lead,omitempty"`
	// Revoked lists kids revoked on purpose during the run: tokens they
	// signed are meant to stop verifying.
	Revoked []string `json:"revoked,omitempty"`
	// Lost lists acknowledged registrations (by email) not found after the
	// run; filled by the registration check from the identity store.
	Missing []string `json:"missing,omitempty"`
	// HealthAfter lists the nodes and URLs that were not healthy after heal.
	HealthAfter []string `json:"health_after,omitempty"`
}

// Phase is a part of a run: before the first fault, while faults are
// active, after heal.
type Phase string

// Phases.
const (
	PhaseBefore Phase = "before"
	PhaseDuring Phase = "during"
	PhaseAfter  Phase = "after"
)

// PhaseOf says in which phase t falls.
func (h History) PhaseOf(t time.Time) Phase {
	switch {
	case h.FaultsStart.IsZero() || t.Before(h.FaultsStart):
		return PhaseBefore
	case h.Healed.IsZero() || t.Before(h.Healed):
		return PhaseDuring
	default:
		return PhaseAfter
	}
}

// Percentiles of a latency distribution.
type Percentiles struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50"`
	P95 time.Duration `json:"p95"`
	P99 time.Duration `json:"p99"`
}

// Measurements are the figures of a run.
type Measurements struct {
	// SuccessRate of logins (HTTP and browser) over the whole run.
	SuccessRate float64 `json:"success_rate"`
	Attempts    int     `json:"attempts"`
	Failures    int     `json:"failures"`
	// Unavailable is, per region, the longest gap between successful
	// logins that contains a failure (0 when nothing failed).
	Unavailable map[string]time.Duration `json:"unavailable"`
	// Recovery is, per region, the time from heal to the first success
	// after which nothing failed.
	Recovery map[string]time.Duration `json:"recovery"`
	// ByRegion counts logins per region, for an SLO that leaves out the
	// regions a scenario takes down on purpose.
	ByRegion map[string]Counts `json:"by_region,omitempty"`
	// Latency of successful logins per phase.
	Latency map[Phase]Percentiles `json:"latency"`
}

// Counts are login attempts and failures.
type Counts struct {
	Attempts int `json:"attempts"`
	Failures int `json:"failures"`
}

// CheckResult is one invariant or SLO check.
type CheckResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Known names the known upstream defect a failed check is down to,
	// which the scenario's SLO tolerates: the check then counts as held,
	// and the report says so.
	Known string `json:"known,omitempty"`
}

// Result is a scenario's verdict: its history, figures and checks.
type Result struct {
	History      History       `json:"history"`
	SLO          SLO           `json:"slo"`
	Measurements Measurements  `json:"measurements"`
	Checks       []CheckResult `json:"checks"`
	Passed       bool          `json:"passed"`
	// Aborted says the run stopped before any fault because the steady
	// state did not hold; the fault is not to blame.
	Aborted string `json:"aborted,omitempty"`
}

// SLO is what a scenario promises while its faults run.
type SLO struct {
	// MinSuccess is the lowest acceptable login success rate (0..1).
	MinSuccess float64 `json:"min_success"`
	// MaxUnavailable bounds the per-region unavailability window.
	MaxUnavailable time.Duration `json:"max_unavailable"`
	// MaxRecovery bounds the time from heal to steady success.
	MaxRecovery time.Duration `json:"max_recovery"`
	// Exempt lists the regions the scenario takes down on purpose (a cut
	// region): MaxUnavailable does not apply to them, MaxRecovery does.
	Exempt []string `json:"exempt,omitempty"`
	// Tolerate lists known upstream defects (chaos.Defect...) whose checks
	// do not close the gate; the report still lists every occurrence.
	Tolerate []string `json:"tolerate,omitempty"`
}

// DefectHydraKidAtAuthorize is a defect of Hydra v2.3.0 that key rotation
// shows: the ID token's kid header is read when the authorization code is
// issued (oauth2/handler.go keeps GetPublicKeyID in the session), but the
// token is signed at the code exchange with the newest private key. A code
// issued before a promotion and exchanged after it gives a token whose kid
// names the old key while the new key signed it, and a resource server that
// looks keys up by kid rejects it.
const DefectHydraKidAtAuthorize = "hydra-kid-at-authorize"

// SuiteResult is a run of several scenarios: what the gate decides on.
type SuiteResult struct {
	Suite    string            `json:"suite"`
	Seed     int64             `json:"seed"`
	Target   string            `json:"target"`
	Versions map[string]string `json:"versions"`
	Start    time.Time         `json:"start"`
	End      time.Time         `json:"end"`
	Results  []Result          `json:"results"`
	Passed   bool              `json:"passed"`
}
