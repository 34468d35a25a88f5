package chaos

import (
	"slices"
	"time"
)

// ProbeKind names a kind of probe.
type ProbeKind string

// Probe kinds.
const (
	// ProbeHTTPLogin is a sign-in through the bridge by an HTTP client that
	// behaves like a browser (cookies, forms, redirects), password included.
	ProbeHTTPLogin ProbeKind = "http-login"
	// ProbeSessionLogin is an authorization by an HTTP client that is
	// already signed in: the same path through edge, bridge, Kratos and
	// Hydra, with its redirects, consent and code exchange, but no password
	// to hash. It samples every region often at little cost.
	ProbeSessionLogin ProbeKind = "session-login"
	// ProbeBrowserLogin is an OAuth2 sign-in in Chromium (e2e flows).
	ProbeBrowserLogin ProbeKind = "browser-login"
	// ProbePath is a signed-in client reaching the login path's servers
	// without a login: the bridge's home page (the bridge asks Kratos for
	// the session) and the region's Hydra (its JWKS). A few milliseconds
	// of CPU where a login costs a hundred, it samples often enough to
	// resolve the shortest SLO windows.
	ProbePath ProbeKind = "path"
	// ProbeRegister is a registration; an acknowledged one must survive.
	ProbeRegister ProbeKind = "register"
	// ProbeWrite is a row written through one region's route to the
	// database and committed; an acknowledged one must survive, and the
	// member that took it names its timeline (package dbprobe).
	ProbeWrite ProbeKind = "db-write"
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
	// Key is the row a write event wrote; Server and Timeline are the
	// address and WAL timeline of the member that acknowledged it.
	Key      string `json:"key,omitempty"`
	Server   string `json:"server,omitempty"`
	Timeline int    `json:"timeline,omitempty"`
	// SignedBy is, for a token whose header kid's key did not verify it,
	// the kid of the published key that did.
	SignedBy string `json:"signed_by,omitempty"`
	// CodeAt is when a login's authorization code came back to the client;
	// ExchangeStart and ExchangeEnd bound its exchange at the token
	// endpoint, where the token is signed. Verify events carry them too.
	CodeAt        time.Time `json:"code_at,omitzero"`
	ExchangeStart time.Time `json:"exchange_start,omitzero"`
	ExchangeEnd   time.Time `json:"exchange_end,omitzero"`
}

// IsLogin says whether e is a sign-in of any kind.
func (e Event) IsLogin() bool {
	return e.Probe == ProbeHTTPLogin || e.Probe == ProbeSessionLogin || e.Probe == ProbeBrowserLogin
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

// Promotion is a key rotation step that made Kid the signing key: it
// happened between Start and End (the step's call into Hydra and Vault).
type Promotion struct {
	Kid   string    `json:"kid"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Revocation is a key revoked on purpose, between Start and End (the
// revoke call): tokens it signed before End are meant to stop verifying.
type Revocation struct {
	Kid   string    `json:"kid"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// FaultNote is something a fault did, at a time: "SIGKILL the primary
// pg-eu (eu)".
type FaultNote struct {
	At   time.Time `json:"at"`
	Note string    `json:"note"`
}

// RegistrationRead is one acknowledged registration looked up in the
// identity store after the run.
type RegistrationRead struct {
	Email string `json:"email"`
	Found bool   `json:"found"`
	// Err is why the lookup could not tell (the address then counts as
	// lost: an acknowledgement is a promise to find it).
	Err string `json:"error,omitempty"`
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
	// Revoked lists kids revoked on purpose during the run, and
	// Revocations when: tokens they signed before the revoke are meant to
	// stop verifying.
	Revoked     []string     `json:"revoked,omitempty"`
	Revocations []Revocation `json:"revocations,omitempty"`
	// Promotions are the key promotions the scenario's rotation made.
	Promotions []Promotion `json:"promotions,omitempty"`
	// FaultNotes are what the faults said they did, in order.
	FaultNotes []FaultNote `json:"fault_notes,omitempty"`
	// ReadBack is every acknowledged registration, looked up after heal.
	ReadBack []RegistrationRead `json:"read_back,omitempty"`
	// DuplicatesRead is whether the run's registration addresses were
	// looked up in the identity store after heal; Duplicates lists those
	// more than one identity holds.
	DuplicatesRead bool     `json:"duplicates_read,omitempty"`
	Duplicates     []string `json:"duplicates,omitempty"`
	DuplicatesErr  string   `json:"duplicates_error,omitempty"`
	// WritesRead is whether the writer probe's acknowledged writes were
	// read back after heal; WritesMissing the keys not found, and
	// WritesErr why they could not be read (all then count as lost).
	WritesRead    bool     `json:"writes_read,omitempty"`
	WritesMissing []string `json:"writes_missing,omitempty"`
	WritesErr     string   `json:"writes_error,omitempty"`
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
	// SuccessRate of logins (password, session and browser) over the whole
	// run.
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
	// Explained is the known upstream defect every failure of the check
	// fits, as the check found (Known is set from it when the SLO
	// tolerates it); Occurrences counts those failures.
	Explained   string `json:"explained,omitempty"`
	Occurrences int    `json:"occurrences,omitempty"`
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
	// NotRun says why the scenario did not run (its faults need what the
	// target does not have, or the suite stopped before it). A scenario
	// not run never passes; the suite's verdict is over those that ran.
	NotRun string `json:"not_run,omitempty"`
	// Steady is the steady state judged before the first fault.
	Steady *SteadyState `json:"steady,omitempty"`
	// CPU is the machine's and the harness's CPU use over the scenario.
	CPU *CPUUse `json:"cpu,omitempty"`
}

// SteadyState is the check before a scenario's first fault: every login
// succeeded and latency stayed within Factor of the quiet baseline.
type SteadyState struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Windows is how many warm-up windows it took (a stack that settles
	// gets a few before it is refused).
	Windows int `json:"windows"`
	// P50Ratio and P95Ratio are the warm-up's full-login percentiles over
	// the quiet baseline's.
	P50Ratio float64 `json:"p50_ratio"`
	P95Ratio float64 `json:"p95_ratio"`
}

// CPUUse is CPU time over a span as a share of the whole machine (1 is
// every core busy).
type CPUUse struct {
	Machine float64 `json:"machine"`
	// Harness is the chaos process and its children (Chromium) alone.
	Harness float64 `json:"harness"`
	Cores   int     `json:"cores"`
}

// Load is how the probe rates were set: the capacity measured before the
// suite, the headroom, and the rates chosen.
type Load struct {
	// Headroom is the share of the measured capacity the probes may use.
	Headroom float64 `json:"headroom"`
	// Utilisation is the share the chosen rates use.
	Utilisation float64 `json:"utilisation"`
	// FullPerSecond and SessionPerSecond are the measured capacities
	// (closed-loop bursts) of password logins and session logins.
	FullPerSecond    float64 `json:"full_per_second"`
	SessionPerSecond float64 `json:"session_per_second"`
	// PathPerSecond is the measured capacity of path probes.
	PathPerSecond float64 `json:"path_per_second,omitempty"`
	// Quiet is the baseline: sequential logins on the otherwise idle
	// stack.
	QuietFull    Percentiles `json:"quiet_full"`
	QuietSession Percentiles `json:"quiet_session"`
	// The periods chosen (per region for logins).
	LoginEvery    time.Duration `json:"login_every"`
	SessionEvery  time.Duration `json:"session_every"`
	RegisterEvery time.Duration `json:"register_every"`
	BrowserEvery  time.Duration `json:"browser_every"`
	PathEvery     time.Duration `json:"path_every,omitempty"`
	// Overridden names the flags that set a period instead of the plan.
	Overridden []string `json:"overridden,omitempty"`
	// CPU is the machine's CPU use during the bursts.
	CPU *CPUUse `json:"cpu,omitempty"`
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
	Load     *Load             `json:"load,omitempty"`
	Results  []Result          `json:"results"`
	Passed   bool              `json:"passed"`
}

// PercentilesOf is the nearest-rank percentiles of d; zero when d is
// empty.
func PercentilesOf(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	d = slices.Clone(d)
	slices.Sort(d)
	at := func(p int) time.Duration {
		i := (len(d)*p + 99) / 100
		if i > 0 {
			i--
		}
		return d[i]
	}
	return Percentiles{N: len(d), P50: at(50), P95: at(95), P99: at(99)}
}
