#include "fpga_lab_build_version.h"

// make (the `version-header` target) writes version.generated.h, one line:
//     #define FPGA_LAB_BUILD_VERSION "0.1.0+12.g1a2b3c4d5e6f"
// and rewrites it only when `git describe` changes, so only this file recompiles. A build
// without make (a bare `swift build`) has no version to report and says so.
#if __has_include("version.generated.h")
#include "version.generated.h"
#endif
#ifndef FPGA_LAB_BUILD_VERSION
#define FPGA_LAB_BUILD_VERSION "unversioned"
#endif

const char *fpga_lab_build_version(void) { return FPGA_LAB_BUILD_VERSION; }
