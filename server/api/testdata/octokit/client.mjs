// The calls of server/api's TestGH through the real @octokit/rest, against
// the test server (BASE_URL, TOKEN, READ_TOKEN; the test CA comes in through
// NODE_EXTRA_CA_CERTS). It prints one JSON object of what it saw; the Go
// test checks it. Secrets are sealed with libsodium-wrappers as GitHub's
// documentation shows
// (https://docs.github.com/en/rest/guides/encrypting-secrets-for-the-rest-api).
import { Octokit } from "@octokit/rest";
import { createRequire } from "node:module";

// libsodium-wrappers' ES module build cannot find its own libsodium.mjs
// (0.7.15), so it is loaded as CommonJS.
const sodium = createRequire(import.meta.url)("libsodium-wrappers");

const env = JSON.parse(process.env.OCTOKIT_INPUT);
const octokit = new Octokit({ auth: env.token, baseUrl: env.baseUrl });
const readOnly = new Octokit({ auth: env.readToken, baseUrl: env.baseUrl });
const repo = { owner: "octo", repo: "hello" };
const out = {};

async function status(p) {
  try {
    const r = await p;
    return { status: r.status };
  } catch (e) {
    return { status: e.status, message: e.response?.data?.message };
  }
}

const runs = await octokit.rest.actions.listWorkflowRunsForRepo({ ...repo, per_page: 2 });
out.runsTotal = runs.data.total_count;
out.runsPage = runs.data.workflow_runs.map((r) => r.id);
out.link = runs.headers.link;
out.allRuns = (await octokit.paginate(octokit.rest.actions.listWorkflowRunsForRepo, { ...repo, per_page: 1 })).map((r) => r.id);
out.workflows = (await octokit.rest.actions.listRepoWorkflows(repo)).data.workflows.map((w) => w.name);
const jobs = await octokit.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: env.failureRun });
out.jobs = jobs.data.jobs.map((j) => `${j.name} ${j.conclusion} ${j.steps.length}`);
// Octokit follows the 302 to the signed URL and returns the text.
const log = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ ...repo, job_id: env.buildJob });
out.jobLog = String(log.data);
out.dispatch = await status(octokit.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: "deploy.yml", ref: "main", inputs: { environment: "staging", note: "from octokit" } }));
out.badDispatch = await status(octokit.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: "deploy.yml", ref: "main", inputs: {} }));
out.readCancel = await status(readOnly.rest.actions.cancelWorkflowRun({ ...repo, run_id: env.runningRun }));
out.cancel = await status(octokit.rest.actions.cancelWorkflowRun({ ...repo, run_id: env.runningRun }));
out.rerunFailed = await status(octokit.rest.actions.reRunWorkflowFailedJobs({ ...repo, run_id: env.failureRun }));

await sodium.ready;
const key = (await octokit.rest.actions.getRepoPublicKey(repo)).data;
const sealed = sodium.crypto_box_seal(sodium.from_string(env.secret), sodium.from_base64(key.key, sodium.base64_variants.ORIGINAL));
out.putSecret = await status(octokit.rest.actions.createOrUpdateRepoSecret({
  ...repo, secret_name: "OCTO_SECRET", encrypted_value: sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL), key_id: key.key_id,
}));
out.secrets = (await octokit.rest.actions.listRepoSecrets(repo)).data.secrets.map((s) => s.name);
out.badCredentials = await status(new Octokit({ auth: "vmt_wrong", baseUrl: env.baseUrl }).rest.actions.listRepoSecrets(repo));
console.log(JSON.stringify(out));
