package infra

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// IsLocalName reports whether host is a name under the topology's domain.
func (t Topology) IsLocalName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == t.Domain || strings.HasSuffix(host, "."+t.Domain)
}

// DialContext dials like net.Dialer but resolves every name under the
// topology's domain to 127.0.0.1, where the edges publish their ports. It is
// how host-side Go clients reach the same URLs containers use.
func (t Topology) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, port, err := net.SplitHostPort(addr); err == nil && t.IsLocalName(host) {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// HTTPClient returns a client for host-side use that resolves the
// topology's names to loopback, with the given overall timeout. It does not
// follow redirects off the topology's domain.
func (t Topology) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         t.DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			if !t.IsLocalName(req.URL.Hostname()) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// ChromiumHostRules is the value of Chromium's --host-resolver-rules that
// sends every name under the topology's domain to loopback.
func (t Topology) ChromiumHostRules() string {
	return "MAP *." + t.Domain + " 127.0.0.1, MAP " + t.Domain + " 127.0.0.1"
}
