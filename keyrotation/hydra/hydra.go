// Package hydra implements keyrotation.Hydra and keyrotation.Regions with
// github.com/ory/client-go: JSON Web Key admin calls to one Hydra admin API
// (every region shares its database), and each region's public
// /.well-known/jwks.json, read as a verifier there reads it.
package hydra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	ory "github.com/ory/client-go"

	"github.com/idstack/idstack/keyrotation"
)

var (
	_ keyrotation.Hydra   = (*Admin)(nil)
	_ keyrotation.Regions = (*Regions)(nil)
)

func newAPI(baseURL string, httpClient *http.Client) *ory.APIClient {
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: baseURL}}
	cfg.HTTPClient = httpClient
	cfg.UserAgent = "idstack-keyrotation"
	return ory.NewAPIClient(cfg)
}

// apiError makes a client-go error say what Hydra answered.
func apiError(op string, resp *http.Response, err error) error {
	var ge *ory.GenericOpenAPIError
	if resp != nil && errors.As(err, &ge) {
		body := ge.Body()
		if len(body) > 512 {
			body = body[:512]
		}
		return fmt.Errorf("%s: Hydra answered %s: %s", op, resp.Status, body)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Admin talks to Hydra's admin API.
type Admin struct{ api *ory.APIClient }

// NewAdmin returns an Admin for Hydra's admin base URL. httpClient must
// have a timeout.
func NewAdmin(adminURL string, httpClient *http.Client) *Admin {
	return &Admin{api: newAPI(adminURL, httpClient)}
}

// toJOSE converts client-go's JWK to the keyrotation JWK.
func toJOSE(k ory.JsonWebKey) (keyrotation.JWK, error) {
	data, err := json.Marshal(k)
	if err != nil {
		return keyrotation.JWK{}, err
	}
	var out keyrotation.JWK
	if err := json.Unmarshal(data, &out); err != nil {
		return keyrotation.JWK{}, fmt.Errorf("decode key %s from Hydra: %w", k.Kid, err)
	}
	return out, nil
}

func fromJOSE(k keyrotation.JWK) (ory.JsonWebKey, error) {
	data, err := json.Marshal(k)
	if err != nil {
		return ory.JsonWebKey{}, err
	}
	var out ory.JsonWebKey
	if err := json.Unmarshal(data, &out); err != nil {
		return ory.JsonWebKey{}, err
	}
	return out, nil
}

// Keys implements keyrotation.Hydra: GET /admin/keys/{set}, newest first.
func (a *Admin) Keys(ctx context.Context, set string) ([]keyrotation.JWK, error) {
	got, resp, err := a.api.JwkAPI.GetJsonWebKeySet(ctx, set).Execute()
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, apiError("get key set "+set, resp, err)
	}
	out := make([]keyrotation.JWK, 0, len(got.Keys))
	for _, k := range got.Keys {
		jk, err := toJOSE(k)
		if err != nil {
			return nil, err
		}
		out = append(out, jk)
	}
	return out, nil
}

// PutKey implements keyrotation.Hydra: PUT /admin/keys/{set}/{kid}.
func (a *Admin) PutKey(ctx context.Context, set string, key keyrotation.JWK) error {
	k, err := fromJOSE(key)
	if err != nil {
		return err
	}
	_, resp, err := a.api.JwkAPI.SetJsonWebKey(ctx, set, key.KeyID).JsonWebKey(k).Execute()
	if err != nil {
		return apiError("put key "+key.KeyID, resp, err)
	}
	return nil
}

// DeleteKey implements keyrotation.Hydra: DELETE /admin/keys/{set}/{kid};
// a missing key is not an error.
func (a *Admin) DeleteKey(ctx context.Context, set, kid string) error {
	resp, err := a.api.JwkAPI.DeleteJsonWebKey(ctx, set, kid).Execute()
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return apiError("delete key "+kid, resp, err)
	}
	return nil
}

// Regions reads every region's public JWKS.
type Regions struct {
	names []string
	apis  map[string]*ory.APIClient
}

// NewRegions takes region name → Hydra public base URL.
func NewRegions(publicURLs map[string]string, httpClient *http.Client) *Regions {
	r := &Regions{apis: map[string]*ory.APIClient{}}
	for name, u := range publicURLs {
		r.names = append(r.names, name)
		r.apis[name] = newAPI(u, httpClient)
	}
	sort.Strings(r.names)
	return r
}

// Names implements keyrotation.Regions.
func (r *Regions) Names() []string { return r.names }

// PublishedKids implements keyrotation.Regions: GET /.well-known/jwks.json.
func (r *Regions) PublishedKids(ctx context.Context, region string) ([]string, error) {
	api, ok := r.apis[region]
	if !ok {
		return nil, fmt.Errorf("unknown region %q", region)
	}
	set, resp, err := api.WellknownAPI.DiscoverJsonWebKeys(ctx).Execute()
	if err != nil {
		return nil, apiError("jwks of "+region, resp, err)
	}
	kids := make([]string, 0, len(set.Keys))
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids, nil
}
