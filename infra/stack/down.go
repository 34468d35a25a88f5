package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	dc "github.com/ory/dockertest/v3/docker"
)

// Removed counts what Down removed.
type Removed struct{ Containers, Networks, Volumes int }

func (r Removed) String() string {
	return fmt.Sprintf("%d containers, %d networks, %d volumes", r.Containers, r.Networks, r.Volumes)
}

func (s *Stack) labelFilter() map[string][]string {
	return map[string][]string{"label": {LabelStack + "=" + s.Topology.Name}}
}

// containers lists the stack's containers, found by label.
func (s *Stack) containers(runningOnly bool) ([]dc.APIContainers, error) {
	cs, err := s.pool.Client.ListContainers(dc.ListContainersOptions{All: !runningOnly, Filters: s.labelFilter()})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	return cs, nil
}

// Down removes every container, network and volume labelled with the
// stack's name, and its state directory. It removes nothing else.
func (s *Stack) Down(ctx context.Context) error {
	removed, err := s.down(ctx)
	s.logf("removed %s", removed)
	return err
}

func (s *Stack) down(ctx context.Context) (Removed, error) {
	var removed Removed
	var errs []error
	cs, err := s.containers(false)
	if err != nil {
		return removed, err
	}
	s.stopProfiled(ctx, cs)
	for _, c := range cs {
		if err := s.pool.Client.RemoveContainer(dc.RemoveContainerOptions{ID: c.ID, Force: true, RemoveVolumes: true, Context: ctx}); err != nil {
			var nsc *dc.NoSuchContainer
			if !errors.As(err, &nsc) {
				errs = append(errs, fmt.Errorf("remove container %s: %w", strings.Join(c.Names, ","), err))
				continue
			}
		}
		removed.Containers++
	}
	nets, err := s.pool.Client.FilteredListNetworks(s.networkFilter())
	if err != nil {
		errs = append(errs, fmt.Errorf("list networks: %w", err))
	}
	for _, n := range nets {
		if err := s.pool.Client.RemoveNetwork(n.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		removed.Networks++
	}
	vols, err := s.pool.Client.ListVolumes(dc.ListVolumesOptions{Filters: s.labelFilter(), Context: ctx})
	if err != nil {
		errs = append(errs, fmt.Errorf("list volumes: %w", err))
	}
	for _, v := range vols {
		if err := s.pool.Client.RemoveVolumeWithOptions(dc.RemoveVolumeOptions{Name: v.Name, Context: ctx}); err != nil {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
			continue
		}
		removed.Volumes++
	}
	if s.opts.StateDir != "" {
		if err := os.RemoveAll(filepath.Join(s.opts.StateDir, s.Topology.Name)); err != nil {
			errs = append(errs, fmt.Errorf("remove state: %w", err))
		}
	}
	return removed, errors.Join(errs...)
}

// stopProfiled stops the profiled replicas among cs with their stop
// signal, all at once, so each writes its CPU profile before it is
// removed. A replica that does not stop in time is killed by the removal.
func (s *Stack) stopProfiled(ctx context.Context, cs []dc.APIContainers) {
	var wg sync.WaitGroup
	for _, c := range cs {
		if c.Labels[LabelProfiled] == "" || c.State != "running" {
			continue
		}
		wg.Go(func() {
			if err := s.pool.Client.StopContainerWithContext(c.ID, 20, ctx); err != nil {
				s.logf("stop %s for its profile: %v", strings.Join(c.Names, ","), err)
			}
		})
	}
	wg.Wait()
}

// Leftovers counts what still carries the stack's label (0 after Down).
func (s *Stack) Leftovers(ctx context.Context) (Removed, error) {
	var left Removed
	cs, err := s.containers(false)
	if err != nil {
		return left, err
	}
	left.Containers = len(cs)
	nets, err := s.pool.Client.FilteredListNetworks(s.networkFilter())
	if err != nil {
		return left, err
	}
	left.Networks = len(nets)
	vols, err := s.pool.Client.ListVolumes(dc.ListVolumesOptions{Filters: s.labelFilter(), Context: ctx})
	if err != nil {
		return left, err
	}
	left.Volumes = len(vols)
	return left, nil
}

func (s *Stack) networkFilter() dc.NetworkFilterOpts {
	return dc.NetworkFilterOpts{"label": {LabelStack + "=" + s.Topology.Name: true}}
}
