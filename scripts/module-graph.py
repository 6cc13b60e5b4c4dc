#!/usr/bin/env python3
"""The package's module graph, from `swift package dump-package`, and the rules it must keep.

    scripts/module-graph.py            prints each code path's modules (what it links, transitively)
    scripts/module-graph.py --check    exits 1 when a rule below is broken (run by `make unit`)

Rules (issue 22): flash and the fuzz targets of the disk formats and config.txt reach neither
libext2fs (CExt2fs) nor Yams nor swift-mustache; inspect (ImageInspect) reaches neither Yams nor
swift-mustache (it reads the rootfs through libext2fs); DiskFormats, SystemIO and BootFiles depend
on no app module.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = {"CExt2fs", "Ext2fsImageIO", "Yams", "Mustache"}
APP = {"LabConfig", "Overlay", "ImageBuild", "FPGALabCLI", "Artifacts", "Archives"}


def load(fuzz):
    env = dict(os.environ, FPGA_LAB_FUZZ="1" if fuzz else "0")
    text = subprocess.run(["swift", "package", "--scratch-path", os.path.join(ROOT, ".build-graph"), "dump-package"], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout
    edges = {}
    for target in json.loads(text)["targets"]:
        deps = []
        for dep in target.get("dependencies", []):
            kind, value = next(iter(dep.items()))
            deps.append(value[0])  # byName / target: [name, condition]; product: [name, package, ...]
        edges[target["name"]] = deps
    return edges


def closure(edges, start):
    seen, stack = set(), [start]
    while stack:
        name = stack.pop()
        for dep in edges.get(name, []):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def main():
    edges = load(fuzz=True)
    paths = {
        "flash (Flash)": "Flash",
        "disk formats (DiskFormats)": "DiskFormats",
        "ext4 volume (Ext4FS)": "Ext4FS",
        "inspect (ImageInspect)": "ImageInspect",
        "boot files (BootFiles)": "BootFiles",
        "build-image (ImageBuild)": "ImageBuild",
        "fuzz-mbr": "fuzz-mbr", "fuzz-fat": "fuzz-fat", "fuzz-ext4": "fuzz-ext4",
        "fuzz-usbip": "fuzz-usbip", "fuzz-configtxt": "fuzz-configtxt", "fuzz-labconfig": "fuzz-labconfig",
    }
    broken = []
    for label, target in paths.items():
        reach = closure(edges, target)
        print(f"{label}: {' '.join(sorted(reach)) or '-'}")
        if target in ("Flash", "DiskFormats", "BootFiles", "fuzz-mbr", "fuzz-fat", "fuzz-ext4", "fuzz-configtxt") and reach & HEAVY:
            broken.append(f"{label} reaches {', '.join(sorted(reach & HEAVY))}")
        if target == "ImageInspect" and reach & {"Yams", "Mustache"}:
            broken.append(f"{label} reaches {', '.join(sorted(reach & {'Yams', 'Mustache'}))}")
        if target in ("DiskFormats", "SystemIO", "BootFiles") and reach & APP:
            broken.append(f"{label} depends on app modules {', '.join(sorted(reach & APP))}")
    if "--check" in sys.argv and broken:
        sys.exit("module-graph: " + "; ".join(broken))


if __name__ == "__main__":
    main()
