// Package github implements [vm.Runners] over GitHub's REST API with
// go-github: it registers single-use runners, removes them, lists them and
// finds queued jobs, for one repository or one organization.
//
// # Authentication
//
// Either a personal access token ([WithToken]; fine-grained with
// "Administration: write" on the repository, or "Self-hosted runners: write"
// on the organization; classic with repo or admin:org) or a GitHub App
// installation ([WithApp]; the app signs a JWT with its private key and
// exchanges it for an installation token, through
// github.com/bradleyfalzon/ghinstallation/v2). Both honour [WithBaseURL], so
// GitHub Enterprise Server works ("https://HOST/api/v3/").
//
// # Runner configurations
//
// [Client.JITConfig] asks for a just-in-time configuration
// (POST .../actions/runners/generate-jitconfig). The runner starts with it
// as `./run.sh --jitconfig "$CONFIG"`, takes one job and unregisters itself.
//
// Servers without that endpoint (GitHub Enterprise Server before just-in-time
// runners, which answer 404 or 422) get a registration token instead
// (POST .../actions/runners/registration-token). vm.JIT.Config is then the
// standard base64 encoding of the JSON document [RegistrationConfig]:
//
//	{"kind":"registration","url":"https://github.com/octo-org/octo-repo",
//	 "token":"AABF3JGZDX3P5PMEXLND6TS6FCWO6","name":"vermont-1f3a",
//	 "labels":["self-hosted","linux"],"work_folder":"_work","ephemeral":true,
//	 "expires_at":"2024-05-02T11:00:00Z"}
//
// and vm.JIT.RunnerID is 0, because GitHub assigns the ID only when the
// runner registers itself (find it by name with ListRunners). A runner
// entrypoint tells the two apart by decoding the base64: a document whose
// "kind" is "registration" is run as
//
//	./config.sh --unattended --ephemeral --url "$url" --token "$token" \
//	    --name "$name" --labels "$labels_joined_by_commas" --work "$work_folder"
//	./run.sh
//
// and anything else is a GitHub just-in-time configuration (its JSON has no
// "kind" key) and is passed to `./run.sh --jitconfig` unchanged. Go
// entrypoints can call [ParseRegistrationConfig].
//
// # Queued jobs
//
// [Client.QueuedJobs] finds jobs that are waiting for a runner, so that
// demand whose webhook was missed is not lost. For a repository it lists the
// workflow runs whose status is queued or in_progress (an in-progress run can
// still hold queued jobs, e.g. the rest of a matrix), then their jobs, and
// keeps those whose status is queued. For an organization there is no
// organization-wide endpoint for runs, so it walks the organization's
// repositories, most recently pushed first, skipping archived ones, up to
// [WithMaxRepos] of them (default 100), and does the same for each. Every
// list is paginated, with a hard bound on pages.
//
// # Secrets
//
// Tokens, installation tokens, registration tokens and JIT configurations
// never appear in errors or logs: error text is scrubbed of every secret the
// client knows and of anything shaped like a GitHub token. Rate limiting is
// reported as a [*RateLimitError], which matches [ErrRateLimited] with
// errors.Is and carries the time the limit resets.
package github
