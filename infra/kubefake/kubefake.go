// Package kubefake answers the one Kubernetes API call Vault's Kubernetes
// auth method makes, TokenReview, from a fixed table of service-account
// tokens. It lets the integration tests log in to a real Vault with
// Kubernetes auth on a machine that has no Kubernetes cluster.
package kubefake

import (
	"encoding/json"
	"net/http"
)

// PathTokenReviews is the TokenReview endpoint.
const PathTokenReviews = "/apis/authentication.k8s.io/v1/tokenreviews"

type tokenReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Token     string   `json:"token"`
		Audiences []string `json:"audiences,omitempty"`
	} `json:"spec"`
	Status reviewStatus `json:"status"`
}

type reviewStatus struct {
	Authenticated bool      `json:"authenticated"`
	User          *userInfo `json:"user,omitempty"`
	Audiences     []string  `json:"audiences,omitempty"`
	Error         string    `json:"error,omitempty"`
}

type userInfo struct {
	Username string   `json:"username"`
	UID      string   `json:"uid"`
	Groups   []string `json:"groups"`
}

// Handler authenticates a token found in tokens (token → service account
// "namespace/name") and refuses every other.
func Handler(tokens map[string]string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathTokenReviews, func(w http.ResponseWriter, r *http.Request) {
		var tr tokenReview
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&tr); err != nil {
			http.Error(w, "bad TokenReview: "+err.Error(), http.StatusBadRequest)
			return
		}
		tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenReview"
		if sa, ok := tokens[tr.Spec.Token]; ok {
			tr.Status = reviewStatus{
				Authenticated: true,
				User: &userInfo{Username: "system:serviceaccount:" + replaceSlash(sa), UID: "uid-" + replaceSlash(sa),
					Groups: []string{"system:serviceaccounts"}},
				Audiences: tr.Spec.Audiences,
			}
		} else {
			tr.Status = reviewStatus{Error: "token not recognised"}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(tr)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	return mux
}

func replaceSlash(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c == '/' {
			out[i] = ':'
		}
	}
	return string(out)
}
