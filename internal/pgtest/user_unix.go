//go:build unix

package pgtest

import (
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// runner is the account the server runs as: nobody when this process is
// root (PostgreSQL refuses root), else this process's own.
func runner() (uid, gid int, ok bool) {
	if os.Geteuid() != 0 {
		return 0, 0, false
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return 65534, 65534, true
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, true
}

func chownToRunner(dir string) error {
	if uid, gid, ok := runner(); ok {
		return os.Chown(dir, uid, gid)
	}
	return nil
}

// asRunner makes cmd run as the runner account, and die with this
// process.
func asRunner(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if uid, gid, ok := runner(); ok {
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	}
	setDeathSignal(attr)
	cmd.SysProcAttr = attr
	cmd.Dir = "/" // readable by any account, unlike a private $TMPDIR
}
