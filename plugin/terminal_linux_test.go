package plugin_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// openTerminal opens a pseudo-terminal: tty is what a command reads as a
// terminal stdin, keyboard is where the test types into it.
func openTerminal(t *testing.T) (tty, keyboard *os.File) {
	t.Helper()
	keyboard, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = keyboard.Close() })
	var unlock, n int32
	require.NoError(t, ioctl(keyboard, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)), "unlock the pseudo-terminal")
	require.NoError(t, ioctl(keyboard, syscall.TIOCGPTN, unsafe.Pointer(&n)), "number the pseudo-terminal")
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tty.Close() })
	return tty, keyboard
}

func ioctl(f *os.File, request uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), request, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}
