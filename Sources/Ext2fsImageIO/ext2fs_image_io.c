#include "ext2fs_image_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
 * The image I/O manager: libext2fs's reads and writes as plain pread/pwrite on an image file,
 * at "offset=N" (the partition's first byte) plus block * block size, bounded to the partition
 * by "length=M": an access that would reach past offset + length fails with
 * EXT2_ET_BAD_BLOCK_NUM and touches nothing, so a corrupt or oversized file system can never
 * read or write the bytes of another partition (or grow the image).
 *
 *     image file: | MBR | bootfs | rootfs ................................. | next ... |
 *                                ^ offset (set_option "offset")            ^ offset + length
 *                                  block b lives at offset + b * block_size
 *
 * Why not unix_io_manager: it fsyncs the file when it opens it read-write and on every flush.
 * build-image has just written the extracted base (1-2 GiB of dirty page cache), so that
 * fsync waited for the disk (3.2 s of a 5.5 s build of the 2 GiB bench base) for a temporary
 * that cp, bmaptool and mkfs.ext4 -d never sync either. No cache: libext2fs caches its
 * metadata itself, and the kernel's page cache holds the rest. discard, zeroout and readahead
 * are left out; libext2fs then writes zero blocks itself (ext2fs_zero_blocks2).
 * ------------------------------------------------------------------------------------------- */

struct cext2fs_image_data {
    int fd;
    unsigned long long offset;
    /* The partition's length in bytes; 0 until set_option "length" (then no bound). */
    unsigned long long length;
};

static struct struct_io_manager cext2fs_image_manager;

/* pread/pwrite of all `size` bytes at `position` of the image file. */
static errcode_t cext2fs_image_io(io_channel channel, unsigned long long position, size_t size, void *data,
                                         int writing) {
    struct cext2fs_image_data *image = (struct cext2fs_image_data *)channel->private_data;
    if (image->length != 0 &&
        (position < image->offset || size > image->length || position - image->offset > image->length - size))
        return EXT2_ET_BAD_BLOCK_NUM;
    size_t done = 0;
    while (done < size) {
        ssize_t n = writing ? pwrite(image->fd, (const char *)data + done, size - done, (off_t)(position + done))
                            : pread(image->fd, (char *)data + done, size - done, (off_t)(position + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return writing ? EXT2_ET_SHORT_WRITE : EXT2_ET_SHORT_READ;
        done += (size_t)n;
    }
    return 0;
}

/* Blocks `block...` of the file system: a negative count is a byte count (libext2fs's
 * convention), else a number of blocks. */
static errcode_t cext2fs_image_blocks(io_channel channel, unsigned long long block, int count, void *data,
                                             int writing) {
    struct cext2fs_image_data *image = (struct cext2fs_image_data *)channel->private_data;
    size_t size = count < 0 ? (size_t)(-(long long)count) : (size_t)count * (size_t)channel->block_size;
    return cext2fs_image_io(channel, image->offset + block * (unsigned long long)channel->block_size, size, data,
                            writing);
}

static errcode_t cext2fs_image_open(const char *name, int flags, io_channel *channel) {
    if (name == NULL) return EXT2_ET_BAD_DEVICE_NAME;
    int fd = open(name, ((flags & IO_FLAG_RW) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return errno;
    io_channel io = (io_channel)calloc(1, sizeof(*io));
    struct cext2fs_image_data *image = (struct cext2fs_image_data *)calloc(1, sizeof(*image));
    char *copy = strdup(name);
    if (io == NULL || image == NULL || copy == NULL) {
        free(io);
        free(image);
        free(copy);
        close(fd);
        return EXT2_ET_NO_MEMORY;
    }
    image->fd = fd;
    io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
    io->manager = &cext2fs_image_manager;
    io->name = copy;
    io->block_size = 1024;
    io->refcount = 1;
    io->private_data = image;
    *channel = io;
    return 0;
}

static errcode_t cext2fs_image_close(io_channel channel) {
    if (--channel->refcount > 0) return 0;
    struct cext2fs_image_data *image = (struct cext2fs_image_data *)channel->private_data;
    errcode_t code = close(image->fd) == 0 ? 0 : errno;
    free(image);
    free(channel->name);
    free(channel);
    return code;
}

static errcode_t cext2fs_image_set_blksize(io_channel channel, int blksize) {
    channel->block_size = blksize;
    return 0;
}

static errcode_t cext2fs_image_read64(io_channel channel, unsigned long long block, int count, void *data) {
    return cext2fs_image_blocks(channel, block, count, data, 0);
}

static errcode_t cext2fs_image_write64(io_channel channel, unsigned long long block, int count,
                                              const void *data) {
    return cext2fs_image_blocks(channel, block, count, (void *)data, 1);
}

static errcode_t cext2fs_image_read(io_channel channel, unsigned long block, int count, void *data) {
    return cext2fs_image_read64(channel, block, count, data);
}

static errcode_t cext2fs_image_write(io_channel channel, unsigned long block, int count, const void *data) {
    return cext2fs_image_write64(channel, block, count, data);
}

static errcode_t cext2fs_image_write_byte(io_channel channel, unsigned long offset, int count,
                                                 const void *data) {
    struct cext2fs_image_data *image = (struct cext2fs_image_data *)channel->private_data;
    if (count < 0) return EXT2_ET_INVALID_ARGUMENT;
    return cext2fs_image_io(channel, image->offset + offset, (size_t)count, (void *)data, 1);
}

static errcode_t cext2fs_image_flush(io_channel channel) {
    (void)channel;
    return 0;
}

static errcode_t cext2fs_image_set_option(io_channel channel, const char *option, const char *arg) {
    struct cext2fs_image_data *image = (struct cext2fs_image_data *)channel->private_data;
    if (arg == NULL) return EXT2_ET_INVALID_ARGUMENT;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(arg, &end, 0);
    if (errno != 0 || end == arg || *end != '\0') return EXT2_ET_INVALID_ARGUMENT;
    if (strcmp(option, "offset") == 0) image->offset = value;
    else if (strcmp(option, "length") == 0) image->length = value;
    else return EXT2_ET_INVALID_ARGUMENT;
    return 0;
}

io_manager cext2fs_image_io_manager(void) {
    cext2fs_image_manager.magic = EXT2_ET_MAGIC_IO_MANAGER;
    cext2fs_image_manager.name = "fpga-lab image I/O manager";
    cext2fs_image_manager.open = cext2fs_image_open;
    cext2fs_image_manager.close = cext2fs_image_close;
    cext2fs_image_manager.set_blksize = cext2fs_image_set_blksize;
    cext2fs_image_manager.read_blk = cext2fs_image_read;
    cext2fs_image_manager.write_blk = cext2fs_image_write;
    cext2fs_image_manager.flush = cext2fs_image_flush;
    cext2fs_image_manager.write_byte = cext2fs_image_write_byte;
    cext2fs_image_manager.set_option = cext2fs_image_set_option;
    cext2fs_image_manager.read_blk64 = cext2fs_image_read64;
    cext2fs_image_manager.write_blk64 = cext2fs_image_write64;
    return &cext2fs_image_manager;
}

