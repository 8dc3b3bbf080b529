package workflow_test

import (
	"errors"
	"fmt"

	"github.com/vermont-ci/vermont/workflow"
)

func ExampleParse() {
	src := []byte(`on: push
jobs:
  test:
    runs-on: ubuntu-latest
    needs: biuld
    steps:
      - uses: actions/checkout
      - run: echo ${{ github.sha == }}
`)
	_, err := workflow.Parse("ci.yml", src)
	var list workflow.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Println(e)
		}
	}
	// Output:
	// ci.yml:5:12: job "test" needs "biuld", which does not exist [needs]
	// ci.yml:7:15: "actions/checkout" needs a version: use owner/repo@ref (a tag, branch or commit SHA), e.g. actions/checkout@v4, or ./path for a local action [uses]
	// ci.yml:8:37: invalid expression: unexpected end of expression [expression]
}

func ExampleWorkflow_Triggered() {
	wf, err := workflow.Parse("ci.yml", []byte(`on:
  push:
    branches: [main, 'releases/**', '!releases/**-alpha']
jobs:
  test:
    runs-on: ubuntu-latest
    steps: [{run: make test}]
`))
	if err != nil {
		panic(err)
	}
	for _, ref := range []string{"refs/heads/main", "refs/heads/releases/2.0", "refs/heads/releases/3-alpha", "refs/tags/v1"} {
		fmt.Println(ref, wf.Triggered("push", map[string]any{"ref": ref}))
	}
	// Output:
	// refs/heads/main true
	// refs/heads/releases/2.0 true
	// refs/heads/releases/3-alpha false
	// refs/tags/v1 false
}
