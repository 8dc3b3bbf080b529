package exec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Owner is implemented by step runners whose steps run as a user other
// than Vermont's: a container job with `options: --user 1000`. GitHub's
// runner owns the workspace, RUNNER_TEMP and the workflow-command files,
// and a container that runs as the runner's user can write them; the job
// runner gives them to the job's user in the same way, so that
// GITHUB_OUTPUT and friends work. A working tree bound with WithBind is
// never chowned: it is the user's own.
type Owner interface {
	// Owner returns the uid and gid steps run as; ok is false when
	// they run as whoever runs Vermont.
	Owner() (uid, gid int, ok bool)
}

// jobOwner is the uid and gid to give the job's files to.
type jobOwner struct{ uid, gid int }

// ownerOf returns the owner the job's files need, or nil when steps run
// as Vermont's own user.
func ownerOf(sr StepRunner) *jobOwner {
	o, ok := sr.(Owner)
	if !ok {
		return nil
	}
	uid, gid, ok := o.Owner()
	if !ok || (uid == os.Getuid() && gid == os.Getgid()) {
		return nil
	}
	return &jobOwner{uid, gid}
}

// own gives the files under each root (the roots included) to the job's
// user; it does nothing for a job whose steps run as Vermont's user.
func (o *jobOwner) own(roots ...string) error {
	if o == nil {
		return nil
	}
	var errs []error
	for _, root := range roots {
		errs = append(errs, filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, o.uid, o.gid)
		}))
	}
	return errors.Join(errs...)
}
