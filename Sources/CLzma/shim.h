#ifndef FPGA_LAB_CLZMA_SHIM_H
#define FPGA_LAB_CLZMA_SHIM_H
#include <lzma.h>

/* LZMA_STREAM_INIT is a macro Swift cannot import. */
static inline lzma_stream clzma_stream_init(void) {
    lzma_stream stream = LZMA_STREAM_INIT;
    return stream;
}
/* The decoder flags are macros Swift cannot import either. */
static const uint32_t clzma_concatenated = LZMA_CONCATENATED;
#endif
