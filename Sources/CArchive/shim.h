#ifndef FPGA_LAB_CARCHIVE_SHIM_H
#define FPGA_LAB_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* libarchive's file type macros carry casts Swift cannot import. */
static const unsigned int CArchiveTypeRegular = AE_IFREG;
static const unsigned int CArchiveTypeDirectory = AE_IFDIR;
static const unsigned int CArchiveTypeSymlink = AE_IFLNK;
#endif
