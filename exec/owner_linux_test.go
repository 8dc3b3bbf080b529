package exec

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// owned is a StepRunner whose steps run as uid:gid.
type owned struct {
	plain
	uid, gid int
}

func (o owned) Owner() (int, int, bool) { return o.uid, o.gid, true }

func TestOwnerOf(t *testing.T) {
	t.Parallel()
	if o := ownerOf(plain{}); o != nil {
		t.Errorf("ownerOf(a runner without Owner) = %+v, want nil", o)
	}
	if o := ownerOf(owned{uid: os.Getuid(), gid: os.Getgid()}); o != nil {
		t.Errorf("ownerOf(Vermont's own user) = %+v, want nil", o)
	}
	if o := ownerOf(owned{uid: 1000, gid: 1001}); o == nil || *o != (jobOwner{1000, 1001}) {
		t.Errorf("ownerOf(1000:1001) = %+v", o)
	}
	var none *jobOwner
	if err := none.own("/nonexistent"); err != nil {
		t.Errorf("nil owner: own = %v, want nothing done", err)
	}
}

// TestOwnGivesTheTree chowns a tree with a dangling link in it (Lchown: the
// link itself, never its target). As root the files change hands; as
// another user the kernel refuses and own says so.
func TestOwnGivesTheTree(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", "b", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent/target", filepath.Join(root, "a", "link")); err != nil {
		t.Fatal(err)
	}
	o := &jobOwner{uid: 1000, gid: 1001}
	err := o.own(root)
	if os.Getuid() != 0 {
		if !errors.Is(err, syscall.EPERM) {
			t.Fatalf("own as uid %d = %v, want EPERM", os.Getuid(), err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{root, "a", "a/b", "a/b/f", "a/link"} {
		if p != root {
			p = filepath.Join(root, p)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 1000 || st.Gid != 1001 {
			t.Errorf("%s: owner %d:%d, want 1000:1001", p, st.Uid, st.Gid)
		}
	}
}
