// Package chaos runs fault scenarios against a running idstack while real
// logins flow, then checks what happened: traffic → fault → history →
// check → report. Scenarios are data (a name, faults with their timing,
// probes, invariants and an SLO); a run is seeded and its report names the
// seed, so it replays exactly.
//
// The root package holds the domain types; subpackages hold one concern
// each: scenario (the catalogue), fault (faults as values), probe
// (traffic), check (invariants and measurements), report (JSON, HTML,
// Markdown) and runner (the schedule that ties them together).
package chaos
