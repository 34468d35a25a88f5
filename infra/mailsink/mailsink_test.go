package mailsink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// kratosLike is a message shaped like the ones Kratos' courier sends.
const kratosLike = "From: idstack <no-reply@idstack.test>\r\n" +
	"To: ada@example.com\r\n" +
	"Subject: =?UTF-8?q?Recover_access_to_your_account?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XYZ\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Please recover access to your account by entering the following code:=\r\n\r\n\r\n" +
	"123456\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"\r\n" +
	"<p>123456</p>\r\n" +
	"--XYZ--\r\n"

func startSMTP(t *testing.T, store *Store) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go (&SMTPServer{Store: store, Hostname: "test"}).Serve(ctx, l)
	return l.Addr().String()
}

func TestSMTPRoundTripWithNetSMTP(t *testing.T) {
	store := NewStore(10)
	addr := startSMTP(t, store)
	if err := smtp.SendMail(addr, nil, "no-reply@idstack.test", []string{"ada@example.com"}, []byte(kratosLike)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	msgs := store.List("ADA@example.com")
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "Recover access to your account" {
		t.Errorf("got subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "following code:\r\n\r\n123456") {
		t.Errorf("quoted-printable not decoded: %q", m.Text)
	}
	if m.HTML != "<p>123456</p>" {
		t.Errorf("got html %q", m.HTML)
	}
	if m.From != "no-reply@idstack.test" || len(m.To) != 1 {
		t.Errorf("got envelope %q → %v", m.From, m.To)
	}
}

func TestSMTPRejectsOutOfOrderAndOversized(t *testing.T) {
	store := NewStore(10)
	conn, err := net.Dial("tcp", startSMTP(t, store))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	expect := func(send string, code string) {
		t.Helper()
		if send != "" {
			fmt.Fprint(conn, send+"\r\n")
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", send, err)
		}
		if !strings.HasPrefix(line, code) {
			t.Fatalf("after %q: got %q, want %s", send, line, code)
		}
	}
	expect("", "220")
	expect("RCPT TO:<a@b.c>", "503")
	expect("DATA", "503")
	expect("MAIL FROM:a@b.c", "501")
	expect("BOGUS!", "500")
	expect("MAIL FROM:<>", "250")
	expect("RCPT TO:<ada@example.com>", "250")
	expect("DATA", "354")
	fmt.Fprint(conn, strings.Repeat(strings.Repeat("x", 1000)+"\r\n", MaxMessageBytes/1000+10))
	expect(".", "552")
	// The session is still in sync and usable.
	expect("MAIL FROM:<>", "250")
	expect("RCPT TO:<ada@example.com>", "250")
	expect("DATA", "354")
	fmt.Fprint(conn, "Subject: hi\r\n\r\n..dot-stuffed\r\n")
	expect(".", "250")
	expect("QUIT", "221")
	msgs := store.List("")
	if len(msgs) != 1 || msgs[0].Text != ".dot-stuffed\r\n" {
		t.Fatalf("got %+v, want one message with dot-stuffing undone", msgs)
	}
}

func TestStoreKeepsNewestCapacity(t *testing.T) {
	s := NewStore(2)
	for i := 0; i < 5; i++ {
		s.Add(Message{Subject: fmt.Sprint(i)})
	}
	got := s.List("")
	if len(got) != 2 || got[0].Subject != "4" || got[1].Subject != "3" {
		t.Fatalf("got %+v, want messages 4 and 3", got)
	}
	if _, err := s.Get(1); !errors.Is(err, ErrNotFound) {
		t.Errorf("evicted message: got %v, want ErrNotFound", err)
	}
}

func TestHTTPAPI(t *testing.T) {
	store := NewStore(10)
	srv := httptest.NewServer(Handler(store))
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second}

	// A long poll returns as soon as the mail arrives (or at once if it
	// already has).
	done := make(chan []Message, 1)
	go func() {
		resp, err := client.Get(srv.URL + "/api/messages?to=ada@example.com&wait=5s")
		if err != nil {
			done <- nil
			return
		}
		defer resp.Body.Close()
		var msgs []Message
		json.NewDecoder(resp.Body).Decode(&msgs)
		done <- msgs
	}()
	store.Add(Message{To: []string{"ada@example.com"}, Subject: "code"})
	select {
	case msgs := <-done:
		if len(msgs) != 1 || msgs[0].Subject != "code" {
			t.Fatalf("long poll got %+v", msgs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not return")
	}

	for _, tt := range []struct {
		name, method, path string
		want               int
	}{
		{"bad wait", "GET", "/api/messages?wait=forever", 400},
		{"too long wait", "GET", "/api/messages?wait=1h", 400},
		{"bad id", "GET", "/api/messages/abc", 400},
		{"unknown id", "GET", "/api/messages/999", 404},
		{"known id", "GET", "/api/messages/1", 200},
		{"clear", "DELETE", "/api/messages", 204},
		{"gone after clear", "GET", "/api/messages/1", 404},
		{"health", "GET", "/health", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestDecodeKeepsUnparseableMail(t *testing.T) {
	raw := "not a header line at all\r\n"
	if m := Decode([]byte(raw)); m.Text != raw {
		t.Errorf("got %q, want the raw text kept", m.Text)
	}
}

func TestReadDataLongLinesStayInSync(t *testing.T) {
	// A chunk boundary of a long line must not look like the terminator or
	// a stuffed dot.
	long := strings.Repeat("a", maxLineBytes-1) + ".\r\n"
	data := long + "..x\r\n.\r\nNEXT"
	r := bufio.NewReaderSize(strings.NewReader(data), maxLineBytes)
	body, err := ReadData(r, MaxMessageBytes)
	if err != nil {
		t.Fatal(err)
	}
	if want := long + ".x\r\n"; string(body) != want {
		t.Fatalf("got %d bytes, want %d", len(body), len(want))
	}
	rest, _ := r.ReadString('\n')
	if rest != "NEXT" {
		t.Errorf("reader out of sync: next is %q", rest)
	}
}
