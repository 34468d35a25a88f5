package webagent_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/idstack/idstack/internal/webagent"
	"github.com/idstack/idstack/internal/webform"
)

func server(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1", Path: "/"})
		http.Redirect(w, r, "/echo", http.StatusSeeOther)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("s")
		w.Header().Set("X-Request-Id", "r-42")
		fmt.Fprintf(w, "cookie=%v method=%s", c != nil, r.Method)
	})
	mux.HandleFunc("/to-callback", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/callback?code=abc", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/forms/submit", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		fmt.Fprintf(w, "path=%s name=%s", r.URL.Path, r.PostForm.Get("name"))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestAgentKeepsCookiesAndFollowsRedirects(t *testing.T) {
	s := server(t)
	a := webagent.New(s.Client(), s.URL+"/callback")
	p, err := a.Get(context.Background(), s.URL+"/set")
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "cookie=true method=GET" || p.URL().Path != "/echo" || p.Status() != 200 {
		t.Fatalf("got %q at %s (%d)", p.Text, p.URL(), p.Status())
	}
	if got := p.Describe(); got != "200 at /echo, request r-42" {
		t.Errorf("Describe = %q", got)
	}
	// Another agent has a jar of its own.
	p, err = webagent.New(s.Client(), "").Get(context.Background(), s.URL+"/echo")
	if err != nil || p.Text != "cookie=false method=GET" {
		t.Fatalf("fresh agent: %q, %v", p.Text, err)
	}
}

func TestAgentStopsAtTheCallback(t *testing.T) {
	s := server(t)
	p, err := webagent.New(s.Client(), s.URL+"/callback").Get(context.Background(), s.URL+"/to-callback")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status() != http.StatusFound || p.Location() != "/callback?code=abc" || p.URL().Path != "/to-callback" {
		t.Fatalf("stopped at %s with %d, Location %q", p.URL(), p.Status(), p.Location())
	}
}

func TestAgentRefusesARedirectLoop(t *testing.T) {
	s := server(t)
	_, err := webagent.New(s.Client(), "").Get(context.Background(), s.URL+"/loop")
	if !errors.Is(err, webagent.ErrTooManyRedirects) {
		t.Fatalf("err = %v, want ErrTooManyRedirects", err)
	}
}

func TestSubmitResolvesTheActionAgainstThePage(t *testing.T) {
	s := server(t)
	a := webagent.New(s.Client(), "")
	base, _ := url.Parse(s.URL + "/forms/page")
	p, err := a.Submit(context.Background(), base, webform.Form{Action: "submit", Fields: url.Values{"name": {"ada"}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "path=/forms/submit name=ada" {
		t.Fatalf("got %q", p.Text)
	}
	if _, err := a.Submit(context.Background(), base, webform.Form{Action: "%zz"}); err == nil || !strings.Contains(err.Error(), "form action") {
		t.Fatalf("bad action: err = %v", err)
	}
}
