package bench

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
)

const statusSample = `Name:	strata
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	  812344 kB
VmSize:	  812344 kB
VmLck:	       0 kB
VmHWM:	  122880 kB
VmRSS:	   90112 kB
RssAnon:	   70000 kB
VmSwap:	       0 kB
Threads:	12
`

const cpuinfoSample = `processor	: 0
vendor_id	: AuthenticAMD
model name	: AMD EPYC 7B13 64-Core Processor
cpu MHz		: 2450.000

processor	: 1
model name	: AMD EPYC 7B13 64-Core Processor
`

func TestParseProcStatus(t *testing.T) {
	rss, hwm, err := parseProcStatus([]byte(statusSample))
	if err != nil {
		t.Fatal(err)
	}
	if rss != 90112*1024 || hwm != 122880*1024 {
		t.Fatalf("VmRSS=%d VmHWM=%d", rss, hwm)
	}
	for name, in := range map[string]string{
		"no VmRSS":   strings.ReplaceAll(statusSample, "VmRSS", "VmXXX"),
		"no VmHWM":   strings.ReplaceAll(statusSample, "VmHWM", "VmXXX"),
		"bad unit":   strings.ReplaceAll(statusSample, "90112 kB", "90112 MB"),
		"bad number": strings.ReplaceAll(statusSample, "90112 kB", "9o112 kB"),
		"no unit":    strings.ReplaceAll(statusSample, "90112 kB", "90112"),
		"overflow":   strings.ReplaceAll(statusSample, "90112 kB", "18446744073709551615 kB"),
		"empty":      "",
	} {
		if _, _, err := parseProcStatus([]byte(in)); !errors.Is(err, ErrProcStatus) {
			t.Errorf("%s: err %v, want ErrProcStatus", name, err)
		}
	}
}

func TestReadRSSOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	m, err := ReadRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.PID != os.Getpid() || m.VmRSSBytes == 0 || m.VmHWMBytes < m.VmRSSBytes {
		t.Fatalf("implausible reading %+v", m)
	}
	if _, err := ReadRSS(1 << 30); err == nil {
		t.Fatal("reading a process that cannot exist succeeded")
	}
}

func TestParseMachineFiles(t *testing.T) {
	if got := parseCPUModel([]byte(cpuinfoSample)); got != "AMD EPYC 7B13 64-Core Processor" {
		t.Fatalf("cpu model %q", got)
	}
	if got := parseCPUModel([]byte("processor : 0\nHardware : BCM2835\n")); got != "" {
		t.Fatalf("cpu model without a model name line: %q", got)
	}
	n, ok, err := procKB([]byte("MemTotal:       24684084 kB\nMemFree:        1 kB\n"), "MemTotal")
	if err != nil || !ok || n != 24684084*1024 {
		t.Fatalf("MemTotal = %d %t %v", n, ok, err)
	}
	if _, ok, err := procKB([]byte("MemFree: 1 kB\n"), "MemTotal"); ok || err != nil {
		t.Fatalf("missing key: ok=%t err=%v", ok, err)
	}
	m := ReadMachine()
	if m.GOMAXPROCS < 1 || m.NumCPU < 1 || m.CPUModel == "" || m.GoVersion == "" {
		t.Fatalf("machine %+v", m)
	}
	if runtime.GOOS == "linux" && m.MemTotalBytes == 0 {
		t.Fatal("no MemTotal on Linux")
	}
}

// FuzzParseProc feeds arbitrary bytes to the /proc parsers: they must not
// panic, and whatever they accept must be whole kB.
func FuzzParseProc(f *testing.F) {
	f.Add([]byte(statusSample))
	f.Add([]byte(cpuinfoSample))
	f.Add([]byte("MemTotal:       24684084 kB\n"))
	f.Add([]byte("VmRSS: 1 kB\nVmHWM: 2 kB"))
	f.Add([]byte("VmRSS:\nVmHWM: kB kB"))
	f.Add([]byte("VmRSS: 18014398509481984 kB\nVmHWM: 1 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rss, hwm, err := parseProcStatus(b)
		if err == nil && (rss%1024 != 0 || hwm%1024 != 0) {
			t.Fatalf("accepted partial kB: %d %d", rss, hwm)
		}
		if err != nil && !errors.Is(err, ErrProcStatus) {
			t.Fatalf("error not marked ErrProcStatus: %v", err)
		}
		if n, ok, err := procKB(b, "MemTotal"); (err == nil && n%1024 != 0) || (!ok && n != 0) {
			t.Fatalf("MemTotal %d ok=%t err=%v", n, ok, err)
		}
		_ = parseCPUModel(b)
	})
}
