package mailsink

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"EHLO x", "MAIL FROM:<a@b.c>", "RCPT TO:<>", "DATA", "quit", "", "X", strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, err := ParseCommand(line)
		if err != nil {
			return
		}
		if cmd.Verb != strings.ToUpper(cmd.Verb) || len(cmd.Verb) < 4 {
			t.Fatalf("bad verb %q from %q", cmd.Verb, line)
		}
		for _, prefix := range []string{"FROM:", "TO:"} {
			addr, err := ParsePath(cmd.Arg, prefix)
			if err == nil && strings.ContainsAny(addr, "<>\r\n") {
				t.Fatalf("address %q from %q keeps delimiters", addr, cmd.Arg)
			}
		}
	})
}

func FuzzReadDataAndDecode(f *testing.F) {
	f.Add([]byte(kratosLike + ".\r\n"))
	f.Add([]byte("..\r\n.\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n--a--\r\n.\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := ReadData(bufio.NewReaderSize(bytes.NewReader(data), maxLineBytes), 64<<10)
		if err != nil {
			return
		}
		if len(body) > 64<<10 {
			t.Fatalf("body of %d bytes exceeds the limit", len(body))
		}
		m := Decode(body)
		if len(m.Text) > MaxMessageBytes || len(m.HTML) > MaxMessageBytes {
			t.Fatal("decoded part exceeds the limit")
		}
	})
}
