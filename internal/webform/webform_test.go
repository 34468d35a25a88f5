package webform

import (
	"strings"
	"testing"
)

const page = `<html><body>
<input name="outside" value="x">
<form action="/self-service/login?flow=1" method="post">
  <input type="hidden" name="csrf_token" value="t0k">
  <input name="identifier" value="">
  <input type="password" name="password">
  <input type="checkbox" name="remember" value="true">
  <input type="checkbox" name="scope" value="openid" checked>
  <input type="checkbox" name="scope" value="email" checked>
  <input type="radio" name="lang" value="en" checked><input type="radio" name="lang" value="ja">
  <button type="submit" name="method" value="password">Sign in</button>
</form>
<form action="/consent"><input type="hidden" name="consent_challenge" value="c1"></form>
</body></html>`

func TestParse(t *testing.T) {
	forms, err := Parse(page)
	if err != nil || len(forms) != 2 {
		t.Fatalf("got %d forms, %v", len(forms), err)
	}
	f := forms[0]
	if f.Action != "/self-service/login?flow=1" {
		t.Errorf("action %q", f.Action)
	}
	if got := f.Fields.Encode(); got != "csrf_token=t0k&identifier=&lang=en&password=&scope=openid&scope=email" {
		t.Errorf("fields %s", got)
	}
	if _, ok := f.Fields["outside"]; ok {
		t.Error("an input outside the form was read into it")
	}
	if _, ok := f.Fields["method"]; ok {
		t.Error("a button was read as an input: the caller picks the one it clicks")
	}
}

func TestWith(t *testing.T) {
	f, err := With(page, "consent_challenge")
	if err != nil || f.Action != "/consent" {
		t.Errorf("got %+v, %v", f, err)
	}
	if _, err := With(page, "traits.email"); err == nil || !strings.Contains(err.Error(), "traits.email") {
		t.Errorf("got %v, want an error naming the field", err)
	}
}

// Any page either parses or fails with an error, never a panic; every
// form found has its fields.
func FuzzParse(f *testing.F) {
	f.Add(page)
	f.Add(`<form><input name=a value=b><form><input name=c>`)
	f.Add(`<input name="x"><form action=>`)
	f.Fuzz(func(t *testing.T, s string) {
		forms, err := Parse(s)
		if err != nil {
			return
		}
		for _, fm := range forms {
			if fm.Fields == nil {
				t.Fatal("a form without its field set")
			}
		}
	})
}
