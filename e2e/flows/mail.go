package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// mailedCode waits, until ctx is done, for the newest mail to addr whose
// subject or text contains word, and returns the six-digit code in it. The
// mail sink's long poll answers at once when any mail to addr exists, so
// between polls it waits a short gap.
func (r *Runner) mailedCode(ctx context.Context, addr, word string) (string, error) {
	if r.Target.Mail == "" || r.Target.HTTP == nil {
		return "", fmt.Errorf("%w: the target has no mail sink", ErrNoMail)
	}
	for {
		code, err := r.findCode(ctx, addr, word)
		if err != nil || code != "" {
			return code, err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w to %s mentioning %q: %v", ErrNoMail, addr, word, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (r *Runner) findCode(ctx context.Context, addr, word string) (string, error) {
	u := r.Target.Mail + "/api/messages?wait=5s&to=" + url.QueryEscape(addr)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := r.Target.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("mail sink: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("mail sink: %s", resp.Status)
	}
	var msgs []struct{ Subject, Text string }
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		return "", fmt.Errorf("mail sink: %w", err)
	}
	for _, m := range msgs { // newest first
		if strings.Contains(strings.ToLower(m.Subject), word) || strings.Contains(m.Text, word) {
			if code := sixDigits.FindString(m.Text); code != "" {
				return code, nil
			}
		}
	}
	return "", nil
}
