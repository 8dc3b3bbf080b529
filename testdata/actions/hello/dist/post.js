console.log("bye");
