package server

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/idstack/idstack/bridge"
)

// shownIDs are the Kratos v1.3.1 message ids (text/id.go) that the flows
// the bridge renders can show with the password, code, profile and totp
// methods (1050006, the TOTP secret itself, is a text node's text: never
// translated).
var shownIDs = map[string][]int64{
	"login": {1010001, 1010002, 1010003, 1010004, 1010005, 1010006, 1010007, 1010009, 1010010, 1010013, 1010014, 1010015, 1010019, 1010022, 1010023,
		4010001, 4010002, 4010007, 4010008, 4010010},
	"registration": {1040001, 1040002, 1040003, 1040005, 1040006, 1040008, 1040009, 4010003, 4040001, 4040002, 4040003},
	"settings":     {1050001, 1050002, 1050003, 1050004, 1050005, 1050017, 4010004, 4050001},
	"recovery":     {1060001, 1060002, 1060003, 4010005, 4060001, 4060002, 4060004, 4060005, 4060006},
	"verification": {1080001, 1080002, 1080003, 4010006, 4070001, 4070002, 4070003, 4070005, 4070006},
	"node labels":  {1070001, 1070003, 1070004, 1070005, 1070006, 1070007, 1070008, 1070009, 1070010, 1070011, 1070012, 1070013},
	"validation": {4000002, 4000003, 4000004, 4000005, 4000006, 4000007, 4000008, 4000009, 4000010, 4000012, 4000016, 4000017,
		4000027, 4000028, 4000031, 4000032, 4000033, 4000034, 4000035, 4000036, 4000037},
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

func TestEveryShownKratosMessageHasJapanese(t *testing.T) {
	seen := map[int64]bool{}
	for flow, ids := range shownIDs {
		for _, id := range ids {
			seen[id] = true
			if kratosJA[id] == "" {
				t.Errorf("%s: message %d has no Japanese", flow, id)
			}
		}
	}
	for id, ja := range kratosJA {
		if !seen[id] {
			t.Errorf("message %d (%s) is translated but not listed as shown", id, ja)
		}
		// With every placeholder in its context, nothing is left unfilled.
		ctx := map[string]any{}
		for _, m := range placeholder.FindAllStringSubmatch(ja, -1) {
			ctx[m[1]] = "X"
		}
		if got := translate("ja", bridge.Message{ID: id, Text: "english", Context: ctx}); strings.ContainsAny(got, "{}") || got == "english" {
			t.Errorf("message %d: got %q", id, got)
		}
	}
}

func TestTranslateKratosMessages(t *testing.T) {
	tests := []struct {
		name, lang string
		msg        any
		want       string
	}{
		{"english keeps Kratos' text", "en", bridge.Message{ID: 1050001, Text: "Your changes have been saved!"}, "Your changes have been saved!"},
		{"settings saved", "ja", bridge.Message{ID: 1050001, Text: "Your changes have been saved!"}, "変更を保存しました"},
		{"placeholders from the context", "ja", bridge.Message{ID: 4000032, Text: "The password must be at least 8 characters long, but got 3.",
			Context: map[string]any{"min_length": float64(8), "actual_length": float64(3)}}, "パスワードは 8 文字以上にしてください（3 文字でした）。"},
		{"a missing placeholder keeps the English", "ja", bridge.Message{ID: 4000032, Text: "The password must be at least 8 characters long, but got 3."},
			"The password must be at least 8 characters long, but got 3."},
		{"an unknown id keeps the English", "ja", bridge.Message{ID: 4000001, Text: `"x" is not valid "email"`}, `"x" is not valid "email"`},
		{"a schema title", "ja", &bridge.Message{ID: 1070002, Text: "First name"}, "名"},
		{"an unknown schema title", "ja", &bridge.Message{ID: 1070002, Text: "Nickname"}, "Nickname"},
		{"a nil label", "ja", (*bridge.Message)(nil), ""},
		{"a bridge key", "ja", "login", "ログイン"},
		{"a bridge key falls back to English", "fr", "login", "Sign in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := translate(tt.lang, tt.msg); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPageTitleIsTranslated(t *testing.T) {
	f := newFixture(t)
	for lang, want := range map[string]string{"ja": "<title>ログイン · idstack</title>", "en": "<title>Sign in · idstack</title>"} {
		req := httptest.NewRequest(http.MethodGet, PathLogin+"?flow="+flowID, nil)
		req.Header.Set("Accept-Language", lang)
		if html := body(t, f.do(req)); !strings.Contains(html, want) {
			t.Errorf("%s: page lacks %s", lang, want)
		}
	}
	req := httptest.NewRequest(http.MethodGet, PathLogout+"?logout_challenge="+challenge, nil)
	req.Header.Set("Accept-Language", "ja")
	if html := body(t, f.do(req)); !strings.Contains(html, "<title>ログアウトしますか？ · idstack</title>") {
		t.Errorf("logout page title:\n%s", html)
	}
}
