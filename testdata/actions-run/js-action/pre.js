import * as core from '@actions/core';

const label = core.getInput('label');
core.saveState('pre', `pre of ${label}`);
core.info(`pre ${label}: steps so far=${process.env.SEEN_BY_PRE ?? 'none'}`);
