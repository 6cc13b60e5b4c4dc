#ifndef FPGA_LAB_BUILD_VERSION_H
#define FPGA_LAB_BUILD_VERSION_H

/// The version this build of fpga-lab reports (`--version`, the image manifest's `tool` line):
/// `git describe` as a Debian version (scripts/version.sh), which make writes into
/// version.generated.h beside build_version.c before every build.
const char *fpga_lab_build_version(void);

#endif
