package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// How killProcess waits for the process to be gone.
const (
	killWaitTimeout = 5 * time.Second
	killPollPeriod  = time.Millisecond
)

// killProcess sends SIGKILL to pid and waits until the process has exited:
// until /proc/PID/status is gone or shows a zombie, which it is once the
// kernel has closed its sockets. Where there is no /proc it returns once
// the signal is sent.
func killProcess(_ int32, pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	defer p.Release()
	if err := p.Kill(); err != nil {
		return err
	}
	deadline := time.Now().Add(killWaitTimeout)
	for {
		gone, err := processGone(pid)
		if err != nil || gone {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: process %d still running %s after SIGKILL", pid, killWaitTimeout)
		}
		time.Sleep(killPollPeriod)
	}
}

// processGone reports whether process pid has exited: it has no
// /proc/PID/status, or its state is zombie (Z) or dead (X).
func processGone(pid int) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("bench: process %d: %w", pid, err)
	}
	state, ok := procField(b, "State")
	if !ok || state == "" {
		return false, fmt.Errorf("%w: pid %d: no State line", ErrProcStatus, pid)
	}
	return state[0] == 'Z' || state[0] == 'X', nil
}
