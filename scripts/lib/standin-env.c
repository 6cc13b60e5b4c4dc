/* A minimal `env` for the stand-in images: prints the environment, or runs
 * argv[1..] with it. Built static per architecture so /usr/bin/env carries
 * the image's real ELF machine type and runs under qemu-user. */
#include <stdio.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 2) {
        for (char **e = environ; *e != NULL; e++) {
            puts(*e);
        }
        return 0;
    }
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
