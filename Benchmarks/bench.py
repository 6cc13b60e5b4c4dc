#!/usr/bin/env python3
"""make bench: fpga-lab's speed and memory as ratios to baselines measured in the same run.

Every case runs each side RUNS times (default 3), the two sides taking turns, and keeps the
median wall time and the peak RSS (from /usr/bin/time). The table goes to stdout, everything to
bench/results.json.
BENCH_QUICK=1 uses a ~256 MiB base instead of the 2 GiB one (a smoke check of the harness).
"""
import glob
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.environ.get("BENCH_QUICK") == "1"
# The quick smoke check runs each side once; the real bench takes the median of 3.
RUNS = int(os.environ.get("BENCH_RUNS", "1" if QUICK else "3"))
# Compressing the 2 GiB base's 1.1 GiB of files with xz -6 takes minutes per side: the xz case
# runs once per side by default so `make bench` stays under 20 minutes on 2 cores.
XZ_RUNS = int(os.environ.get("BENCH_XZ_RUNS", "1"))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/release/fpga-lab"))
# The base takes minutes to build: it is kept outside the clone, so a fresh clone (or CI with a
# cached home) reuses it; its name carries a hash of the scripts and options that make it.
CACHE = os.environ.get("BENCH_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "fpga-lab", "bench")
LAB = os.path.join(ROOT, "examples/lab.yaml")
# `make bench` builds usbip-binder for the base's architecture (aarch64): the images carry it, as
# users' do.
BINDER_DIR = os.path.join(ROOT, "build/binder")
IMAGE = f"{BIN} build-image --binder-dir {BINDER_DIR}"
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", LC_ALL="C.UTF-8", MTOOLS_SKIP_CHECK="1")


def timed(command, cwd):
    """Runs a shell command under /usr/bin/time; returns (seconds, peak RSS in KiB)."""
    rss_file = os.path.join(cwd, ".rss")
    start = time.monotonic()
    run = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file, "sh", "-c", command],
                         cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        sys.exit(f"bench: failed ({run.returncode}): {command}\n{run.stderr[-2000:]}")
    seconds = time.monotonic() - start
    with open(rss_file) as handle:
        rss = int(handle.read().split()[-1])
    return seconds, rss


def medians_of(commands, cwd, setup=None):
    """Runs each (command, runs) in turn, round by round (ours, baseline, ours, baseline...), so
    that a slow spell of the machine hits both sides alike; returns (median seconds, peak RSS)
    per command."""
    seconds = [[] for _ in commands]
    rss = [[] for _ in commands]
    for round_index in range(max(runs for _, runs in commands)):
        for index, (command, runs) in enumerate(commands):
            if round_index >= runs:
                continue
            if setup:
                subprocess.run(["sh", "-c", setup], cwd=cwd, env=ENV, check=True)
            s, r = timed(command, cwd)
            seconds[index].append(s)
            rss[index].append(r)
    return [(statistics.median(s), max(r)) for s, r in zip(seconds, rss)]


def base_key(options):
    """A short hash of what makes the base: the stand-in scripts, the options, the host's
    architecture (the fill comes from the host's /usr)."""
    digest = hashlib.sha256(" ".join(options + [platform.machine()]).encode())
    for script in ["scripts/make-standin-base.sh"] + sorted(glob.glob(os.path.join(ROOT, "scripts/lib/standin-*.sh"))):
        with open(os.path.join(ROOT, script), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:12]


def make_base():
    """The cached base (built on first use, about 3 minutes for the full one) and its .xz, and
    the seconds spent building them (0 when cached)."""
    started = time.monotonic()
    os.makedirs(CACHE, exist_ok=True)
    # quick: a 256 MiB rootfs with 40 MiB of files; full: 2 GiB with 1 GiB of the host's files
    options = ["--arch", "aarch64"] + (["--boot-mib", "64", "--fill-mib", "40"] if QUICK
                                       else ["--size-gib", "2", "--fill-mib", "1024"])
    path = os.path.join(CACHE, f"base-{'quick' if QUICK else '2g'}-{base_key(options)}.img")
    # Each file into a temporary, then renamed: a killed run must not leave a half-built base
    # behind that the next run would take for the cached one.
    if not os.path.exists(path):
        print(f"bench: building the base {path} (once; cached)", flush=True)
        subprocess.run([os.path.join(ROOT, "scripts/make-standin-base.sh"), "--small", path + ".partial"] + options,
                       env=ENV, check=True, stdout=subprocess.DEVNULL)
        os.replace(path + ".partial", path)
    xz = path + ".xz"
    if not os.path.exists(xz):
        # Many independent blocks (xz -T2), like pi-gen's `xz --threads 0`; -0 keeps this to
        # under a minute, and decoding speed hardly depends on the preset.
        with open(xz + ".partial", "wb") as handle:
            subprocess.run(["xz", "-c", "-T2", "-0", path], stdout=handle, check=True)
        os.replace(xz + ".partial", xz)
    return path, xz, time.monotonic() - started


def sixteen_board_lab(work):
    lines = ["lab: bench", "server:", "  board: pi4", "  allow: [10.0.0.0/8]", "devices:"]
    for index in range(16):
        lines += [f"  - name: board-{index}", '    vendor: "0403"', '    product: "6010"', f'    serial: "S{index:04d}"']
    path = os.path.join(work, "lab16.yaml")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def lab_variants(work, count):
    """`count` copies of the example lab, each with its own name (so every image differs)."""
    with open(LAB) as handle:
        lines = handle.read().split("\n")
    paths = []
    for index in range(count):
        path = os.path.join(work, f"lab{index}.yaml")
        with open(path, "w") as handle:
            handle.write("\n".join(f"lab: bench-{index}" if line.startswith("lab:") else line for line in lines))
        paths.append(path)
    return paths


def debugfs_script(work):
    """The same edits build-image makes, done the classic way: debugfs -w for the rootfs and
    mcopy for bootfs (this machine cannot loop-mount). Returns the shell command."""
    overlay = os.path.join(work, "overlay")
    subprocess.run([BIN, "render", "--config", LAB, "--output-dir", overlay,
                    "--binder", os.path.join(BINDER_DIR, "aarch64/usbip-binder")], env=ENV, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    commands = []
    for directory, dirs, files in sorted(os.walk(overlay)):
        relative = os.path.relpath(directory, overlay)
        if relative.startswith("boot"):
            continue
        for name in sorted(dirs):
            path = os.path.normpath(os.path.join("/", relative, name))
            if not path.startswith("/boot"):
                commands.append(f"mkdir {path}")
        for name in sorted(files):
            source = os.path.join(directory, name)
            path = os.path.normpath(os.path.join("/", relative, name))
            if os.path.islink(source):
                commands.append(f"symlink {path} {os.readlink(source)}")
            else:
                mode = os.stat(source).st_mode
                commands += [f"rm {path}", f"write {source} {path}", f"sif {path} mode 0{mode:o}"]
    script = os.path.join(work, "debugfs.cmds")
    with open(script, "w") as handle:
        handle.write("\n".join(commands) + "\n")
    return script


def main():
    started = time.monotonic()
    # `make bench` exports when it started: the deps check and the builds before this script.
    make_started = float(os.environ.get("BENCH_MAKE_STARTED") or time.time())
    before_harness = time.time() - make_started
    work = tempfile.mkdtemp(prefix="fpga-lab-bench-")
    base, base_xz, base_seconds = make_base()
    info = subprocess.run(["sfdisk", "--json", base], capture_output=True, text=True, check=True).stdout
    parts = json.loads(info)["partitiontable"]["partitions"]
    boot_offset, root_offset = parts[0]["start"] * 512, parts[1]["start"] * 512
    cases = []

    def case(name, ours, baseline, goal, setup=None, runs=RUNS, same_as=None, baseline_runs=None):
        """same_as: a case whose fpga-lab command is this one's (its median is reused)."""
        case_started = time.monotonic()
        commands = ([] if same_as else [(ours, runs)]) + ([(baseline, baseline_runs or runs)] if baseline else [])
        results = medians_of(commands, work, setup)
        if same_as:
            ours_s, ours_rss = same_as["seconds"], same_as["peak_rss_kib"]
        else:
            ours_s, ours_rss = results.pop(0)
        base_s, base_rss = results[0] if baseline else (None, None)
        ratio = ours_s / base_s if base_s else None
        cases.append({"case": name, "seconds": round(ours_s, 3), "peak_rss_kib": ours_rss,
                      "baseline_seconds": round(base_s, 3) if base_s else None,
                      "baseline_peak_rss_kib": base_rss, "ratio": round(ratio, 3) if ratio else None, "goal": goal,
                      "runs": runs, "baseline_runs": baseline_runs or runs, "case_seconds": round(time.monotonic() - case_started, 1)})
        shown = f"{ratio:.2f}x" if ratio else "-"
        print(f"{name:<52} {ours_s:8.2f}s {ours_rss/1024:8.0f}MiB {base_s or 0:8.2f}s {shown:>8}  {goal}", flush=True)

    print(f"{'case':<52} {'fpga-lab':>9} {'peakRSS':>11} {'baseline':>9} {'ratio':>8}  goal")
    clean = "rm -rf out*"
    case("build-image raw -> raw vs cp --sparse=always",
         f"{IMAGE} --config {LAB} --base {base} --output out/pi.img",
         f"mkdir -p out && cp --sparse=always {base} out/pi.img", "<= 1.2x", setup=clean)
    # Like for like: every output of build-image carries SHA256SUMS and a .bmap, which cp does not.
    case("build-image raw vs cp + sha256sum + bmaptool create",
         f"{IMAGE} --config {LAB} --base {base} --output out/pi.img",
         f"mkdir -p out && cp --sparse=always {base} out/pi.img && (cd out && sha256sum pi.img > SHA256SUMS) && "
         f"bmaptool -q create -o out/pi.img.bmap out/pi.img", "(like for like)", setup=clean,
         same_as=cases[-1], baseline_runs=1)
    case("build-image .img.xz -> .img.xz vs xz -dc | xz -T2",
         f"{IMAGE} --config {LAB} --base {base_xz} --output out/pi.img.xz",
         f"mkdir -p out && xz -dc {base_xz} | xz -T2 > out/pi.img.xz", "<= 1.1x, RSS <= 256 MiB", setup=clean,
         runs=XZ_RUNS)
    script = debugfs_script(work)
    boot = os.path.join(work, "overlay/boot")
    classic = (f"mkdir -p out && cp --sparse=always {base} out/pi.img && "
               f"debugfs -w -f {script} out/pi.img?offset={root_offset} >/dev/null 2>&1; "
               f"mtype -i out/pi.img@@{boot_offset} ::config.txt > cfg && echo dtoverlay=dwc2,dr_mode=host >> cfg && "
               f"mcopy -o -i out/pi.img@@{boot_offset} cfg ::config.txt")
    case("build-image vs debugfs -w + mcopy, same edits", f"{IMAGE} --config {LAB} --base {base} --output out/pi.img",
         classic, ">= 10x faster (ratio <= 0.1)", setup=clean)
    case("build-image vs debugfs + mcopy + sha256sum + bmaptool create", f"{IMAGE} --config {LAB} --base {base} --output out/pi.img",
         f"{classic} && (cd out && sha256sum pi.img > SHA256SUMS) && bmaptool -q create -o out/pi.img.bmap out/pi.img",
         "(like for like)", setup=clean, same_as=cases[-1], baseline_runs=1)
    labs = lab_variants(work, 8)
    eight = " ".join(f"--config {lab} --output out/pi-{i}.img" for i, lab in enumerate(labs))
    # As CI would: the stock .img.xz, one raw image per lab (the base is decompressed once).
    case("8 images (8 labs, one run) vs 1, from .img.xz", f"{IMAGE} --base {base_xz} {eight}",
         f"{IMAGE} --config {labs[0]} --base {base_xz} --output out/pi.img", "<= 2x", setup=clean)
    subprocess.run([BIN, "build-image", "--binder-dir", BINDER_DIR, "--config", LAB, "--base", base, "--output", "img/pi.img"], cwd=work, env=ENV,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    case("flash to a file vs bmaptool copy", f"{BIN} flash img/pi.img target.img",
         "bmaptool -q copy --bmap img/pi.img.bmap img/pi.img target.img", "<= 1x", setup="rm -f target.img")
    # bmaptool checks the source's checksums but never reads the card back; fpga-lab flash does
    # by default (fsync, drop the cache, O_DIRECT). Like for like: without the read-back.
    case("flash --no-verify vs bmaptool copy", f"{BIN} flash --no-verify img/pi.img target.img",
         "bmaptool -q copy --bmap img/pi.img.bmap img/pi.img target.img", "<= 1x", setup="rm -f target.img")
    def bytes_written(label, ours, baseline):
        """What the target file holds after each tool (its allocated blocks), recorded on the
        last two cases."""
        for side, command in [("bytes_written", ours), ("baseline_bytes_written", baseline)]:
            subprocess.run(f"rm -f target.img && {command}", shell=True, cwd=work, env=ENV, check=True, capture_output=True)
            written = os.stat(os.path.join(work, "target.img")).st_blocks * 512
            for flash_case in cases[-2:]:
                flash_case[side] = written
        print(f"{label:<52} {cases[-1]['bytes_written']:>10} vs bmaptool {cases[-1]['baseline_bytes_written']}", flush=True)

    bytes_written("flash: bytes written to the target file", f"{BIN} flash --no-verify img/pi.img target.img",
                  "bmaptool -q copy --bmap img/pi.img.bmap img/pi.img target.img")
    # Without a bmap (a stock .img downloaded alone): every block is written, zeros included, as
    # bmaptool --nobmap does; a used card must not keep its old bytes under the image's zeros.
    os.makedirs(os.path.join(work, "bare"), exist_ok=True)
    shutil.copyfile(os.path.join(work, "img/pi.img"), os.path.join(work, "bare/pi.img"))
    case("flash without a bmap vs bmaptool copy --nobmap", f"{BIN} flash bare/pi.img target.img",
         "bmaptool -q copy --nobmap bare/pi.img target.img", "<= 1x", setup="rm -f target.img")
    case("flash --no-verify without a bmap vs bmaptool --nobmap", f"{BIN} flash --no-verify bare/pi.img target.img",
         "bmaptool -q copy --nobmap bare/pi.img target.img", "<= 1x", setup="rm -f target.img")
    bytes_written("flash without a bmap: bytes written to the target", f"{BIN} flash --no-verify bare/pi.img target.img",
                  "bmaptool -q copy --nobmap bare/pi.img target.img")
    lab16 = sixteen_board_lab(work)
    case("render of a 16-board lab", f"{BIN} render --config {lab16} --output out.tar.gz", None, "time")
    binder = os.path.join(ROOT, "build/binder/x86_64/usbip-binder")
    load = json.loads(subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks/binder_load.py"), binder, "2000"],
                                     capture_output=True, text=True, check=True).stdout)
    cases.append({"case": "binder serve: devlist on loopback", **load, "goal": "requests/s, p99"})
    print(f"{'binder serve: devlist on loopback':<52} {load['per_second']:8.0f}/s p50 {load['p50_ms']} ms p99 {load['p99_ms']} ms"
          f" server RSS {load['server_peak_rss_kib']} KiB", flush=True)
    shutil.rmtree(work, ignore_errors=True)

    results = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "quick": QUICK, "runs": RUNS, "xz_runs": XZ_RUNS, "base": base, "base_xz_bytes": os.path.getsize(base_xz),
        "base_build_seconds": round(base_seconds, 1), "before_harness_seconds": round(before_harness, 1),
        "harness_seconds": round(time.monotonic() - started, 1),
        "make_bench_seconds": round(time.time() - make_started, 1), "cases": cases,
    }
    os.makedirs(os.path.join(ROOT, "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "bench/results.json"), "w") as handle:
        json.dump(results, handle, indent=2)
    print(f"\nwrote bench/results.json ({results['machine']})")
    print(f"make bench took {results['make_bench_seconds'] / 60:.1f} min: deps and builds {before_harness:.0f} s, "
          f"base {base_seconds:.0f} s{' (cached)' if base_seconds < 1 else ''}, cases {results['harness_seconds'] - base_seconds:.0f} s")


if __name__ == "__main__":
    main()
