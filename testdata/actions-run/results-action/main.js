// Drives Vermont's results service with the real toolkit packages, the
// same calls actions/upload-artifact@v4, download-artifact@v4 and
// cache@v4 make.
const fs = require('fs');
const path = require('path');
const core = require('@actions/core');
const { DefaultArtifactClient } = require('@actions/artifact');
const cache = require('@actions/cache');

function filesUnder(p) {
  if (!fs.statSync(p).isDirectory()) return [p];
  return fs.readdirSync(p).flatMap(n => filesUnder(path.join(p, n)));
}

async function main() {
  const op = core.getInput('op', { required: true });
  const name = core.getInput('name');
  const p = core.getInput('path');
  const client = new DefaultArtifactClient();
  switch (op) {
    case 'upload': {
      const root = fs.statSync(p).isDirectory() ? p : path.dirname(p);
      const res = await client.uploadArtifact(name, filesUnder(p), root);
      core.info(`uploaded ${name}: ${res.size} bytes, id ${res.id > 0 ? 'set' : 'missing'}`);
      break;
    }
    case 'download': {
      const { artifact } = await client.getArtifact(name);
      const res = await client.downloadArtifact(artifact.id, { path: p, expectedHash: artifact.digest });
      core.info(`downloaded ${name} (digest mismatch: ${res.digestMismatch})`);
      for (const f of filesUnder(p).sort()) {
        core.info(`${path.relative(p, f)}: ${fs.readFileSync(f, 'utf8').trim()}`);
      }
      break;
    }
    case 'save': {
      const id = await cache.saveCache([p], core.getInput('key'));
      core.info(`saved cache ${core.getInput('key')}: ${id > 0 ? 'ok' : 'failed'}`);
      if (!(id > 0)) core.setFailed('the cache was not saved');
      break;
    }
    case 'restore': {
      const restoreKeys = core.getMultilineInput('restore-keys');
      const key = await cache.restoreCache([p], core.getInput('key'), restoreKeys);
      core.setOutput('matched-key', key || '');
      core.info(key ? `restored cache ${key}` : 'cache miss');
      if (key) {
        for (const f of filesUnder(p).sort()) {
          core.info(`${f}: ${fs.readFileSync(f, 'utf8').trim()}`);
        }
      }
      break;
    }
    case 'token':
      // The runtime token is a secret: the log shows it masked.
      core.info(`token seen by the action: ${process.env.ACTIONS_RUNTIME_TOKEN}`);
      break;
    default:
      core.setFailed(`unknown op ${op}`);
  }
}

main().catch(err => core.setFailed(err.message));
