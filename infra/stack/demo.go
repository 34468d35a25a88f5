package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/idstack/idstack/infra"
)

// registerDemoClient creates (or, when it exists, replaces) the demo app's
// OAuth2 client in Hydra, with the id every demo app replica and the bridge's
// first-party list know.
func (s *Stack) registerDemoClient(ctx context.Context, secret string) error {
	t := s.Topology
	app := DemoAppURL(t)
	body, err := json.Marshal(map[string]any{
		"client_id": infra.DemoClientID, "client_secret": secret, "client_name": "idstack demo app",
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"scope": "openid email profile offline_access", "token_endpoint_auth_method": "client_secret_basic",
		"redirect_uris": []string{app + "/callback"}, "post_logout_redirect_uris": []string{app + "/logged-out"},
	})
	if err != nil {
		return err
	}
	admin := t.AdminURL(infra.HostHydra, t.Primary()) + "/admin/clients"
	c := t.HTTPClient(15 * time.Second)
	send := func(method, url string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, string(b), nil
	}
	code, msg, err := send(http.MethodPost, admin)
	if err == nil && code == http.StatusConflict {
		code, msg, err = send(http.MethodPut, admin+"/"+infra.DemoClientID)
	}
	if err != nil {
		return fmt.Errorf("register the demo app's client: %w", err)
	}
	if code/100 != 2 {
		return fmt.Errorf("register the demo app's client: %d %s", code, msg)
	}
	return nil
}
