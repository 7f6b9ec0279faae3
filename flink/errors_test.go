package flink

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRootCause(t *testing.T) {
	tests := []struct {
		name  string
		trace string
		want  string
	}{
		{"empty", "", ""},
		{"no cause", "java.lang.IllegalStateException: boom\n\tat a.b.C.d(C.java:1)", "java.lang.IllegalStateException: boom"},
		{
			"deepest cause wins",
			"java.util.concurrent.CompletionException: wrapper\n\tat x\nCaused by: org.apache.flink.runtime.checkpoint.CheckpointException: middle\n\tat y\nCaused by: java.io.IOException: disk full\n\tat z",
			"java.io.IOException: disk full",
		},
		{"server side prefix", "<Exception on server side:\norg.apache.flink.runtime.rest.NotFoundException: gone\n\tat x", "org.apache.flink.runtime.rest.NotFoundException: gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, rootCause(tt.trace))
		})
	}
}

func TestErrorKindsAndPermanence(t *testing.T) {
	tests := []struct {
		err       error
		kind      error
		permanent bool
	}{
		{&Error{Op: "op", Kind: ErrJobNotFound}, ErrJobNotFound, true},
		{&Error{Op: "op", Kind: ErrNoSavepointDirectory}, ErrNoSavepointDirectory, true},
		{&Error{Op: "op", Kind: ErrFormatNotSupported}, ErrFormatNotSupported, true},
		{&Error{Op: "op", Kind: ErrJobNotRunning}, ErrJobNotRunning, false},
		{&Error{Op: "op", Kind: ErrUnreachable, Err: errors.New("refused")}, ErrUnreachable, false},
		{fmt.Errorf("wrapped: %w", &Error{Op: "op", Kind: ErrTriggerNotFound}), ErrTriggerNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind.Error(), func(t *testing.T) {
			assert.ErrorIs(t, tt.err, tt.kind)
			assert.Equal(t, tt.permanent, Permanent(tt.err))
		})
	}
}

func TestTriggerIDFor(t *testing.T) {
	a := TriggerIDFor("0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10", "1")
	assert.Regexp(t, `^[0-9a-f]{32}$`, a)
	assert.Equal(t, a, TriggerIDFor("0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10", "1"), "deterministic")
	assert.NotEqual(t, a, TriggerIDFor("0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10", "2"), "another attempt, another ID")
	assert.NotEqual(t, TriggerIDFor("ab", "c"), TriggerIDFor("a", "bc"), "parts are separated")
}

func TestCheckTrigger(t *testing.T) {
	tests := []struct {
		name      string
		triggerID string
		format    Format
		wantErr   string
	}{
		{"valid", TriggerIDFor("x"), FormatNative, ""},
		{"default format", TriggerIDFor("x"), "", ""},
		{"upper case", "0123456789ABCDEF0123456789ABCDEF", "", "want 32 lowercase hexadecimal"},
		{"short", "abc", "", "want 32 lowercase hexadecimal"},
		{"bad format", TriggerIDFor("x"), "ALIGNED", `format "ALIGNED": want CANONICAL or NATIVE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTrigger("trigger", tt.triggerID, tt.format)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrBadRequest)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "orders-rest:8081", "ftp://x", "http://"} {
		_, err := New(u, Options{})
		assert.Error(t, err, u)
	}
	c, err := New("http://orders-rest.flink.svc:8081/", Options{})
	require.NoError(t, err)
	assert.Equal(t, "http://orders-rest.flink.svc:8081", c.URL())
}
