#ifndef FPGALAB_CLINUX_SHIM_H
#define FPGALAB_CLINUX_SHIM_H

#include <sys/types.h>
#include "usbip_socket.h"

/// Linux calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc module is not
/// built with. These are glibc's own prototypes and <bits/fcntl-linux.h>'s flag values.

/// AlignedWriter (flash): starts the device's writeback of what was just written, and waits for
/// older ranges, so the device writes while the next bytes are read and hashed. PageCache
/// (build-image batches): starts the writeback of a published image.
extern int sync_file_range(int fd, __off64_t offset, __off64_t count, unsigned int flags);

static const unsigned int CLINUX_SYNC_FILE_RANGE_WAIT_BEFORE = 1;
static const unsigned int CLINUX_SYNC_FILE_RANGE_WRITE = 2;
static const unsigned int CLINUX_SYNC_FILE_RANGE_WAIT_AFTER = 4;

#endif
