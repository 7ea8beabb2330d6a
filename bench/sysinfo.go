package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
)

// Machine describes the machine the benchmark ran on.
type Machine struct {
	GOMAXPROCS    int    `json:"gomaxprocs"`
	NumCPU        int    `json:"num_cpu"`
	CPUModel      string `json:"cpu_model"`
	MemTotalBytes uint64 `json:"mem_total_bytes"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	GoVersion     string `json:"go_version"`
}

// ReadMachine describes this machine. CPU model and memory come from
// /proc/cpuinfo and /proc/meminfo; where those cannot be read they are
// "unknown" and 0.
func ReadMachine() Machine {
	m := Machine{
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		CPUModel:   "unknown",
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		GoVersion:  runtime.Version(),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if model := parseCPUModel(b); model != "" {
			m.CPUModel = model
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb, ok, err := procKB(b, "MemTotal"); ok && err == nil {
			m.MemTotalBytes = kb
		}
	}
	return m
}

// RSS is one reading of a process's memory.
type RSS struct {
	// After names the scenario after which the reading was taken.
	After string `json:"after"`
	PID   int    `json:"pid"`
	// NodeID is the agent's node ID for a reading of one of
	// Config.BrokerPIDs, nil for Config.BrokerPID.
	NodeID *int32 `json:"node_id,omitempty"`
	// VmRSSBytes is the resident set size at the time of reading.
	VmRSSBytes uint64 `json:"vm_rss_bytes"`
	// VmHWMBytes is the peak resident set size since the process started.
	VmHWMBytes uint64 `json:"vm_hwm_bytes"`
}

// ReadRSS reads VmRSS and VmHWM of process pid from /proc/PID/status.
func ReadRSS(pid int) (RSS, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return RSS{}, fmt.Errorf("bench: broker memory: %w", err)
	}
	rss, hwm, err := parseProcStatus(b)
	if err != nil {
		return RSS{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	return RSS{PID: pid, VmRSSBytes: rss, VmHWMBytes: hwm}, nil
}

// parseProcStatus returns VmRSS and VmHWM, in bytes, from the contents of
// /proc/PID/status.
func parseProcStatus(b []byte) (vmRSS, vmHWM uint64, err error) {
	vmRSS, ok, err := procKB(b, "VmRSS")
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return 0, 0, fmt.Errorf("%w: no VmRSS line", ErrProcStatus)
	}
	vmHWM, ok, err = procKB(b, "VmHWM")
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return 0, 0, fmt.Errorf("%w: no VmHWM line", ErrProcStatus)
	}
	return vmRSS, vmHWM, nil
}

// procKB finds the first line "key: <n> kB" in a /proc file and returns n
// in bytes. ok is false if there is no such key.
func procKB(b []byte, key string) (n uint64, ok bool, err error) {
	prefix := []byte(key + ":")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		rest, found := bytes.CutPrefix(line, prefix)
		if !found {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, true, fmt.Errorf("%w: %s line %q", ErrProcStatus, key, line)
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil || kb > math.MaxUint64/1024 {
			return 0, true, fmt.Errorf("%w: %s value %q", ErrProcStatus, key, f[0])
		}
		return kb * 1024, true, nil
	}
	if err := sc.Err(); err != nil {
		return 0, false, fmt.Errorf("%w: %v", ErrProcStatus, err)
	}
	return 0, false, nil
}

// procField returns the value, trimmed, of the first line "key: value" in
// a /proc file. ok is false if there is no such key.
func procField(b []byte, key string) (value string, ok bool) {
	prefix := []byte(key + ":")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, found := bytes.CutPrefix(sc.Bytes(), prefix); found {
			return string(bytes.TrimSpace(rest)), true
		}
	}
	return "", false
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo, or "".
func parseCPUModel(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, found := bytes.Cut(sc.Bytes(), []byte(":"))
		if found && string(bytes.TrimSpace(key)) == "model name" {
			return string(bytes.TrimSpace(val))
		}
	}
	return ""
}
