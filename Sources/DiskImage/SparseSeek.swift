/// lseek whences for sparse files (Linux values; Glibc's module map hides them behind _GNU_SOURCE).
let seekData: Int32 = 3
let seekHole: Int32 = 4
