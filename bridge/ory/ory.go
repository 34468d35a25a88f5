// Package ory implements bridge.Kratos and bridge.Hydra with
// github.com/ory/client-go v1.14.3 (the client Kratos v1.3.1 builds with).
package ory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	ory "github.com/ory/client-go"

	"github.com/idstack/idstack/bridge"
)

func newAPI(baseURL string, httpClient *http.Client) *ory.APIClient {
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: baseURL}}
	cfg.HTTPClient = httpClient
	cfg.UserAgent = "idstack-bridge"
	return ory.NewAPIClient(cfg)
}

// ready GETs base + "/health/ready" and wants 200.
func ready(ctx context.Context, c *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/health/ready", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health/ready: %s", resp.Status)
	}
	return nil
}

// status returns the HTTP status of a client-go call (0 on a transport
// error).
func status(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// upstreamError describes a failed call without echoing bodies or query
// strings (they carry challenges, verifiers and tokens) into errors that
// reach logs. An answer becomes a *bridge.StatusError.
func upstreamError(op string, resp *http.Response, err error) error {
	if resp != nil {
		return &bridge.StatusError{Op: op, Code: resp.StatusCode}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", op, &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err})
	}
	var ge *ory.GenericOpenAPIError
	if errors.As(err, &ge) {
		return fmt.Errorf("%s: %s", op, ge.Error())
	}
	return fmt.Errorf("%s: %w", op, err)
}

// redactURL drops a URL's query, fragment and userinfo.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}
