package mailsink

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"time"
)

// Limits of the SMTP server.
const (
	MaxMessageBytes = 1 << 20
	MaxRecipients   = 100
	maxLineBytes    = 4096
	sessionTimeout  = 2 * time.Minute
)

// SMTPServer accepts mail into a Store.
type SMTPServer struct {
	Store    *Store
	Hostname string
	Log      *slog.Logger
}

// Serve accepts connections on l until ctx is done.
func (s *SMTPServer) Serve(ctx context.Context, l net.Listener) error {
	go func() { <-ctx.Done(); l.Close() }()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("smtp accept: %w", err)
		}
		go s.session(conn)
	}
}

// Command is one parsed SMTP command line.
type Command struct {
	Verb string // upper case: HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, ...
	Arg  string
}

// ErrSyntax is returned for a command line that is not SMTP.
var ErrSyntax = errors.New("smtp syntax error")

// ParseCommand parses one command line (without CRLF).
func ParseCommand(line string) (Command, error) {
	if len(line) > maxLineBytes {
		return Command{}, fmt.Errorf("%w: line longer than %d bytes", ErrSyntax, maxLineBytes)
	}
	line = strings.TrimRight(line, "\r\n")
	verb, arg, _ := strings.Cut(line, " ")
	if len(verb) < 4 || len(verb) > 8 {
		return Command{}, fmt.Errorf("%w: bad verb %q", ErrSyntax, verb)
	}
	for _, c := range verb {
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return Command{}, fmt.Errorf("%w: bad verb %q", ErrSyntax, verb)
		}
	}
	return Command{Verb: strings.ToUpper(verb), Arg: strings.TrimSpace(arg)}, nil
}

// ParsePath parses the argument of MAIL FROM:<a> or RCPT TO:<a>, returning
// the address ("" for the null reverse-path <>). prefix is "FROM:" or "TO:".
func ParsePath(arg, prefix string) (string, error) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", fmt.Errorf("%w: want %s<address>", ErrSyntax, prefix)
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", fmt.Errorf("%w: address must be in angle brackets", ErrSyntax)
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", fmt.Errorf("%w: unterminated address", ErrSyntax)
	}
	addr := rest[1:end]
	if addr == "" {
		return "", nil
	}
	parsed, err := mail.ParseAddress("<" + addr + ">")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return parsed.Address, nil
}

type session struct {
	w    *bufio.Writer
	from string
	to   []string
	mail bool
}

func (ss *session) reply(code int, text string) {
	fmt.Fprintf(ss.w, "%d %s\r\n", code, text)
	ss.w.Flush()
}

func (s *SMTPServer) session(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(sessionTimeout))
	r := bufio.NewReaderSize(conn, maxLineBytes)
	ss := &session{w: bufio.NewWriter(conn)}
	ss.reply(220, s.Hostname+" idstack mailsink ready")
	for {
		line, err := readLine(r)
		if err != nil {
			return
		}
		cmd, err := ParseCommand(line)
		if err != nil {
			ss.reply(500, err.Error())
			continue
		}
		switch cmd.Verb {
		case "HELO":
			ss.reply(250, s.Hostname)
		case "EHLO":
			fmt.Fprintf(ss.w, "250-%s\r\n250-SIZE %d\r\n250 8BITMIME\r\n", s.Hostname, MaxMessageBytes)
			ss.w.Flush()
		case "MAIL":
			from, err := ParsePath(cmd.Arg, "FROM:")
			if err != nil {
				ss.reply(501, err.Error())
				continue
			}
			ss.from, ss.to, ss.mail = from, nil, true
			ss.reply(250, "OK")
		case "RCPT":
			if !ss.mail {
				ss.reply(503, "MAIL first")
				continue
			}
			to, err := ParsePath(cmd.Arg, "TO:")
			if err != nil || to == "" {
				ss.reply(501, "bad recipient")
				continue
			}
			if len(ss.to) >= MaxRecipients {
				ss.reply(452, "too many recipients")
				continue
			}
			ss.to = append(ss.to, to)
			ss.reply(250, "OK")
		case "DATA":
			if len(ss.to) == 0 {
				ss.reply(503, "RCPT first")
				continue
			}
			ss.reply(354, "end data with <CR><LF>.<CR><LF>")
			body, err := ReadData(r, MaxMessageBytes)
			if err != nil {
				ss.reply(552, err.Error())
				if errors.Is(err, ErrTooLarge) {
					ss.from, ss.to, ss.mail = "", nil, false
					continue
				}
				return
			}
			m := Decode(body)
			m.From, m.To, m.Received = ss.from, ss.to, time.Now().UTC()
			m = s.Store.Add(m)
			if s.Log != nil {
				s.Log.Info("mail received", "id", m.ID, "recipients", len(m.To), "subject", m.Subject)
			}
			ss.from, ss.to, ss.mail = "", nil, false
			ss.reply(250, fmt.Sprintf("OK id=%d", m.ID))
		case "RSET":
			ss.from, ss.to, ss.mail = "", nil, false
			ss.reply(250, "OK")
		case "NOOP":
			ss.reply(250, "OK")
		case "QUIT":
			ss.reply(221, "bye")
			return
		default:
			ss.reply(502, "command not implemented")
		}
	}
}

// ErrTooLarge is returned by ReadData for a message over the limit.
var ErrTooLarge = errors.New("message too large")

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Discard the rest of an over-long line and report it as such.
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice('\n')
		}
		return strings.Repeat("x", maxLineBytes+1), err
	}
	return string(line), err
}

// ReadData reads a DATA section up to the terminating "." line, undoing
// dot-stuffing. Past max bytes it keeps reading to the end of the section and
// returns ErrTooLarge, so the session stays in sync.
func ReadData(r *bufio.Reader, max int) ([]byte, error) {
	var buf bytes.Buffer
	tooLarge := false
	// A line longer than the reader's buffer arrives in chunks: only a chunk
	// that starts a line can be the terminator or carry a stuffed dot.
	lineStart := true
	for {
		line, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		start := lineStart
		lineStart = len(line) > 0 && line[len(line)-1] == '\n'
		if start && (string(line) == ".\r\n" || string(line) == ".\n") {
			break
		}
		if start && len(line) > 0 && line[0] == '.' {
			line = line[1:]
		}
		if buf.Len()+len(line) > max {
			tooLarge = true
			continue
		}
		buf.Write(line)
	}
	if tooLarge {
		return nil, ErrTooLarge
	}
	return buf.Bytes(), nil
}
