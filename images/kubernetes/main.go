// Command kube is every Kubernetes server component and kubectl in one binary.
// It runs the component named by the file it was started as (a symlink such as
// /usr/local/bin/kubelet) or, failing that, by its first argument
// ("kube kubelet --version"). Linking the shared packages once saves link time
// and image size over six separate binaries (see the README's figures).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	_ "time/tzdata" // CronJob time zones, as the upstream mains do

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

var servers = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kube-proxy":              proxy.NewProxyCommand,
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
}

func main() {
	name, args := filepath.Base(os.Args[0]), os.Args[1:]
	if !known(name) && len(args) > 0 && known(args[0]) {
		name, args = args[0], args[1:]
	}
	os.Args = append([]string{name}, args...)
	if name == "kubectl" {
		runKubectl()
	}
	newCommand, ok := servers[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "usage: kube COMPONENT [FLAGS], where COMPONENT is one of %v\n", names())
		os.Exit(2)
	}
	os.Exit(cli.Run(newCommand()))
}

// runKubectl starts kubectl the way its upstream main does: log verbosity is
// read from the arguments before the command is built, and errors are printed
// by kubectl's own handler.
func runKubectl() {
	logs.GlogSetter(kubectl.GetLogVerbosity(os.Args)) //nolint:errcheck
	if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
		kubectlutil.CheckErr(err)
	}
	os.Exit(0)
}

func known(name string) bool {
	_, ok := servers[name]
	return ok || name == "kubectl"
}

func names() []string {
	all := []string{"kubectl"}
	for name := range servers {
		all = append(all, name)
	}
	sort.Strings(all)
	return all
}
