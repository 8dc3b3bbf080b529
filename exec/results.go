package exec

import "path/filepath"

// ResultsService is the Actions Results Service that steps upload
// artifacts to and keep caches in (actions/upload-artifact,
// download-artifact and cache). Package actions/results implements it.
type ResultsService interface {
	// URL returns the service's base URL, its ACTIONS_RESULTS_URL. A
	// service may start on the first call; an error leaves actions
	// without the variables, with a warning.
	URL() (string, error)
	// Token returns the runtime token of one job of a run: a secret the
	// service accepts as that job's. "" means it cannot make one.
	Token(runID, jobID string) string
}

// results is the configuration WithResults sets.
type results struct {
	svc        ResultsService
	containers bool
}

// WithResults gives JavaScript and Docker actions the results service svc
// (ACTIONS_RESULTS_URL) and a runtime token. As on GitHub, `run:`
// steps (composite actions' included) get neither: the runner hands them
// only to actions. containers says whether steps in containers can
// reach the service too: with a loopback URL, only when containers share
// the host's network. Steps that cannot reach it get none of the variables, so
// the toolkits fail with their own clear message instead of a refused
// connection.
func WithResults(svc ResultsService, containers bool) Option {
	return func(r *Runner) error {
		r.results = &results{svc: svc, containers: containers}
		return nil
	}
}

// addResultsEnv sets, for an action's process, the variables
// @actions/artifact and @actions/cache read: the service URL, the job's
// runtime token (masked in every log), and the switch to cache service v2,
// the only one served.
func (j *jobRun) addResultsEnv(m map[string]string, inContainer bool) {
	res := j.r.results
	if res == nil || (inContainer && !res.containers) {
		return
	}
	url, err := res.svc.URL()
	if err != nil {
		j.logf("warning", "artifacts and caches are not available: %v", err)
		return
	}
	if j.resultsToken == "" {
		// The job's directory name is unique in the run, matrix legs included.
		j.resultsToken = res.svc.Token(j.r.runID, filepath.Base(j.dir))
		if j.resultsToken == "" {
			return
		}
		j.r.masker.Add(j.resultsToken)
	}
	token := j.resultsToken
	m["ACTIONS_RESULTS_URL"] = url
	m["ACTIONS_RUNTIME_TOKEN"] = token
	m["ACTIONS_CACHE_SERVICE_V2"] = "True"
}
