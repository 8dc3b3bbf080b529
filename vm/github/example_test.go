package github_test

import (
	"context"
	"log"
	"os"

	"github.com/vermont-ci/vermont/vm/github"
)

// Register a single-use runner for an organization with a personal access
// token. (Not run: it talks to GitHub.)
func Example() {
	c, err := github.New(
		github.WithToken(os.Getenv("GITHUB_PAT")),
		github.WithOrg("octo-org"),
		// github.WithBaseURL("https://ghes.example.com/api/v3/"), for GitHub Enterprise Server
	)
	if err != nil {
		log.Fatal(err)
	}
	jit, err := c.JITConfig(context.Background(), "vermont-1f3a", []string{"self-hosted", "linux"})
	if err != nil {
		log.Fatal(err)
	}
	// Hand jit.Config to the runner (run.sh --jitconfig, or config.sh for a
	// registration config); remove the registration after the job.
	defer c.RemoveRunner(context.Background(), jit.RunnerID)
}
