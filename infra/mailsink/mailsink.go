// Package mailsink is the SMTP sink of the local topology: an SMTP server
// that accepts every message for any recipient and keeps it in memory, and an
// HTTP API that tests read codes and links from. It never relays mail.
package mailsink

import (
	"errors"
	"strings"
	"sync"
	"time"
)

// Message is one received mail, decoded for tests: Text is the text/plain
// part (or the whole body when the mail is not multipart).
type Message struct {
	ID       int64     `json:"id"`
	Received time.Time `json:"received"`
	From     string    `json:"from"`
	To       []string  `json:"to"`
	Subject  string    `json:"subject"`
	Text     string    `json:"text"`
	HTML     string    `json:"html,omitempty"`
}

// ErrNotFound is returned for an unknown message id.
var ErrNotFound = errors.New("message not found")

// Store keeps the newest Capacity messages.
type Store struct {
	mu       sync.Mutex
	capacity int
	nextID   int64
	messages []Message // oldest first
	notify   chan struct{}
}

// NewStore returns a store that keeps at most capacity messages.
func NewStore(capacity int) *Store {
	if capacity < 1 {
		capacity = 1
	}
	return &Store{capacity: capacity, notify: make(chan struct{})}
}

// Add stores m, assigning its ID, and wakes every waiter.
func (s *Store) Add(m Message) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	m.ID = s.nextID
	s.messages = append(s.messages, m)
	if len(s.messages) > s.capacity {
		s.messages = append([]Message(nil), s.messages[len(s.messages)-s.capacity:]...)
	}
	close(s.notify)
	s.notify = make(chan struct{})
	return m
}

// List returns the messages sent to recipient (every message when it is
// empty), newest first.
func (s *Store) List(recipient string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	recipient = strings.ToLower(strings.TrimSpace(recipient))
	out := []Message{}
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if recipient == "" || hasRecipient(m, recipient) {
			out = append(out, m)
		}
	}
	return out
}

// Get returns one message by id.
func (s *Store) Get(id int64) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.ID == id {
			return m, nil
		}
	}
	return Message{}, ErrNotFound
}

// Clear deletes every message.
func (s *Store) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}

// Changed returns a channel closed at the next Add.
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify
}

func hasRecipient(m Message, recipient string) bool {
	for _, to := range m.To {
		if strings.ToLower(to) == recipient {
			return true
		}
	}
	return false
}
