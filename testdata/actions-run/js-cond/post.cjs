console.log('js-cond post ran');
