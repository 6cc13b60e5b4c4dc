# The example CI workflow, run here. Included by the main Makefile (`-include mk/*.mk`).
#
#   workflow-lane   runs examples/ci/build-image.yml's steps in order, in a clone of this tree
#                   (setup actions replaced by this machine's Swift, upload-artifact by a zip),
#                   as a workflow_dispatch whose base is a local server answering
#                   /raspios_lite_arm64_latest with a redirect to a dated .img.xz of the arm64
#                   stand-in; then checks the artifact (Tests/ci/workflow-lane.py). It builds
#                   fpga-lab (release) and usbip-binder from scratch, as the job does: minutes.

WORKFLOW_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)

.PHONY: workflow-lane

## workflow-lane: the example CI workflow's steps, run here against a local base server
workflow-lane: deps $(WORKFLOW_ROOT)/build/standin/small-aarch64.img
	python3 $(WORKFLOW_ROOT)/Tests/ci/workflow-lane.py --work $(WORKFLOW_ROOT)/build/workflow \
	    --base $(WORKFLOW_ROOT)/build/standin/small-aarch64.img
