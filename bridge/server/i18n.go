package server

import (
	"strconv"
	"strings"
)

// Languages the bridge speaks; English is the fallback.
var languages = []string{"en", "ja"}

// language picks the first supported language of an Accept-Language
// header, honouring q=0 (not acceptable) and ignoring order otherwise.
func language(header string) string {
	best, bestQ := "en", -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		for _, l := range languages {
			if base == l && q > 0 && q > bestQ {
				best, bestQ = l, q
			}
		}
	}
	return best
}

// texts are the bridge's own strings, by language.
var texts = map[string]map[string]string{
	"en": {
		"login": "Sign in", "registration": "Create an account", "recovery": "Recover your account",
		"verification": "Verify your e-mail address", "settings": "Account settings",
		"consent_title": "Allow access?", "consent_intro": "wants to access your account:",
		"audience": "On behalf of:", "remember": "Remember my decision", "allow": "Allow", "deny": "Deny",
		"logout_title": "Sign out?", "logout_intro": "Do you want to sign out?", "logout_yes": "Sign out", "logout_no": "Stay signed in",
		"logged_out": "You are signed out.", "home_title": "You are signed in", "signed_in_as": "Signed in as",
		"error_title": "Something went wrong", "bad_request": "This link is not valid. Start again from the application.",
		"upstream": "The service is unavailable. Please try again.", "csrf": "This form expired. Please go back and try again.",
		"kratos_error": "The request could not be completed. Please start again.", "internal": "Internal error.",
		"to_login": "Sign in instead", "to_registration": "Create an account", "to_recovery": "Forgot your password?",
	},
	"ja": {
		"login": "ログイン", "registration": "アカウントを作成", "recovery": "アカウントの復旧",
		"verification": "メールアドレスの確認", "settings": "アカウント設定",
		"consent_title": "アクセスを許可しますか？", "consent_intro": "があなたのアカウントへのアクセスを求めています:",
		"audience": "対象:", "remember": "この選択を記憶する", "allow": "許可", "deny": "拒否",
		"logout_title": "ログアウトしますか？", "logout_intro": "ログアウトしますか？", "logout_yes": "ログアウト", "logout_no": "ログインしたままにする",
		"logged_out": "ログアウトしました。", "home_title": "ログインしています", "signed_in_as": "ログイン中:",
		"error_title": "問題が発生しました", "bad_request": "このリンクは無効です。アプリケーションからやり直してください。",
		"upstream": "サービスを利用できません。しばらくしてから再度お試しください。", "csrf": "フォームの有効期限が切れました。戻ってやり直してください。",
		"kratos_error": "リクエストを完了できませんでした。最初からやり直してください。", "internal": "内部エラー。",
		"to_login": "ログインする", "to_registration": "アカウントを作成", "to_recovery": "パスワードをお忘れですか？",
	},
}

// kratosJA translates Kratos' most common message ids; others keep
// Kratos' English text.
var kratosJA = map[int64]string{
	1010001: "ログイン", 1010002: "ログイン", 1040001: "登録", 1050001: "保存", 1060003: "メールアドレスに確認コードを送信しました。",
	1070001: "パスワード", 1070002: "メールアドレス", 1070004: "ID",
	4000002: "入力が必要です。", 4000006: "メールアドレスまたはパスワードが正しくありません。",
	4000007: "このメールアドレスのアカウントは既に存在します。", 4010001: "ログインフローの有効期限が切れました。もう一度お試しください。",
	4000005: "このパスワードは使用できません。",
}

// translate is the templates' t: a bridge key (string) or a Kratos
// message (id + English text).
func translate(lang string, key any, fallback ...string) string {
	switch k := key.(type) {
	case string:
		if v, ok := texts[lang][k]; ok {
			return v
		}
		return texts["en"][k]
	case int64:
		if lang == "ja" {
			if v, ok := kratosJA[k]; ok {
				return v
			}
		}
		if len(fallback) > 0 {
			return fallback[0]
		}
	}
	return ""
}
