package keyrotation

import (
	"errors"
	"testing"
	"time"
)

func sampleJournal() Journal {
	j := Journal{SetRef: SetRef{Issuer: "http://hydra.test/", Set: "s"}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, kid := range []string{"a", "b"} {
		j.Keys = append(j.Keys, Key{Kid: kid, GeneratedAt: now})
		k := &j.Keys[len(j.Keys)-1]
		e := Entry{At: now, Kid: kid, To: StateGenerated, Event: "generate"}
		k.State = StateGenerated
		e.KeySHA256 = keyDigest(*k)
		j.append(e)
	}
	k := &j.Keys[0]
	k.ActivatedAt = &now
	e := Entry{At: now, Kid: "a", From: StateGenerated, To: StateActive, Event: "activate"}
	k.State = StateActive
	e.KeySHA256 = keyDigest(*k)
	j.append(e)
	return j
}

func TestCheckChainCatchesEdits(t *testing.T) {
	if err := sampleJournal().CheckChain(); err != nil {
		t.Fatalf("an untouched journal: %v", err)
	}
	later := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		tamper func(*Journal)
	}{
		{"edited entry", func(j *Journal) { j.Entries[1].Reason = "x" }},
		{"reordered entries", func(j *Journal) { j.Entries[0], j.Entries[1] = j.Entries[1], j.Entries[0] }},
		{"key state without an entry", func(j *Journal) { j.Keys[1].State = StatePublished }},
		{"backdated time without an entry", func(j *Journal) { j.Keys[0].ActivatedAt = &later }},
		{"adopted flag flipped", func(j *Journal) { j.Keys[0].Adopted = true }},
		{"dropped key", func(j *Journal) { j.Keys = j.Keys[:1] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := sampleJournal()
			tt.tamper(&j)
			if err := j.CheckChain(); !errors.Is(err, ErrTampered) {
				t.Fatalf("got %v, want ErrTampered", err)
			}
		})
	}
}

// An attacker who can write the journal can recompute an unkeyed chain;
// the KV version history (which the job cannot delete) still shows it.
func TestCheckHistoryCatchesARecomputedChain(t *testing.T) {
	older := sampleJournal()
	older.Version = 3
	forged := sampleJournal()
	forged.Version = 4
	// Truncate the last entry, roll its key back, recompute everything.
	forged.Entries = forged.Entries[:2]
	forged.Keys[0].State, forged.Keys[0].ActivatedAt = StateGenerated, nil
	if err := forged.CheckChain(); err != nil {
		t.Fatalf("setup: the forgery should pass the chain check alone: %v", err)
	}
	if err := forged.CheckHistory(older); !errors.Is(err, ErrTampered) {
		t.Fatalf("got %v, want ErrTampered", err)
	}
	grown := sampleJournal()
	grown.append(Entry{Kid: "b", From: StateGenerated, To: StateGenerated, Event: "visible"})
	if err := grown.CheckHistory(older); err != nil {
		t.Fatalf("an appended journal: %v", err)
	}
}
