package scenario

import (
	"reflect"
	"testing"

	"github.com/idstack/idstack/infra"
)

func TestCatalogueIsSeeded(t *testing.T) {
	top := infra.Default()
	a, b := Catalogue(top, 42), Catalogue(top, 42)
	for i := range a {
		if a[i].Plan() != b[i].Plan() {
			t.Errorf("seed 42 gave two plans for %s:\n%s\n%s", a[i].Name, a[i].Plan(), b[i].Plan())
		}
	}
	differ := false
	for seed := int64(0); seed < 20 && !differ; seed++ {
		c := Catalogue(top, seed)
		for i := range a {
			differ = differ || c[i].Plan() != a[i].Plan()
		}
	}
	if !differ {
		t.Error("twenty seeds all picked the same replicas and regions")
	}
}

func TestCatalogueIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Catalogue(infra.Default(), 1) {
		if seen[s.Name] {
			t.Errorf("scenario %s twice", s.Name)
		}
		seen[s.Name] = true
		if len(s.Faults) == 0 || s.Description == "" {
			t.Errorf("%s: %d faults, description %q", s.Name, len(s.Faults), s.Description)
		}
		// Only a scenario that takes every region down may leave the
		// success floor and the window unjudged (kill-db-primary on one
		// PostgreSQL node).
		everyRegion := len(s.SLO.Exempt) == len(infra.Default().Regions)+1
		if (!everyRegion && (s.SLO.MinSuccess <= 0 || s.SLO.MaxUnavailable <= 0)) || s.SLO.MaxRecovery <= 0 {
			t.Errorf("%s: SLO %+v has an unset bound", s.Name, s.SLO)
		}
		if s.Duration() <= 0 {
			t.Errorf("%s: no duration", s.Name)
		}
	}
	// What issues #6 and #15 name.
	for _, n := range []string{"kill-hydra-replica", "kill-kratos-replica", "kill-bridge-replica", "region-loses-hydra",
		"pause-kratos", "cut-region", "slow-wan", "kill-cockroach-node", "vault-down-during-rotation",
		"scheduled-rotation", "emergency-revoke", "kill-during-rotation",
		"kill-db-primary", "kill-db-standby", "kill-etcd-member", "pause-db-primary", "cut-primary-site", "switchover", "rolling-restart-db"} {
		if !seen[n] {
			t.Errorf("catalogue lacks %s", n)
		}
	}
}

func TestSelect(t *testing.T) {
	all := Catalogue(infra.Default(), 1)
	tests := []struct {
		name    string
		suite   string
		names   []string
		want    []string
		wantErr bool
	}{
		{name: "short", suite: SuiteShort, want: []string{"kill-kratos-replica", "region-loses-hydra", "scheduled-rotation", "kill-during-rotation", "kill-db-primary"}},
		{name: "named, in the order given", names: []string{"slow-wan", "cut-region"}, want: []string{"slow-wan", "cut-region"}},
		{name: "unknown name", names: []string{"nope"}, wantErr: true},
		{name: "unknown suite", suite: "long", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(all, tt.suite, tt.names)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			if !tt.wantErr && !reflect.DeepEqual(names, tt.want) {
				t.Errorf("got %v, want %v", names, tt.want)
			}
		})
	}
	if got, _ := Select(all, SuiteDefault, nil); len(got) != len(all) {
		t.Errorf("default suite has %d scenarios, want all %d", len(got), len(all))
	}
}

func TestDatabaseScenariosFollowTheTier(t *testing.T) {
	byName := func(top infra.Topology) map[string]Scenario {
		out := map[string]Scenario{}
		for _, s := range Catalogue(top, 7) {
			out[s.Name] = s
		}
		return out
	}
	ha := infra.Default()
	ha.Database = infra.DatabasePatroni
	one := infra.Default()
	one.Database = infra.DatabasePostgres
	h, o := byName(ha), byName(one)
	if k := h["kill-db-primary"]; len(k.SLO.Exempt) != 0 || k.SLO.MaxUnavailable <= 0 {
		t.Errorf("patroni kill-db-primary: %+v, want every region judged", k)
	}
	if k := o["kill-db-primary"]; k.PrimaryAt != "" || len(k.SLO.Exempt) != len(one.Regions)+1 {
		t.Errorf("postgres kill-db-primary: %+v, want every region exempt and no placement", k)
	}
	cut := h["cut-primary-site"]
	site := cut.Faults[0].Fault.Target()
	if cut.PrimaryAt == "" || !reflect.DeepEqual(cut.SLO.Exempt, []string{cut.PrimaryAt}) || site != cut.PrimaryAt+" (holds the primary)" {
		t.Errorf("cut-primary-site places the primary at %q, cuts %q, exempts %v: want one site throughout", cut.PrimaryAt, site, cut.SLO.Exempt)
	}
	// Only a scenario with an exemption needs the primary placed.
	for _, sc := range h {
		if (sc.PrimaryAt != "") != (sc.Name == "cut-primary-site") {
			t.Errorf("%s places the primary at %q", sc.Name, sc.PrimaryAt)
		}
	}
}
