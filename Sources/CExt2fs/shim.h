#ifndef FPGALAB_CEXT2FS_SHIM_H
#define FPGALAB_CEXT2FS_SHIM_H

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

#endif
