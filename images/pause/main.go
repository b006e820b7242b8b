// Command pause holds a pod's namespaces open. As PID 1 of the pod's PID
// namespace it reaps every orphan re-parented to it, and it exits 0 on SIGINT
// or SIGTERM: the semantics of the upstream pause container, in Go.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const version = "pytest-single-k8s-1"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("pause", version)
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "pause: warning: not running as PID 1, orphans will not be reaped here")
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			fmt.Fprintf(os.Stderr, "pause: shutting down on %v\n", sig)
			os.Exit(0)
		}
		reapAll()
	}
}

// reapAll waits for every exited child; one SIGCHLD may stand for several.
func reapAll() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
