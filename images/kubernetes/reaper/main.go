// Command reaper deletes a cluster once no session holds a lease on it and the last
// one ended without deleting it (SIGKILL, a crash, a lost connection to a remote
// engine). It runs in a privileged container with the host's PID and network
// namespaces and the Docker socket, started with the cluster. A lease is a container
// that runs for as long as its session holds a connection to it
// (pytest_single_k8s/engine/lease.py): the engine itself tells whether a session
// lives, wherever it runs.
//
// Its one argument is a JSON plan made by the Python side, which is the only
// place that knows names and order (pytest_single_k8s/cluster/teardown.py):
//
//	{"leases": "KEY=CLUSTER",
//	 "lock": {"name": CONTAINER, "label": KEY},
//	 "teardown": {"stages": [{"remove": [FILTERS...], "pods_of": [FILTERS...], "pod_label": KEY,
//	                          "logs_under": [DIRECTORY...], "log_label": KEY,
//	                          "images": [FILTERS...], "host": [ARGV...], "holding": ID,
//	                          "host_not_holding": [ARGV...], "host_timeout": SECONDS,
//	                          "releases_engine": BOOL}, ...],
//	              "record": {"name": NAME, "image": IMAGE, "labels": {...}, "command": [ARGV...]}}}
//
// A kept cluster's reaper watches no leases (""): it only holds the engine
// until `down` or a session with other settings deletes the cluster.
//
// Otherwise it waits until a lease (a running container with the label "leases")
// has been seen and none runs any more, then runs the stages in order: it removes every container that matches each Docker filter of
// "remove", and every container whose label KEY has a value that a container
// matching a filter of "pods_of" has (a pod's containers, found by its
// sandbox), and every container whose label "log_label" names a file below a
// directory of "logs_under" (a pod's containers whose sandbox went first),
// all listed only when their stage comes; then the images that match
// "images"; then it runs the host command, or "host_not_holding" instead when the
// engine lock (the container named by "lock", whose label KEY names its cluster)
// is not held by "holding". Every stage runs even if an earlier one failed; if
// one did, the record container is created (never started) before the stage that
// "releases_engine" (it removes the reaper itself), so that the cluster stays findable. The reaper
// is the one judge of whether a cluster is still used.
package main

import (
	"context"
	"encoding/json"
	"errors"
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
	Remove         []filters `json:"remove"`
	PodsOf         []filters `json:"pods_of"`
	PodLabel       string    `json:"pod_label"`
	LogsUnder      []string  `json:"logs_under"`
	LogLabel       string    `json:"log_label"`
	Images         []filters `json:"images"`
	Host           []string  `json:"host"`
	Holding        string    `json:"holding"`
	HostNotHolding []string  `json:"host_not_holding"`
	// ReleasesEngine marks the stage that removes this container, which holds the engine.
	ReleasesEngine bool `json:"releases_engine"`
	// HostTimeout bounds the host command in seconds, so that a hung clean-up cannot hold the engine lock forever.
	HostTimeout float64 `json:"host_timeout"`
}

type container struct {
	ID     string            `json:"Id"`
	Labels map[string]string `json:"Labels"`
}

type record struct {
	Name    string            `json:"name"`
	Image   string            `json:"image"`
	Labels  map[string]string `json:"labels"`
	Command []string          `json:"command"`
}

type plan struct {
	Leases string `json:"leases"`
	Lock   struct {
		Name  string `json:"name"`
		Label string `json:"label"`
	} `json:"lock"`
	Teardown struct {
		Stages []stage `json:"stages"`
		Record record  `json:"record"`
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
	if p.Leases == "" {
		fmt.Println("reaper: a kept cluster; holding the engine until it is deleted")
		hold()
	}
	waitForLeases(p.Leases)
	fmt.Println("reaper: no session holds the cluster and none deleted it; removing it")
	stages := p.Teardown.Stages
	failed := false
	for _, s := range stages {
		if s.ReleasesEngine && failed {
			// This stage removes this container: keep the cluster findable first.
			if err := create(p.Teardown.Record); err != nil {
				fmt.Fprintf(os.Stderr, "reaper: %v\n", err)
			}
		}
		if err := run(s, p); err != nil {
			fmt.Fprintf(os.Stderr, "reaper: %v\n", err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// waitForLeases returns once a lease with the label has been seen running and none runs
// any more, or when none has run within leaseGrace of the start (its session died first).
func waitForLeases(label string) {
	started, seen := time.Now(), false
	running := filters{"label": {label}, "status": {"running"}}
	for {
		leases, err := list(running)
		switch {
		case err != nil: // the engine did not answer: ask again, never reap on a doubt
		case len(leases) > 0:
			seen = true
		case seen || time.Since(started) > leaseGrace:
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// leaseGrace is how long a new cluster's session has to take its lease (it does so at once).
const leaseGrace = 2 * time.Minute

// hold waits until the container is stopped.
func hold() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	os.Exit(0)
}

// run removes what the stage's filters match now, then, after those removals, its images
// and its host command.
func run(s stage, p plan) error {
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
	for _, folder := range s.LogsUnder {
		found, err := list(filters{"label": {s.LogLabel}})
		note(err)
		for _, c := range found {
			if strings.HasPrefix(c.Labels[s.LogLabel], folder+"/") {
				note(remove(c.ID))
			}
		}
	}
	for _, f := range s.Images {
		found, err := listImages(f)
		note(err)
		for _, image := range found {
			note(removeImage(image.ID))
		}
	}
	if len(s.Host) > 0 {
		argv := s.Host
		if s.Holding != "" {
			holder, err := lockHolder(p)
			note(err)
			if holder != s.Holding {
				argv = s.HostNotHolding
				problems = append(problems, fmt.Sprintf("the host-wide clean-up was left alone: the engine is held by %q, not %q", holder, s.Holding))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.HostTimeout*float64(time.Second)))
		defer cancel()
		command := exec.CommandContext(ctx, argv[0], argv[1:]...)
		command.Stdout, command.Stderr = os.Stdout, os.Stderr
		if err := command.Run(); err != nil {
			problems = append(problems, fmt.Sprintf("%v: %v", argv, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func list(f filters) ([]container, error) {
	var containers []container
	return containers, get("containers/json", url.Values{"all": {"1"}}, f, &containers)
}

func listImages(f filters) ([]container, error) {
	var images []container // an image's listing has the same Id and Labels
	return images, get("images/json", url.Values{}, f, &images)
}

// get decodes the engine's answer to GET PATH?QUERY&filters=F into out.
func get(path string, query url.Values, f filters, out any) error {
	encoded, err := json.Marshal(f)
	if err != nil {
		return err
	}
	query.Set("filters", string(encoded))
	response, err := docker.Get("http://docker/" + path + "?" + query.Encode())
	if err != nil {
		return fmt.Errorf("listing %s %s: %w", path, encoded, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("listing %s %s: %s", path, encoded, response.Status)
	}
	if err := json.NewDecoder(response.Body).Decode(out); err != nil {
		return fmt.Errorf("listing %s %s: %w", path, encoded, err)
	}
	return nil
}

// lockHolder is the cluster id on the engine lock's container, "" when there is none.
func lockHolder(p plan) (string, error) {
	response, err := docker.Get("http://docker/containers/" + url.PathEscape(p.Lock.Name) + "/json")
	if err != nil {
		return "", fmt.Errorf("reading the engine lock: %w", err)
	}
	defer response.Body.Close()
	if response.StatusCode == http.StatusNotFound {
		return "", nil
	}
	var lock struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"Config"`
	}
	if response.StatusCode != http.StatusOK {
		return "", fmt.Errorf("reading the engine lock: %s", response.Status)
	}
	if err := json.NewDecoder(response.Body).Decode(&lock); err != nil {
		return "", fmt.Errorf("reading the engine lock: %w", err)
	}
	return lock.Config.Labels[p.Lock.Label], nil
}

func remove(id string) error {
	err := del("containers/"+id+"?force=1&v=1", "container "+id[:min(12, len(id))])
	if errors.Is(err, errConflict) {
		return nil // another stage (a sandbox is both the cluster's and its pod's) removes it right now
	}
	return err
}

func removeImage(id string) error {
	return del("images/"+id, "image "+id)
}

// del sends DELETE PATH; gone already is fine.
func del(path, what string) error {
	request, err := http.NewRequest(http.MethodDelete, "http://docker/"+path, nil)
	if err != nil {
		return err
	}
	response, err := docker.Do(request)
	if err != nil {
		return fmt.Errorf("removing %s: %w", what, err)
	}
	response.Body.Close()
	if response.StatusCode == http.StatusConflict {
		return fmt.Errorf("removing %s: %w", what, errConflict)
	}
	if response.StatusCode >= 300 && response.StatusCode != http.StatusNotFound {
		return fmt.Errorf("removing %s: %s", what, response.Status)
	}
	return nil
}

var errConflict = errors.New("409 Conflict")

// create makes the record container (never started); one of that name already there is as good.
func create(r record) error {
	body, err := json.Marshal(map[string]any{"Image": r.Image, "Labels": r.Labels, "Cmd": r.Command})
	if err != nil {
		return err
	}
	response, err := docker.Post("http://docker/containers/create?name="+url.QueryEscape(r.Name), "application/json", strings.NewReader(string(body)))
	if err != nil {
		return fmt.Errorf("creating the record %s: %w", r.Name, err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusCreated && response.StatusCode != http.StatusConflict {
		return fmt.Errorf("creating the record %s: %s", r.Name, response.Status)
	}
	return nil
}
