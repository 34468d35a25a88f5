package report

import (
	"bytes"
	"io"
	"testing"
)

// FuzzReadJSON: any bytes either fail to read with an error or give a
// suite result that renders as HTML and Markdown without a panic: a
// report handed to render or --replay may come from anywhere.
func FuzzReadJSON(f *testing.F) {
	// A small report of every kind of record: the fuzzer mutates a seed
	// of a few kilobytes much faster than the whole fixture (130 KB).
	small := fixture()
	small.Results = small.Results[:1]
	h := &small.Results[0].History
	h.Events = h.Events[:min(len(h.Events), 6)]
	h.Faults = h.Faults[:min(len(h.Faults), 2)]
	h.Keys = h.Keys[:min(len(h.Keys), 2)]
	var buf bytes.Buffer
	if err := WriteJSON(&buf, small); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"results":[{"history":{"start":"0001-01-01T00:00:00Z","end":"9999-12-31T23:59:59Z"}}]}`))
	f.Add([]byte(`{"results":[{"history":{"events":[{"probe":"login","start":"2026-01-01T00:00:00Z","latency":-1}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := WriteHTML(io.Discard, r); err != nil {
			t.Logf("html: %v", err) // an error is fine; a panic or a hang is not
		}
		if err := WriteMarkdown(io.Discard, r); err != nil {
			t.Logf("markdown: %v", err)
		}
	})
}
