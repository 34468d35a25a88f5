package main

import (
	"fmt"
	"strings"

	"github.com/idstack/idstack/chaos/scenario"
)

// runList prints the catalogue: each scenario's plan for the topology and
// seed, marking those of the short suite.
func runList(args []string) error {
	c := defaultConfig()
	fs := c.flags("list")
	if err := fs.Parse(args); err != nil {
		return err
	}
	top, err := c.topology()
	if err != nil {
		return err
	}
	for _, s := range scenario.Catalogue(top, int64(c.Seed)) {
		mark := ""
		if s.Short {
			mark = " [short]"
		}
		plan := strings.TrimRight(s.Plan(), "\n")
		first, rest, _ := strings.Cut(plan, "\n")
		fmt.Printf("%s%s\n%s\n\n", first, mark, rest)
	}
	fmt.Printf("seed %d picks the replicas and regions above; run --seed %d to get the same ones\n", c.Seed, c.Seed)
	return nil
}
