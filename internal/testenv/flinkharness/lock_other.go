//go:build !unix

package flinkharness

import (
	"context"
	"errors"
)

func withFileLock(context.Context, string, func() error) error {
	return errors.New("flinkharness needs flock, available on unix systems only")
}
