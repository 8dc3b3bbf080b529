console.log(`js-cond main ran with node ${process.version}`);
