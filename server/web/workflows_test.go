package web_test

// Workflows the tests run, on the host.
const (
	liveYML = `name: Live
on:
  workflow_dispatch:
    inputs:
      count:
        type: number
        default: 20
      greeting:
        type: choice
        options: [hello, hi]
        default: hello
      loud:
        type: boolean
        default: false
jobs:
  tail:
    runs-on: ubuntu-latest
    steps:
      - name: Greet
        run: |
          echo "greeting=${{ inputs.greeting }} loud=${{ inputs.loud }}"
          echo "::group::Folded details"
          echo "inside the group"
          echo "::endgroup::"
          printf '\033[31mred text\033[0m plain\n'
          echo "::warning file=greet.sh,line=7,title=Heads up::a warning worth reading"
      - name: Tick
        run: |
          for i in $(seq 1 ${{ inputs.count }}); do echo "tick $i"; sleep 0.1; done
`
	failYML = `name: Flaky
on: workflow_dispatch
jobs:
  ok:
    runs-on: ubuntu-latest
    steps:
      - run: echo fine
  flaky:
    runs-on: ubuntu-latest
    needs: ok
    steps:
      - run: |
          echo "attempt ${{ github.run_attempt }}"
          test "${{ github.run_attempt }}" -gt 1
`
	summaryYML = `name: Summary
on: workflow_dispatch
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo '## Report' >> "$GITHUB_STEP_SUMMARY"
          echo '' >> "$GITHUB_STEP_SUMMARY"
          echo '| test | result |' >> "$GITHUB_STEP_SUMMARY"
          echo '| --- | --- |' >> "$GITHUB_STEP_SUMMARY"
          echo '| unit | ok |' >> "$GITHUB_STEP_SUMMARY"
          echo '' >> "$GITHUB_STEP_SUMMARY"
          echo '<script>window.__pwned = 1</script>' >> "$GITHUB_STEP_SUMMARY"
          echo '<img src="x" onerror="window.__pwned = 2">' >> "$GITHUB_STEP_SUMMARY"
          echo '' >> "$GITHUB_STEP_SUMMARY"
          echo '[click](javascript:window.__pwned=3)' >> "$GITHUB_STEP_SUMMARY"
`
	secretYML = `name: Secret
on: workflow_dispatch
jobs:
  use:
    runs-on: ubuntu-latest
    steps:
      - run: echo "the secret is ${{ secrets.DEPLOY_KEY }}"
`
	htmlYML = `name: "<i>HTML</i> workflow"
on: workflow_dispatch
jobs:
  x:
    name: "<b>bold job</b>"
    runs-on: ubuntu-latest
    steps:
      - name: "<u>underlined step</u>"
        run: echo '<script>window.__pwned = 4</script>'
`
	longYML = `name: Long
on: workflow_dispatch
jobs:
  long:
    runs-on: ubuntu-latest
    steps:
      - name: A long log
        run: seq -f "line %g of a long log" 1 100000
`
	sleepYML = `name: Sleep
on: workflow_dispatch
jobs:
  sleep:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo started
          sleep 60
`
)

func allWorkflows() map[string]string {
	return map[string]string{"live.yml": liveYML, "fail.yml": failYML, "summary.yml": summaryYML,
		"secret.yml": secretYML, "html.yml": htmlYML, "sleep.yml": sleepYML}
}
