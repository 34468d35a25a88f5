package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/idstack/idstack/bridge"
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

// kratosJA translates the Kratos v1.3.1 message ids (text/id.go) the
// bridge's flows can show: login, registration, recovery, verification and
// settings with the password, code, profile and totp methods. {name} is
// filled from the message's context; ids not here (and messages whose
// context lacks a placeholder) keep Kratos' English text.
var kratosJA = map[int64]string{
	// Login.
	1010001: "ログイン",
	1010002: "{provider} でログイン",
	1010003: "本人確認のため、もう一度認証してください。",
	1010004: "2 段階目の認証を完了してください。",
	1010005: "確認",
	1010006: "認証コード",
	1010007: "バックアップ復旧コード",
	1010009: "認証アプリを使う",
	1010010: "バックアップ復旧コードを使う",
	1010013: "続行",
	1010014: "入力されたメールアドレスにコードを送信しました。メールが届かない場合は、アドレスに誤りがないか確認して、もう一度ログインしてください。",
	1010015: "ログインコードを送信",
	1010019: "コードを送信して続行",
	1010022: "パスワードでログイン",
	1010023: "{address} にコードを送信",
	// Registration.
	1040001: "新規登録",
	1040002: "{provider} で登録",
	1040003: "続行",
	1040005: "入力されたメールアドレスにコードを送信しました。メールが届かない場合は、アドレスに誤りがないか確認して、もう一度登録してください。",
	1040006: "登録コードを送信",
	1040008: "戻る",
	1040009: "認証に使う方法を選んでください。",
	// Settings.
	1050001: "変更を保存しました",
	1050002: "{provider} を連携",
	1050003: "{provider} の連携を解除",
	1050004: "認証アプリの連携を解除",
	1050005: "認証アプリの QR コード",
	1050017: "認証アプリのシークレットです。QR コードを読み取れない場合に使ってください。",
	// Recovery.
	1060001: "アカウントを復旧しました。まもなく期限が切れるため、今すぐパスワードを変更するか、別のログイン方法を設定してください。",
	1060002: "入力されたメールアドレスに復旧用のリンクを送信しました。メールが届かない場合は、アドレスに誤りがないか、登録したアドレスかを確認してください。",
	1060003: "入力されたメールアドレスに復旧コードを送信しました。メールが届かない場合は、アドレスに誤りがないか、登録したアドレスかを確認してください。",
	// Node labels (1070002 is a schema title: see schemaTitlesJA).
	1070001: "パスワード",
	1070003: "保存",
	1070004: "ID",
	1070005: "送信",
	1070006: "コードを確認",
	1070007: "メールアドレス",
	1070008: "コードを再送信",
	1070009: "続行",
	1070010: "復旧コード",
	1070011: "確認コード",
	1070012: "登録コード",
	1070013: "ログインコード",
	// Verification.
	1080001: "入力されたメールアドレスに確認用のリンクを送信しました。メールが届かない場合は、アドレスに誤りがないか、登録したアドレスかを確認してください。",
	1080002: "メールアドレスを確認しました。",
	1080003: "入力されたメールアドレスに確認コードを送信しました。メールが届かない場合は、アドレスに誤りがないか、登録したアドレスかを確認してください。",
	// Validation (4000001, a free-form reason, stays English).
	4000002: "{property} は必須です。",
	4000003: "{min_length} 文字以上で入力してください（{actual_length} 文字でした）。",
	4000004: "形式が正しくありません（パターン {pattern}）。",
	4000005: "このパスワードは使用できません: {reason}",
	4000006: "認証情報が正しくありません。パスワード、ユーザー名、メールアドレス、電話番号に誤りがないか確認してください。",
	4000007: "同じ識別子（メールアドレス、電話番号、ユーザー名など）のアカウントが既に存在します。",
	4000008: "認証コードが正しくありません。もう一度お試しください。",
	4000009: "ログイン識別子が見つかりません。サーバーの設定に問題がある可能性があります。",
	4000010: "アカウントはまだ有効ではありません。メールアドレスの確認はお済みですか？",
	4000012: "このバックアップ復旧コードは既に使われています。",
	4000016: "バックアップ復旧コードが正しくありません。",
	4000017: "{max_length} 文字以下で入力してください（{actual_length} 文字でした）。",
	4000027: "同じ識別子のアカウントが既に存在します。既存のアカウントにログインして連携してください。",
	4000028: "この識別子は別のアカウントで既に使われています。そのアカウントのログイン方法でログインしてください。",
	4000031: "パスワードが識別子（メールアドレスなど）に似すぎているため使用できません。",
	4000032: "パスワードは {min_length} 文字以上にしてください（{actual_length} 文字でした）。",
	4000033: "パスワードは {max_length} 文字以下にしてください（{actual_length} 文字でした）。",
	4000034: "このパスワードは過去のデータ漏洩で見つかっているため、使用できません。",
	4000035: "このアカウントは存在しないか、コードでのログインが設定されていません。",
	4000036: "入力された属性が、このフローの属性と一致しません。",
	4000037: "このアカウントは存在しないか、ログイン方法が設定されていません。",
	// Flow errors.
	4010001: "ログインの有効期限が切れました。もう一度お試しください。",
	4010002: "ログイン方法が見つかりません。フォームの入力内容を確認してください。",
	4010003: "登録方法が見つかりません。フォームの入力内容を確認してください。",
	4010004: "設定を更新する方法が見つかりません。フォームの入力内容を確認してください。",
	4010005: "アカウントを復旧する方法が見つかりません。フォームの入力内容を確認してください。",
	4010006: "アカウントを確認する方法が見つかりません。フォームの入力内容を確認してください。",
	4010007: "このリクエストは既に完了しているため、やり直せません。",
	4010008: "ログインコードが正しくないか、既に使われています。もう一度お試しください。",
	4010010: "入力されたアドレスは、このアカウントのどのアドレスとも一致しません。",
	4040001: "登録の有効期限が切れました。もう一度お試しください。",
	4040002: "このリクエストは既に完了しているため、やり直せません。",
	4040003: "登録コードが正しくないか、既に使われています。もう一度お試しください。",
	4050001: "設定の有効期限が切れました。もう一度お試しください。",
	4060001: "このリクエストは既に完了しているため、やり直せません。",
	4060002: "アカウントの復旧に失敗しました。最初からやり直してください。",
	4060004: "復旧用のリンクが正しくないか、既に使われています。最初からやり直してください。",
	4060005: "復旧の有効期限が切れました。もう一度お試しください。",
	4060006: "復旧コードが正しくないか、既に使われています。もう一度お試しください。",
	4070001: "確認用のリンクが正しくないか、既に使われています。最初からやり直してください。",
	4070002: "このリクエストは既に完了しているため、やり直せません。",
	4070003: "メールアドレスの確認に失敗しました。最初からやり直してください。",
	4070005: "確認の有効期限が切れました。もう一度お試しください。",
	4070006: "確認コードが正しくないか、既に使われています。もう一度お試しください。",
}

// labelGenerated (1070002) is a label Kratos takes from the identity
// schema's title, so it is translated by that title.
const labelGenerated = 1070002

// schemaTitlesJA translates the titles of the identity schema
// (infra/config/identity.schema.json).
var schemaTitlesJA = map[string]string{
	"E-Mail": "メールアドレス", "First name": "名", "Last name": "姓",
}

// translate is the templates' t: a bridge key (string) or a Kratos message
// (bridge.Message, or its pointer).
func translate(lang string, key any) string {
	switch k := key.(type) {
	case string:
		if v, ok := texts[lang][k]; ok {
			return v
		}
		return texts["en"][k]
	case *bridge.Message:
		if k == nil {
			return ""
		}
		return translateMessage(lang, *k)
	case bridge.Message:
		return translateMessage(lang, k)
	}
	return ""
}

func translateMessage(lang string, m bridge.Message) string {
	if lang != "ja" {
		return m.Text
	}
	if m.ID == labelGenerated {
		if v, ok := schemaTitlesJA[m.Text]; ok {
			return v
		}
		return m.Text
	}
	if v, ok := kratosJA[m.ID]; ok {
		if out, ok := fill(v, m.Context); ok {
			return out
		}
	}
	return m.Text
}

// fill replaces each {name} in s with the context's value; it reports
// false when the context lacks one.
func fill(s string, context map[string]any) (string, bool) {
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		v, ok := context[s[open+1:open+end]]
		if !ok {
			return "", false
		}
		b.WriteString(s[:open])
		switch v := v.(type) {
		case float64: // JSON numbers
			b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		default:
			fmt.Fprint(&b, v)
		}
		s = s[open+end+1:]
	}
}
