package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/idstack/idstack/chaos"
)

// WriteJSON writes r as indented JSON; durations are integer nanoseconds
// and instants RFC 3339. ReadJSON reads it back.
func WriteJSON(w io.Writer, r chaos.SuiteResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write suite result: %w", err)
	}
	return nil
}

// ReadJSON reads a suite result written by WriteJSON, to render it again or
// replay its scenarios. Unknown fields are ignored so that older readers
// accept newer reports.
func ReadJSON(r io.Reader) (chaos.SuiteResult, error) {
	var s chaos.SuiteResult
	dec := json.NewDecoder(r)
	if err := dec.Decode(&s); err != nil {
		return chaos.SuiteResult{}, fmt.Errorf("read suite result: %w", err)
	}
	if dec.More() {
		return chaos.SuiteResult{}, fmt.Errorf("read suite result: %w", ErrTrailingData)
	}
	return s, nil
}
