package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// childAttr makes a child die with parley-bench even if parley-bench is
// killed outright, and keeps it out of the terminal's process group so that
// Ctrl-C reaches only parley-bench, which then stops its children in order.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}

// procMemory reads a process's peak (VmHWM) and current (VmRSS) resident
// set size in bytes from /proc/PID/status.
func procMemory(pid int) (peak, cur int64, ok bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		switch name {
		case "VmHWM":
			peak = parseKB(val)
		case "VmRSS":
			cur = parseKB(val)
		}
	}
	return peak, cur, peak > 0
}

// resetPeakMemory sets a process's VmHWM back to its current RSS, so that
// the next reading is the peak of what follows (Linux 4.0 and later).
func resetPeakMemory(pid int) bool {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0) == nil
}

// procCPU is the user plus system CPU time a process has used so far.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	return parseStatCPU(b)
}

// machineBusy is the CPU time every CPU of the machine has spent busy
// (user, nice, system, irq, softirq, steal) since boot, from /proc/stat.
func machineBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	return parseProcStat(b)
}

// selfCPU is the CPU time the load client itself has used so far.
func selfCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// cpuModel names the machine's processor, for the report.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, val, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

// postgresCPU is the CPU time every process named postgres has used so
// far (the server and its backends, whoever they serve), from /proc; -1
// when unknown.
func postgresCPU() time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	var total time.Duration
	for _, e := range ents {
		if n := e.Name(); n[0] < '0' || n[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil || !bytes.Contains(b[:min(len(b), 40)], []byte(" (postgres) ")) {
			continue
		}
		if d, ok := parseStatCPU(b); ok {
			total += d
		}
	}
	return total
}
