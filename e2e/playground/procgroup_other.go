//go:build !unix

package main

import "syscall"

// ownProcessGroup leaves the child where it is: process groups are a Unix
// matter.
func ownProcessGroup() *syscall.SysProcAttr { return nil }
