package mailsink

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// API paths.
const (
	PathMessages = "/api/messages"
	PathMessage  = "/api/messages/{id}"
	PathHealth   = "/health"
)

// maxWait bounds the long-poll wait of GET /api/messages?wait=.
const maxWait = 30 * time.Second

// Handler serves the HTTP API:
//
//	GET    /api/messages?to=ADDR&wait=5s  newest first; wait long-polls until one exists
//	GET    /api/messages/{id}
//	DELETE /api/messages
//	GET    /health
func Handler(store *Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET "+PathMessages, func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		var wait time.Duration
		if v := r.URL.Query().Get("wait"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > maxWait {
				http.Error(w, "wait: want a duration from 0s to 30s", http.StatusBadRequest)
				return
			}
			wait = d
		}
		deadline := time.NewTimer(wait)
		defer deadline.Stop()
		for {
			changed := store.Changed()
			msgs := store.List(to)
			if len(msgs) > 0 || wait == 0 {
				writeJSON(w, msgs)
				return
			}
			select {
			case <-changed:
			case <-deadline.C:
				writeJSON(w, msgs)
				return
			case <-r.Context().Done():
				return
			}
		}
	})
	mux.HandleFunc("GET "+PathMessage, func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "id: want an integer", http.StatusBadRequest)
			return
		}
		m, err := store.Get(id)
		if errors.Is(err, ErrNotFound) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, m)
	})
	mux.HandleFunc("DELETE "+PathMessages, func(w http.ResponseWriter, r *http.Request) {
		store.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
