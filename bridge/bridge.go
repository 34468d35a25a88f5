// Package bridge is the service between Hydra and Kratos: it renders every
// Kratos self-service flow, handles Hydra's consent and logout, and maps
// identity traits to OIDC claims.
//
// This package holds the parts every handler relies on and that need no
// server: input validation (challenges, flow ids, return addresses), the
// claims mapping, and CSRF tokens for the bridge's own forms.
package bridge
