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
// What the local repository cannot know (ids, URLs) is left out, and so
// are "commits", until the changed files are read from the repository. Without git, or outside a repository, the commit fields stay
// empty.
func pushEvent(repo vexec.Repo, actor string) map[string]any {
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
	// One git process: parents, author, committer, time, then the message.
	out, err := exec.Command("git", "-C", repo.Root, "log", "-1", "--format=%P%x00%an%x00%ae%x00%cn%x00%ce%x00%cI%x00%B", repo.SHA).Output()
	if err != nil {
		return ev
	}
	f := strings.SplitN(string(out), "\x00", 7)
	if len(f) != 7 {
		return ev
	}
	if parents := strings.Fields(f[0]); len(parents) > 0 {
		ev["before"] = parents[0]
	} else {
		ev["created"] = true
	}
	commit := map[string]any{
		"id": repo.SHA, "tree_id": "", "distinct": true,
		"message":   strings.TrimRight(f[6], "\n"),
		"timestamp": f[5],
		"author":    map[string]any{"name": f[1], "email": f[2]},
		"committer": map[string]any{"name": f[3], "email": f[4]},
	}
	// No "commits": without their added/modified/removed lists a path
	// filter would see no changed file at all, and absent, it is not
	// applied (workflow.TriggerFromPayload).
	ev["head_commit"] = commit
	ev["pusher"] = map[string]any{"name": actor, "email": f[2]}
	return ev
}

func lastElem(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
