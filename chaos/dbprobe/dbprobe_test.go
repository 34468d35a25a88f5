package dbprobe

import "testing"

func TestTimelineOf(t *testing.T) {
	for in, want := range map[string]int{"000000010000000000000003": 1, "0000000A0000000100000000": 10, "000000ff0000000000000001": 255} {
		if got, err := TimelineOf(in); err != nil || got != want {
			t.Errorf("TimelineOf(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "00000001", "zzzzzzzz0000000000000003", "000000000000000000000003", "0000000100000000000000030"} {
		if _, err := TimelineOf(bad); err == nil {
			t.Errorf("TimelineOf(%q) took it", bad)
		}
	}
}

func FuzzTimelineOf(f *testing.F) {
	f.Add("000000010000000000000003")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tl, err := TimelineOf(s)
		if err == nil && (tl <= 0 || len(s) != 24) {
			t.Errorf("TimelineOf(%q) = %d with no error", s, tl)
		}
	})
}
