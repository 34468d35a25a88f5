package stack

import (
	"bytes"
	"context"
	"fmt"

	dc "github.com/ory/dockertest/v3/docker"
)

// exec runs cmd in a container and fails unless it exits 0; it returns the
// command's output either way.
func (s *Stack) exec(ctx context.Context, id string, cmd ...string) (string, error) {
	e, err := s.pool.Client.CreateExec(dc.CreateExecOptions{Container: id, Cmd: cmd, AttachStdout: true, AttachStderr: true, Context: ctx})
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := s.pool.Client.StartExec(e.ID, dc.StartExecOptions{OutputStream: &out, ErrorStream: &out, Context: ctx}); err != nil {
		return out.String(), err
	}
	info, err := s.pool.Client.InspectExec(e.ID)
	if err != nil {
		return out.String(), err
	}
	if info.ExitCode != 0 {
		return out.String(), fmt.Errorf("%v exited with code %d", cmd, info.ExitCode)
	}
	return out.String(), nil
}
