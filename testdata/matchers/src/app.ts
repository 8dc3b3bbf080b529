x: number = "a"
