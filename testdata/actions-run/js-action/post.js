import * as core from '@actions/core';

const label = core.getInput('label');
core.info(`post ${label}: ${core.getState('started')}, ${core.getState('pre')}`);
