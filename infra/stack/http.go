package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/idstack/idstack/infra"
)

// GetOK GETs url from the host (names resolved to loopback) and wants 200.
func GetOK(ctx context.Context, t infra.Topology, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := t.HTTPClient(3 * time.Second)
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}
