//go:build !linux

package main

import (
	"syscall"
	"time"
)

// Elsewhere than Linux there is no /proc: no memory or CPU figures, and
// children are stopped only by parley-bench's own cleanup.

func childAttr() *syscall.SysProcAttr               { return nil }
func procMemory(pid int) (peak, cur int64, ok bool) { return 0, 0, false }
func resetPeakMemory(pid int) bool                  { return false }
func procCPU(pid int) (time.Duration, bool)         { return 0, false }
func machineBusy() (time.Duration, bool)            { return 0, false }
func selfCPU() (time.Duration, bool)                { return 0, false }
func cpuModel() string                              { return "" }
func postgresCPU() time.Duration                    { return -1 }
