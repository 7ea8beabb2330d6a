package s3test

import "syscall"

// sysProcAttr has the kernel kill the server if the test process dies
// without stopping it, so no versitygw outlives a crashed test binary.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
