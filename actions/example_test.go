package actions_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/vermont-ci/vermont/actions"
	"github.com/vermont-ci/vermont/workflow"
)

// A resolver finds a local composite action and reads its metadata. Remote
// references (owner/repo[/path]@ref) are fetched into the cache directory
// the same way; with WithOffline(true) only the cache is used.
func ExampleResolver_Action() {
	cache, err := os.MkdirTemp("", "vermont-actions-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache)
	r, err := actions.NewResolver(actions.WithCacheDir(cache), actions.WithOffline(true))
	if err != nil {
		log.Fatal(err)
	}
	_, meta, err := r.Action(context.Background(), "./sub/dir", "../testdata/actions/hello")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(meta.Name.Value, meta.Runs.Using.Value, len(meta.Runs.Steps), "steps")
	for _, in := range meta.Inputs {
		fmt.Printf("input %s required=%v default=%q\n", in.Name.Value, in.Required != nil && in.Required.Value, value(in.Default))
	}
	fmt.Println("output message =", meta.Outputs[0].Value.Value)

	_, _, err = r.Action(context.Background(), "acme/hello@v1", "")
	fmt.Println(errors.Is(err, actions.ErrNotCached))
	// Output:
	// greet-composite composite 2 steps
	// input name required=true default=""
	// input punctuation required=false default="!"
	// output message = ${{ steps.say.outputs.message }}
	// true
}

func value(s *workflow.String) string {
	if s == nil {
		return ""
	}
	return s.Value
}
