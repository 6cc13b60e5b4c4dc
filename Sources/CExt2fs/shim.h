#ifndef FPGALAB_CEXT2FS_SHIM_H
#define FPGALAB_CEXT2FS_SHIM_H

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

/// The Unix I/O manager; a C global that Swift cannot reach directly.
static inline io_manager cext2fs_unix_io_manager(void) {
    return unix_io_manager;
}

#endif
