#ifndef EXT2FS_IMAGE_IO_H
#define EXT2FS_IMAGE_IO_H

#include <ext2fs/ext2fs.h>

/// libext2fs I/O on an image file at "offset=N", without the fsyncs of unix_io_manager
/// (ext2fs_image_io.c says why). Pass it to ext2fs_open2.
io_manager cext2fs_image_io_manager(void);

#endif
