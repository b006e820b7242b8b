// Command reaper deletes a cluster whose owner process ended without doing so
// (SIGKILL, a crash). It runs in a privileged container with the host's PID and
// network namespaces and the Docker socket, started with the cluster.
//
// Its one argument is a JSON plan made by the Python side, which is the only
// place that knows names and order (pytest_single_k8s/cluster/teardown.py):
//
//	{"owner": {"pid": 123, "start_time": "456"},
//	 "teardown": {"stages": [{"remove": [FILTERS...], "pods_of": [FILTERS...],
//	                          "pod_label": KEY, "host": [ARGV...], "host_timeout": SECONDS}, ...]}}
//
// A kept cluster has no owner (pid 0): the reaper then only holds the engine
// until `down` or a session with other settings deletes the cluster.
//
// Otherwise it waits while the owner lives (its PID with the same start time, field 22 of
// /proc/PID/stat, so that a reused PID does not count), then runs the stages in
// order: it removes every container that matches each Docker filter of
// "remove", and every container whose label KEY has a value that a container
// matching a filter of "pods_of" has (a pod's containers, found by its
// sandbox), all listed only when their stage comes; then it runs the host command. Every stage runs even
// if an earlier one failed. The reaper is the one judge of owner liveness.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type filters = map[string][]string

type stage struct {
	Remove   []filters `json:"remove"`
	PodsOf   []filters `json:"pods_of"`
	PodLabel string    `json:"pod_label"`
	Host     []string  `json:"host"`
	// HostTimeout bounds the host command in seconds, so that a hung clean-up cannot hold the engine lock forever.
	HostTimeout float64 `json:"host_timeout"`
}

type container struct {
	ID     string            `json:"Id"`
	Labels map[string]string `json:"Labels"`
}

type plan struct {
	Owner struct {
		PID       int    `json:"pid"`
		StartTime string `json:"start_time"`
	} `json:"owner"`
	Teardown struct {
		Stages []stage `json:"stages"`
	} `json:"teardown"`
}

var docker = &http.Client{
	Timeout: 60 * time.Second,
	Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", "/var/run/docker.sock")
	}},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: reaper PLAN-JSON")
		os.Exit(2)
	}
	var p plan
	if err := json.Unmarshal([]byte(os.Args[1]), &p); err != nil {
		fmt.Fprintf(os.Stderr, "reaper: bad plan: %v\n", err)
		os.Exit(2)
	}
	if p.Owner.PID == 0 {
		fmt.Println("reaper: a kept cluster; holding the engine until it is deleted")
		hold()
	}
	if !alive(p.Owner.PID, p.Owner.StartTime) {
		// The owner runs in another PID namespace: hold the engine (this
		// container's name is its lock) without watching; `down` or the
		// owner's next session deletes the cluster.
		fmt.Fprintf(os.Stderr, "reaper: cannot see process %d with start time %s; holding the engine without watching\n",
			p.Owner.PID, p.Owner.StartTime)
		hold()
	}
	for alive(p.Owner.PID, p.Owner.StartTime) {
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Println("reaper: the owner ended without deleting its cluster; removing it")
	failed := false
	for _, s := range p.Teardown.Stages {
		if err := run(s); err != nil {
			fmt.Fprintf(os.Stderr, "reaper: %v\n", err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// alive tells whether process pid runs with the given start time (a zombie has ended).
func alive(pid int, startTime string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "PID (COMM) STATE ...": the command may hold spaces and parentheses.
	text := string(stat)
	fields := strings.Fields(text[strings.LastIndexByte(text, ')')+1:])
	return len(fields) > 19 && fields[19] == startTime && fields[0] != "Z" && fields[0] != "X"
}

// hold waits until the container is stopped.
func hold() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	os.Exit(0)
}

// run removes what the stage's filters match now, then, after those removals, runs its host command.
func run(s stage) error {
	var problems []string
	note := func(err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	targets := s.Remove
	for _, f := range s.PodsOf {
		sandboxes, err := list(f)
		note(err)
		for _, sandbox := range sandboxes {
			targets = append(targets, filters{"label": {s.PodLabel + "=" + sandbox.Labels[s.PodLabel]}})
		}
	}
	for _, f := range targets {
		found, err := list(f)
		note(err)
		for _, c := range found {
			note(remove(c.ID))
		}
	}
	if len(s.Host) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.HostTimeout*float64(time.Second)))
		defer cancel()
		command := exec.CommandContext(ctx, s.Host[0], s.Host[1:]...)
		command.Stdout, command.Stderr = os.Stdout, os.Stderr
		if err := command.Run(); err != nil {
			problems = append(problems, fmt.Sprintf("%v: %v", s.Host, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func list(f filters) ([]container, error) {
	encoded, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	query := url.Values{"all": {"1"}, "filters": {string(encoded)}}
	response, err := docker.Get("http://docker/containers/json?" + query.Encode())
	if err != nil {
		return nil, fmt.Errorf("listing containers %s: %w", encoded, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing containers %s: %s", encoded, response.Status)
	}
	var containers []container
	if err := json.NewDecoder(response.Body).Decode(&containers); err != nil {
		return nil, fmt.Errorf("listing containers %s: %w", encoded, err)
	}
	return containers, nil
}

func remove(id string) error {
	request, err := http.NewRequest(http.MethodDelete, "http://docker/containers/"+id+"?force=1&v=1", nil)
	if err != nil {
		return err
	}
	response, err := docker.Do(request)
	if err != nil {
		return fmt.Errorf("removing container %.12s: %w", id, err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusNoContent && response.StatusCode != http.StatusNotFound {
		return fmt.Errorf("removing container %.12s: %s", id, response.Status)
	}
	return nil
}
