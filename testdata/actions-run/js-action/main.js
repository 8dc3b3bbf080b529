import * as core from '@actions/core';
import * as path from 'node:path';

const label = core.getInput('label');
const who = core.getInput('who-to-greet', { required: true });
core.info(`[${label}] hello ${who}`);
core.info(`[${label}] spaced=${core.getInput('input with spaces')}`);
const names = Object.keys(process.env).filter((k) => k.startsWith('INPUT_')).sort();
core.info(`[${label}] inputs=${names.join(',')}`);
core.info(`[${label}] state from pre=${core.getState('pre')}`);
const secret = core.getInput('secret');
if (secret !== '') {
  core.setSecret(secret);
  core.info(`[${label}] secret=${secret}`);
  core.setOutput('leak', `the secret is ${secret}`);
}
core.setOutput('greeting', `hello ${who}`);
core.exportVariable('FROM_JS', `exported by ${label}`);
core.addPath(path.join(import.meta.dirname, 'bin'));
core.saveState('started', `main of ${label}`);
await core.summary.addRaw(`### Summary from ${label}`, true).write();
