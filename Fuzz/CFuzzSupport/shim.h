// What the fuzz executables need from C that Swift's Glibc module does not show.
#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver entry point (compiler-rt, FuzzerDriver.cpp), linked in by
// `-sanitize=fuzzer`. The fuzz executables call it from their own `main` because SwiftPM
// renames an executable's `main` (so tests can link it) and would hide libFuzzer's.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

// glibc >= 2.27 (declared in <sys/mman.h> only under _GNU_SOURCE).
int memfd_create(const char *name, unsigned int flags);
