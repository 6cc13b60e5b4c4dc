/*
 * Embedded Swift's Hasher seeds itself with arc4random_buf, which musl does
 * not have; getrandom(2) provides the same bytes. (C, because it must be a
 * libc-level symbol that the Swift runtime links against.)
 */
#include <stddef.h>
#include <sys/random.h>

void arc4random_buf(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        }
    }
}
