package keyrotation_test

import (
	"io"
	"log/slog"
)

func newJSONLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
