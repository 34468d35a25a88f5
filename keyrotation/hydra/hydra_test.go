package hydra

import (
	"testing"

	"github.com/idstack/idstack/keyrotation"
)

func TestJWKConversionKeepsPrivateParts(t *testing.T) {
	k, err := keyrotation.GenerateKey(keyrotation.ES256, 0)
	if err != nil {
		t.Fatal(err)
	}
	o, err := fromJOSE(k)
	if err != nil {
		t.Fatal(err)
	}
	if o.D == nil || o.Kid != k.KeyID || o.Alg != "ES256" || o.Use != "sig" {
		t.Fatalf("client-go key lost fields: %+v", o)
	}
	back, err := toJOSE(o)
	if err != nil || back.IsPublic() || back.KeyID != k.KeyID {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	pub, _ := fromJOSE(keyrotation.PublicOnly(k))
	if pub.D != nil {
		t.Fatal("a public-only key carries d")
	}
}

func TestNextLink(t *testing.T) {
	h := `</admin/clients?page_size=500&page_token=abc>; rel="next", </admin/clients?page_size=500>; rel="first"`
	m := nextLink.FindStringSubmatch(h)
	if m == nil || m[1] != "/admin/clients?page_size=500&page_token=abc" {
		t.Fatalf("got %v", m)
	}
}
