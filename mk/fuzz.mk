# Fuzzing (issue 10): libFuzzer targets for the parsers that read untrusted bytes: the MBR/GPT
# reader, the FAT reader and writer, the ext4 preflight, the USB/IP decoders, config.txt and
# cmdline.txt, the lab config decoder (sources in Fuzz/fuzz-*/, seeds in Fuzz/Corpus/).
# Included by the main Makefile (`-include mk/*.mk`), which defines SWIFT and `deps`.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="mbr fat"]   build, run each target, print a table
#   make fuzz-smoke                                        every target for 10 s (part of `make test`)
#   make fuzz-build                                        only build the fuzz-* executables
#   Fuzz/make-corpus.sh                                    regenerate the seed corpora
#
# The targets exist only with FPGA_LAB_FUZZ=1 (see Package.swift) and are built in their own
# scratch path, release, with -sanitize=fuzzer,address, so `swift build`/`swift test` never
# see them. Exit status non-zero on any crash, hang (an input over FUZZ_TIMEOUT s) or OOM
# (2 GiB); the table is followed by the paths of the inputs (build/fuzz/<target>/crash-...).

FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TIMEOUT ?= 10
FUZZ_TARGETS ?= mbr fat ext4 usbip configtxt labconfig
FUZZ_SCRATCH ?= .build-fuzz
FUZZ_OUT ?= build/fuzz

.PHONY: fuzz fuzz-smoke fuzz-build

fuzz-build: deps
	@for t in $(FUZZ_TARGETS); do \
	    FPGA_LAB_FUZZ=1 $(SWIFT) build --scratch-path $(FUZZ_SCRATCH) -c release --product fuzz-$$t || exit 1; \
	done

fuzz: fuzz-build
	Fuzz/run-fuzz.sh $(FUZZ_SCRATCH)/release $(FUZZ_OUT) $(FUZZ_SECONDS) $(FUZZ_TIMEOUT) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	Fuzz/run-fuzz.sh $(FUZZ_SCRATCH)/release $(FUZZ_OUT) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TIMEOUT) $(FUZZ_TARGETS)
