// Command coredns is CoreDNS with only the plugins a test cluster's DNS uses
// (pytest_single_k8s/cluster/addons.py writes its Corefile). Importing these
// alone, instead of CoreDNS's full plugin list, keeps every cloud provider's
// SDK out of the build.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
