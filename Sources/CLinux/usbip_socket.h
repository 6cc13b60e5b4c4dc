#ifndef FPGALAB_USBIP_SOCKET_H
#define FPGALAB_USBIP_SOCKET_H
/* Included by Sources/CLinux/shim.h (fpga-lab, glibc) and Binder/CBinder/cbinder.h
   (usbip-binder, musl): plain POSIX and <netinet/tcp.h>, nothing else. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* A socket about to be handed to usbip-host (usbip-binder) or vhci-hcd (fpga-lab attach),
   tuned as usbipd and `usbip attach` tune theirs, plus dead-peer detection (issue 20):
     TCP_NODELAY 1          small USB/IP replies leave at once instead of waiting for a delayed
                            ACK (JTAG traffic is many small request/response round trips)
     SO_KEEPALIVE 1         an idle link is probed:
     TCP_KEEPIDLE  T/2      after T/2 s without traffic (at least 1),
     TCP_KEEPINTVL T/10     every T/10 s (at least 1),
     TCP_KEEPCNT   n        n = (T - T/2) / (T/10) probes (at least 1): about T s in all;
     TCP_USER_TIMEOUT T*1000  and data left unacknowledged for T s closes the connection.
   The kernel then reports the error to usbip-host, which frees the board (or to vhci-hcd,
   which frees the port). Returns 0, or the
   errno of the first option that failed (the others are still tried). */
static inline int usbip_tune_socket(int fd, int timeout_seconds) {
    int t = timeout_seconds < 1 ? 1 : timeout_seconds;
    int idle = t / 2 < 1 ? 1 : t / 2;
    int interval = t / 10 < 1 ? 1 : t / 10;
    int count = (t - idle) / interval < 1 ? 1 : (t - idle) / interval;
    unsigned int user_timeout = (unsigned int)t * 1000u;
    int on = 1, failed = 0;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 && !failed) failed = errno;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 && !failed) failed = errno;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0 && !failed) failed = errno;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval) != 0 && !failed) failed = errno;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) != 0 && !failed) failed = errno;
    if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout) != 0 && !failed) failed = errno;
    return failed;
}

#endif
