package containerd

import (
	"os"
	"strings"

	"github.com/containerd/containerd/v2/pkg/cap"
)

// probeSys looks at this host. Containers run on the machine Vermont runs
// on (their mounts are its directories), so its kernel is theirs.
func probeSys() sysInfo {
	var s sysInfo
	// Every capability this process's bounding set holds: the runtime
	// cannot grant one outside it, as in a container that runs Vermont.
	s.allCaps = cap.Known()
	if f, err := os.Open("/proc/self/status"); err == nil {
		if sets, err := cap.ParseProcPIDStatus(f); err == nil {
			s.allCaps, _ = cap.FromBitmap(sets[cap.Bounding])
		}
		f.Close()
	}
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	s.cgroup2 = err == nil
	if s.cgroup2 {
		s.swapLimit = true // as Docker assumes on cgroup v2
	} else {
		_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
		s.swapLimit = err == nil
	}
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil {
		s.apparmor = strings.HasPrefix(string(b), "Y")
	}
	return s
}

// knownCaps lists the capability names --cap-add and --cap-drop accept.
func knownCaps() []string { return cap.Known() }
