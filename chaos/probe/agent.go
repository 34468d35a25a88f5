package probe

import (
	"net/http"

	"github.com/idstack/idstack/internal/webagent"
	"github.com/idstack/idstack/internal/webform"
)

// newAgent is a browser-like client (package webagent) that stops at
// stopAt, the relying party's callback.
func newAgent(base *http.Client, stopAt string) *webagent.Agent { return webagent.New(base, stopAt) }

// formWith returns the first form on the page that has an input named
// field.
func formWith(body, field string) (webform.Form, error) { return webform.With(body, field) }
