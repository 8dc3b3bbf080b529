package main

import (
	"os/exec"
	"strings"

	vexec "github.com/vermont-ci/vermont/exec"
)

// zeroSHA is what GitHub's push payload names as before when there was no
// commit (a new branch).
const zeroSHA = "0000000000000000000000000000000000000000"

// pushEvent builds the push webhook payload GitHub would send for the local
// repository's HEAD, for a run without -e: ref, before (HEAD's first
// parent), after, repository, head_commit, pusher and sender
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#push).
// What the local repository cannot know (ids, URLs) is left out. The
// changed files, which on.push.paths filters read, are those between
// HEAD and what was pushed before it: the upstream branch's merge base when
// one is set and HEAD is ahead of it, else HEAD's first parent (all of
// HEAD's files for a root commit). They are listed on head_commit and on
// one entry of "commits", which stands for every commit pushed. Without
// git, or outside a repository, the commit fields stay empty.
func pushEvent(repo vexec.Repo, actor, cacheDir string) map[string]any {
	full := repo.Repository
	if full == "" {
		full = "local/" + lastElem(repo.Root)
	}
	owner, name, _ := strings.Cut(full, "/")
	ev := map[string]any{
		"ref":     repo.Ref,
		"before":  zeroSHA,
		"after":   repo.SHA,
		"created": false, "deleted": false, "forced": false,
		"repository": map[string]any{
			"name": name, "full_name": full,
			"owner": map[string]any{"login": owner, "name": owner},
		},
		"pusher": map[string]any{"name": actor},
		"sender": map[string]any{"login": actor},
	}
	if repo.SHA == "" {
		return ev
	}
	// One git process: parents, author, committer, time, the message,
	// then the files changed against the first parent (all files, as
	// added, for a root commit). A second only when an upstream is set
	// that HEAD is ahead of: its merge base is where the push starts.
	// What it prints depends on the commit alone, so it is kept in
	// cacheDir ("" for none) and a later run of the same commit starts
	// no git at all.
	f, ok := commitLog(repo.Root, repo.SHA, cacheDir)
	if !ok {
		return ev
	}
	base := ""
	if parents := strings.Fields(f[0]); len(parents) > 0 {
		base = parents[0]
		ev["before"] = base
	} else {
		ev["created"] = true
	}
	added, modified, removed := nameStatus(f[7:])
	if repo.Upstream != "" && repo.Upstream != repo.SHA {
		if mb, err := exec.Command("git", "-C", repo.Root, "merge-base", repo.SHA, repo.Upstream).Output(); err == nil {
			if s := strings.TrimSpace(string(mb)); s != "" && s != repo.SHA && s != base {
				ev["before"] = s
				added, modified, removed, ok = changedFiles(repo.Root, s, repo.SHA)
			}
		}
	}
	commit := map[string]any{
		"id": repo.SHA, "tree_id": "", "distinct": true,
		"message":   strings.TrimRight(f[6], "\n"),
		"timestamp": f[5],
		"author":    map[string]any{"name": f[1], "email": f[2]},
		"committer": map[string]any{"name": f[3], "email": f[4]},
	}
	if ok {
		commit["added"], commit["modified"], commit["removed"] = added, modified, removed
		ev["commits"] = []any{commit}
	}
	// Without the lists (git failed) there is no "commits", and a path
	// filter is not applied (workflow.TriggerFromPayload) rather than
	// seeing no file changed.
	ev["head_commit"] = commit
	ev["pusher"] = map[string]any{"name": actor, "email": f[2]}
	return ev
}

// changedFiles lists the files that differ between base and head, as a
// push payload's commits list them.
func changedFiles(root, base, head string) (added, modified, removed []any, ok bool) {
	out, err := exec.Command("git", "-C", root, "diff", "--name-status", "-z", "--no-renames", base, head).Output()
	if err != nil {
		return nil, nil, nil, false
	}
	added, modified, removed = nameStatus(strings.Split(string(out), "\x00"))
	return added, modified, removed, true
}

// nameStatus sorts `git diff --name-status -z` fields (status, path,
// status, path, …; empty fields skipped) into added, modified and removed.
func nameStatus(f []string) (added, modified, removed []any) {
	added, modified, removed = []any{}, []any{}, []any{}
	for len(f) > 0 && f[0] == "" {
		f = f[1:]
	}
	for i := 0; i+1 < len(f); i += 2 {
		switch f[i] {
		case "A":
			added = append(added, f[i+1])
		case "D":
			removed = append(removed, f[i+1])
		default: // M, T (a type change)
			modified = append(modified, f[i+1])
		}
	}
	return added, modified, removed
}

func lastElem(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
