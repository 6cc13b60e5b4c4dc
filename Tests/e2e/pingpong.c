/*
 * JTAG-like traffic through an attached board's tty (issue 20), built static on the host and
 * run in the client VM. The board's far end (Tests/e2e/serial-peer.py) echoes every byte.
 *
 *   pingpong TTY ROUNDS BYTES [SAMPLES]
 *
 * 1. ROUNDS one-byte round trips: write one byte, then a blocking read of one byte (poll, 5 s
 *    at most); each trip timed with CLOCK_MONOTONIC. Prints
 *      PINGPONG rounds N median_ms X p99_ms Y min_ms A max_ms B
 *    (p99: nearest rank) and, with SAMPLES, writes every trip's ms there, one per line, in
 *    the order measured (to pool several runs).
 * 2. BYTES each way (none when BYTES is 0): a writer thread sends BYTES pseudo-random bytes while the main thread
 *    reads BYTES back and compares them. Prints
 *      BULK bytes N seconds S mbps M ok|mismatch
 *    (M in MB/s, 10^6 bytes, of BYTES each way).
 * Exit 0 when every byte came back in order, 1 otherwise (a message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Reads exactly n bytes, waiting at most 5 s for each chunk. */
static int read_exact(int fd, unsigned char *buffer, size_t n) {
    size_t done = 0;
    while (done < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, 5000);
        if (ready == 0) {
            fprintf(stderr, "pingpong: nothing read for 5 s after %zu of %zu bytes\n", done, n);
            return -1;
        }
        if (ready < 0) {
            if (errno == EINTR) continue;
            perror("pingpong: poll");
            return -1;
        }
        ssize_t got = read(fd, buffer + done, n - done);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            perror("pingpong: read");
            return -1;
        }
        done += (size_t)got;
    }
    return 0;
}

static int write_all(int fd, const unsigned char *buffer, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t put = write(fd, buffer + done, n - done);
        if (put < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            perror("pingpong: write");
            return -1;
        }
        done += (size_t)put;
    }
    return 0;
}

struct writer {
    int fd;
    const unsigned char *data;
    size_t n;
    int status;
};

static void *write_thread(void *arg) {
    struct writer *w = arg;
    w->status = write_all(w->fd, w->data, w->n);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: pingpong TTY ROUNDS BYTES [SAMPLES]\n");
        return 2;
    }
    int rounds = atoi(argv[2]);
    size_t bytes = (size_t)strtoul(argv[3], NULL, 10);
    int fd = open(argv[1], O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) != 0) {
        perror("pingpong: tcgetattr");
        return 1;
    }
    cfmakeraw(&tio);
    cfsetspeed(&tio, B3000000);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &tio) != 0) {
        perror("pingpong: tcsetattr");
        return 1;
    }
    tcflush(fd, TCIOFLUSH);

    double *trips = calloc((size_t)rounds, sizeof *trips);
    for (int i = 0; i < rounds; i++) {
        unsigned char out = (unsigned char)(i * 37 + 11), in = 0;
        double start = now();
        if (write_all(fd, &out, 1) != 0 || read_exact(fd, &in, 1) != 0) return 1;
        trips[i] = (now() - start) * 1000.0;
        if (in != out) {
            fprintf(stderr, "pingpong: round %d: sent 0x%02x, read 0x%02x\n", i, out, in);
            return 1;
        }
    }
    if (argc == 5) {
        FILE *samples = fopen(argv[4], "w");
        if (!samples) {
            perror(argv[4]);
            return 1;
        }
        for (int i = 0; i < rounds; i++) fprintf(samples, "%.4f\n", trips[i]);
        fclose(samples);
    }
    qsort(trips, (size_t)rounds, sizeof *trips, compare);
    int p99 = (int)((rounds * 99 + 99) / 100) - 1;
    printf("PINGPONG rounds %d median_ms %.3f p99_ms %.3f min_ms %.3f max_ms %.3f\n", rounds,
           rounds % 2 ? trips[rounds / 2] : (trips[rounds / 2 - 1] + trips[rounds / 2]) / 2, trips[p99], trips[0],
           trips[rounds - 1]);
    fflush(stdout);
    if (bytes == 0) return 0;

    unsigned char *data = malloc(bytes), *back = malloc(bytes);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < bytes; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    struct writer w = {.fd = fd, .data = data, .n = bytes, .status = 0};
    pthread_t thread;
    double start = now();
    pthread_create(&thread, NULL, write_thread, &w);
    int status = read_exact(fd, back, bytes);
    pthread_join(thread, NULL);
    double seconds = now() - start;
    int same = status == 0 && w.status == 0 && memcmp(data, back, bytes) == 0;
    printf("BULK bytes %zu seconds %.3f mbps %.3f %s\n", bytes, seconds, (double)bytes / seconds / 1e6, same ? "ok" : "mismatch");
    return same ? 0 : 1;
}
