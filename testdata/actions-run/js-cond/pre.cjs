console.log('js-cond pre ran');
