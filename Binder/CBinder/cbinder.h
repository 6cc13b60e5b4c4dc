/*
 * The libc surface usbip-binder uses, for Embedded Swift's clang importer.
 * Compiled against musl's headers (those shipped by the ziglang wheel), so
 * constants and struct layouts are those of the libc the binary links with.
 */
#ifndef CBINDER_H
#define CBINDER_H
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* errno is a macro over a function: Swift cannot read it directly. */
static inline int binder_errno(void) { return errno; }

/* open(2) is variadic: Swift can only call a fixed-arity wrapper. */
static inline int binder_open(const char *path, int flags) {
    return open(path, flags | O_CLOEXEC, 0644);
}

/* d_name is a char[256] that Swift imports as a tuple. */
static inline const char *binder_dirent_name(const struct dirent *e) { return e->d_name; }

/* <linux/netlink.h> is not among musl's headers: the protocol number and the address
   layout (stable kernel ABI) that the uevent monitor needs. AF_NETLINK is musl's. */
#define BINDER_NETLINK_KOBJECT_UEVENT 15
struct binder_sockaddr_nl {
    sa_family_t nl_family;
    unsigned short nl_pad;
    uint32_t nl_pid;    /* sender: 0 = the kernel */
    uint32_t nl_groups; /* multicast groups: 1 = kernel uevents */
};

#endif
