// Command etcd is the etcd server of the pinned go.etcd.io/etcd/server/v3
// release, built from the Go module proxy so that the tests' control plane
// needs no downloaded binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
