// Command runc-wrapper is an OCI runtime for Docker engines on hosts whose
// capability bounding set lacks CAP_SYS_RESOURCE (some VMs and sandboxes).
// runc refuses to start a container that asks for a capability the host cannot
// grant, or for a negative OOM score (which needs CAP_SYS_RESOURCE), so
// `docker run --privileged` fails there. Before exec'ing the real runc, this
// wrapper removes CAP_SYS_RESOURCE and clamps a negative oomScoreAdj to 0 in
// the container's config.json (create, run) and in the process file of
// `runc exec --process` (without which `docker exec` into a privileged
// container fails). Everything else passes through untouched.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

const droppedCapability = "CAP_SYS_RESOURCE"

func main() {
	runc, err := exec.LookPath("runc")
	if err != nil {
		fail(err)
	}
	if err := adjust(os.Args[1:]); err != nil {
		fail(err)
	}
	fail(syscall.Exec(runc, append([]string{"runc"}, os.Args[1:]...), os.Environ()))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "runc-wrapper: %v\n", err)
	os.Exit(1)
}

// adjust rewrites the JSON file that the runc command in args will read, if any.
func adjust(args []string) error {
	command, bundle, process := "", ".", ""
	for i := 0; i < len(args); i++ {
		value := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch arg := args[i]; arg {
		case "create", "run", "exec":
			if command == "" {
				command = arg
			}
		case "--bundle", "-b":
			bundle = value()
		case "--process", "-p":
			process = value()
		default:
			if len(arg) > 9 && arg[:9] == "--bundle=" {
				bundle = arg[9:]
			} else if len(arg) > 10 && arg[:10] == "--process=" {
				process = arg[10:]
			}
		}
	}
	switch {
	case command == "create" || command == "run":
		return rewrite(filepath.Join(bundle, "config.json"), func(spec map[string]any) {
			if p, ok := spec["process"].(map[string]any); ok {
				clampProcess(p)
			}
		})
	case command == "exec" && process != "":
		return rewrite(process, clampProcess)
	}
	return nil
}

// clampProcess edits an OCI process object in place.
func clampProcess(process map[string]any) {
	if caps, ok := process["capabilities"].(map[string]any); ok {
		for set, list := range caps {
			names, _ := list.([]any)
			kept := make([]any, 0, len(names))
			for _, name := range names {
				if name != droppedCapability {
					kept = append(kept, name)
				}
			}
			caps[set] = kept
		}
	}
	if score, ok := process["oomScoreAdj"].(json.Number); ok {
		if value, err := score.Int64(); err == nil && value < 0 {
			process["oomScoreAdj"] = 0
		}
	}
}

func rewrite(path string, edit func(map[string]any)) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// UseNumber keeps 64-bit values (rlimits, ids) exact through the round trip.
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var doc map[string]any
	if err := decoder.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, info.Mode().Perm())
}
