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
#include <netinet/tcp.h>
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

/* usbip_tune_socket(fd, seconds): TCP_NODELAY, keepalive and TCP_USER_TIMEOUT for a socket
   handed to usbip-host; shared with fpga-lab's client (vhci-hcd side), one formula. */
#include "../../Sources/CLinux/usbip_socket.h"

/* Unix seconds as ISO 8601 UTC, "2026-12-05T22:40:01Z" (out holds at least 21 bytes). */
static inline void binder_format_utc(long long seconds, char *out, size_t size) {
    time_t t = (time_t)seconds;
    struct tm tm;
    if (size == 0) return;
    out[0] = 0;
    if (gmtime_r(&t, &tm)) strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Seconds since 1970 (UTC), for "in use since". */
static inline long long binder_wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec;
}

#endif
