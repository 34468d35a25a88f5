package stack

import (
	"bytes"
	"context"

	dc "github.com/ory/dockertest/v3/docker"
)

func execOptions(id string, cmd []string) dc.CreateExecOptions {
	return dc.CreateExecOptions{Container: id, Cmd: cmd, AttachStdout: true, AttachStderr: true}
}

func startExecOptions(ctx context.Context) dc.StartExecOptions {
	var out bytes.Buffer
	return dc.StartExecOptions{OutputStream: &out, ErrorStream: &out, Context: ctx}
}
