#ifndef FPGALAB_CEXT2FS_SHIM_H
#define FPGALAB_CEXT2FS_SHIM_H

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

/// glibc declares copy_file_range(2) only under _GNU_SOURCE, which Swift's Glibc module is not
/// built with; this is glibc's own prototype (ImageSource.clone uses it).
extern ssize_t copy_file_range(int infd, __off64_t *pinoff, int outfd, __off64_t *poutoff,
                               size_t length, unsigned int flags);

#endif
