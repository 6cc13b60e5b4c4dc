#!/usr/bin/env python3
"""Runs examples/ci/build-image.yml the way GitHub Actions would, on this machine, and checks
the artifact it uploads.

- The checkout is a clone of this repository with the working tree's tracked files on top
  (what `actions/checkout` would give for a push of them).
- Every `run:` step runs as written, in order, with `bash --noprofile --norc -eo pipefail`,
  GitHub's environment files (GITHUB_PATH, GITHUB_ENV) and the workflow's `env:`; `${{ }}`
  expressions are evaluated for the forms the workflow uses (inputs.X, env.X, ||) and anything
  else fails the lane.
- The `uses:` steps are replaced by what the machine has: actions/checkout (the clone above),
  swift-actions/setup-swift (the Swift on PATH, whose version must be the one asked for),
  actions/upload-artifact (a stored zip NAME.zip of the listed paths, relative to their
  common directory, as upload-artifact lays them out). Any other action fails the lane.
- The run is a `workflow_dispatch` whose `base` input is a local http server that answers
  /raspios_lite_arm64_latest with a 302 to a dated .img.xz (as downloads.raspberrypi.com
  does), holding the arm64 stand-in base.
- `sudo` is what GitHub's runners have: passwordless; here it runs the command as it is.

Then the artifact is checked: its members, SHA256SUMS (sha256sum -c), bmaptool copy of the
image with its bmap, `fpga-lab flash` of the zip giving the same bytes, `fpga-lab inspect` of
the zip, and the base sha256 build-image printed against the file served.

usage: workflow-lane.py --work DIR [--workflow FILE] [--base IMG]
"""
import argparse
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LATEST = "/raspios_lite_arm64_latest"
DATED = "/raspios_lite_arm64/images/raspios_lite_arm64-2026-11-24/2026-11-19-raspios-trixie-arm64-lite.img.xz"


def log(message):
    print(f"workflow-lane: {message}", flush=True)


def fail(message):
    print(f"workflow-lane: FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(command, **kwargs):
    log("$ " + " ".join(command))
    return subprocess.run(command, check=True, **kwargs)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Server:
    """Serves `image` at DATED (with Range) and a 302 to it at LATEST; logs every request."""

    def __init__(self, image):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                if self.path == LATEST:
                    self.send_response(302)
                    self.send_header("Location", DATED)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path != DATED:
                    self.send_error(404)
                    return
                size = os.path.getsize(image)
                start, end = 0, size - 1
                match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if match:
                    start = int(match.group(1))
                    end = min(int(match.group(2) or size - 1), size - 1)
                    if start >= size:
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "application/x-xz")
                self.send_header("Content-Length", str(end - start + 1))
                self.send_header("ETag", f'"{size}"')
                self.end_headers()
                with open(image, "rb") as file:
                    file.seek(start)
                    left = end - start + 1
                    while left > 0:
                        block = file.read(min(left, 1 << 16))
                        if not block:
                            break
                        self.wfile.write(block)
                        left -= len(block)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self):
        self.httpd.shutdown()


def evaluate(text, inputs, env):
    """`${{ a || b }}` with operands inputs.X, env.X or 'literal'; anything else is refused."""

    def expression(match):
        value = ""
        for operand in (part.strip() for part in match.group(1).split("||")):
            if m := re.fullmatch(r"inputs\.([A-Za-z_][A-Za-z0-9_-]*)", operand):
                value = inputs.get(m.group(1), "")
            elif m := re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", operand):
                value = env.get(m.group(1), "")
            elif m := re.fullmatch(r"'([^']*)'", operand):
                value = m.group(1)
            else:
                fail(f"unsupported expression operand {operand!r} in {text!r}: teach workflow-lane.py")
            if value:
                return value
        return value

    return re.sub(r"\$\{\{(.*?)\}\}", expression, str(text))


def checkout(work):
    """A clone of this repository with the working tree's tracked files (and deletions) on top."""
    target = os.path.join(work, "checkout")
    run(["git", "clone", "-q", "--no-hardlinks", ROOT, target])
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True, capture_output=True).stdout.split(b"\0")
    for name in (n.decode() for n in tracked if n):
        source, destination = os.path.join(ROOT, name), os.path.join(target, name)
        if os.path.lexists(source):
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            if os.path.lexists(destination):
                os.remove(destination)
            shutil.copy2(source, destination, follow_symlinks=False)
        elif os.path.lexists(destination):
            os.remove(destination)
    return target


def upload_artifact(spec, workspace, artifacts):
    name = spec.get("name", "artifact")
    paths = [line.strip() for line in str(spec.get("path", "")).splitlines() if line.strip()]
    files = [os.path.join(workspace, path) for path in paths]
    missing = [path for path, file in zip(paths, files) if not os.path.isfile(file)]
    if missing and spec.get("if-no-files-found", "warn") == "error":
        fail(f"upload-artifact {name}: no file at {', '.join(missing)} (if-no-files-found: error)")
    files = [file for file in files if os.path.isfile(file)]
    root = os.path.commonpath([os.path.dirname(file) for file in files])
    os.makedirs(artifacts, exist_ok=True)
    archive = os.path.join(artifacts, f"{name}.zip")
    level = int(spec.get("compression-level", 6))
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED if level == 0 else zipfile.ZIP_DEFLATED) as out:
        for file in files:
            out.write(file, os.path.relpath(file, root))
    log(f"upload-artifact: {archive} holds {', '.join(os.path.relpath(f, root) for f in files)}")
    return archive


def setup_swift(spec):
    wanted = str(spec.get("swift-version", ""))
    version = subprocess.run(["swift", "--version"], check=True, capture_output=True, text=True).stdout
    found = re.search(r"Swift version (\d+\.\d+(?:\.\d+)?)", version)
    if not found or not (found.group(1) == wanted or found.group(1).startswith(wanted + ".")):
        fail(f"setup-swift asks for Swift {wanted}; this machine has {found.group(1) if found else version!r}")
    log(f"setup-swift {wanted}: the machine's Swift {found.group(1)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--workflow", default=os.path.join(ROOT, "examples/ci/build-image.yml"))
    parser.add_argument("--base", required=True, help="the raw stand-in base image to serve, xz-compressed")
    parser.add_argument("--job", default="image")
    options = parser.parse_args()

    work = os.path.abspath(options.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with open(options.workflow) as file:
        workflow = yaml.safe_load(file)
    job = workflow["jobs"][options.job]

    served = os.path.join(work, "served.img.xz")
    run(["sh", "-c", f"xz -T2 -1 -c '{options.base}' > '{served}'"])
    server = Server(served)
    inputs = {"base": server.origin + LATEST}

    temp = os.path.join(work, "runner-temp")
    bin_dir = os.path.join(work, "runner-bin")
    os.makedirs(temp)
    os.makedirs(bin_dir)
    sudo = os.path.join(bin_dir, "sudo")
    with open(sudo, "w") as file:
        file.write('#!/bin/sh\n# GitHub runners have passwordless sudo; this lane runs as root.\n'
                   'if [ "$(id -u)" -ne 0 ]; then exec /usr/bin/sudo "$@"; fi\nexec "$@"\n')
    os.chmod(sudo, 0o755)
    github_path = os.path.join(temp, "github_path")
    github_env = os.path.join(temp, "github_env")
    open(github_path, "w").close()
    open(github_env, "w").close()

    base_env = dict(os.environ)
    base_env.update({"CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_TEMP": temp, "GITHUB_PATH": github_path,
                     "GITHUB_ENV": github_env, "GITHUB_EVENT_NAME": "workflow_dispatch"})
    base_env["PATH"] = bin_dir + os.pathsep + base_env["PATH"]
    workflow_env = {k: evaluate(v, inputs, {}) for k, v in (workflow.get("env") or {}).items()}
    job_env = {k: evaluate(v, inputs, workflow_env) for k, v in (job.get("env") or {}).items()}
    workspace = None
    artifacts = os.path.join(work, "artifacts")
    uploaded = []
    outputs = {}

    for index, step in enumerate(job["steps"]):
        label = step.get("name") or step.get("uses") or f"step {index + 1}"
        env = dict(base_env)
        env.update(workflow_env)
        env.update(job_env)
        with open(github_env) as file:
            for line in file.read().splitlines():
                if "=" in line:
                    key, value = line.split("=", 1)
                    env[key] = value
        extra_path = [line for line in open(github_path).read().splitlines() if line.strip()]
        env["PATH"] = os.pathsep.join(list(reversed(extra_path)) + [env["PATH"]])
        scope = dict(workflow_env)
        scope.update(job_env)
        env.update({k: evaluate(v, inputs, scope) for k, v in (step.get("env") or {}).items()})
        if workspace:
            env["GITHUB_WORKSPACE"] = workspace
        log(f"step {index + 1}: {label}")
        started = time.monotonic()
        if "uses" in step:
            action = step["uses"].split("@")[0]
            spec = {k: evaluate(v, inputs, scope) for k, v in (step.get("with") or {}).items()}
            if action == "actions/checkout":
                workspace = checkout(work)
                base_env["GITHUB_WORKSPACE"] = workspace
            elif action == "swift-actions/setup-swift":
                setup_swift(spec)
            elif action == "actions/upload-artifact":
                uploaded.append(upload_artifact(spec, workspace, artifacts))
            else:
                fail(f"step {index + 1} uses {step['uses']}: no stand-in for it here; teach workflow-lane.py")
        elif "run" in step:
            if workspace is None:
                fail(f"step {index + 1} runs before a checkout")
            script = os.path.join(temp, f"step-{index + 1}.sh")
            with open(script, "w") as file:
                file.write(evaluate(step["run"], inputs, scope))
            result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=workspace, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
            outputs[label] = result.stdout
            for line in result.stdout.splitlines()[-25:]:
                print(f"    {line}", flush=True)
            if result.returncode != 0:
                fail(f"step {index + 1} ({label}) exited {result.returncode}")
        else:
            fail(f"step {index + 1} has neither run nor uses")
        log(f"step {index + 1}: ok in {time.monotonic() - started:.1f} s")
    server.stop()

    check(work, workspace, uploaded, outputs, served, server.requests)
    log("ok: every step ran and the artifact checks passed")


def check(work, workspace, uploaded, outputs, served, requests):
    if len(uploaded) != 1:
        fail(f"expected one uploaded artifact, got {uploaded}")
    archive = uploaded[0]
    with zipfile.ZipFile(archive) as zipped:
        names = sorted(zipped.namelist())
        if names != ["SHA256SUMS", "pi.img.xz", "pi.img.xz.bmap"]:
            fail(f"{archive} holds {names}, expected SHA256SUMS, pi.img.xz, pi.img.xz.bmap")
        unpacked = os.path.join(work, "unpacked")
        zipped.extractall(unpacked)
    run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=unpacked)
    listed = sorted(line.split()[-1].lstrip("*") for line in open(os.path.join(unpacked, "SHA256SUMS")).read().splitlines())
    if listed != ["pi.img.xz", "pi.img.xz.bmap"]:
        fail(f"SHA256SUMS lists {listed}")

    # The base went through the redirect, and build-image printed the sha256 of what was served.
    if LATEST not in requests or DATED not in requests:
        fail(f"the base was not fetched through the redirect: {requests}")
    build_output = next((text for label, text in outputs.items() if "fpga-lab build-image" in text or "base sha256" in text), "")
    if f"base sha256 {sha256(served)}" not in build_output:
        fail("build-image did not print the served base's sha256 " + sha256(served))

    fpga_lab = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=workspace, check=True,
                              capture_output=True, text=True).stdout.strip() + "/fpga-lab"
    by_bmaptool = os.path.join(work, "bmaptool.img")
    run(["bmaptool", "-q", "copy", "--bmap", os.path.join(unpacked, "pi.img.xz.bmap"), os.path.join(unpacked, "pi.img.xz"), by_bmaptool])
    by_flash = os.path.join(work, "flash.img")
    run([fpga_lab, "flash", archive, by_flash])
    if sha256(by_flash) != sha256(by_bmaptool):
        fail("fpga-lab flash of the artifact and bmaptool copy of its image differ")
    inspected = subprocess.run([fpga_lab, "inspect", archive], check=True, capture_output=True, text=True).stdout
    if "manifest (/etc/fpga-lab/manifest)" not in inspected or "arm64" not in inspected:
        fail(f"inspect of the artifact:\n{inspected}")
    # The image names the build that made it: git describe of the checkout (scripts/version.sh).
    version = subprocess.run([os.path.join(workspace, "scripts/version.sh")], check=True, capture_output=True, text=True).stdout.strip()
    if f"\ntool fpga-lab {version}\n" not in inspected:
        fail(f"the artifact's manifest does not name fpga-lab {version}:\n{inspected}")
    log(f"artifact {os.path.basename(archive)}: members, SHA256SUMS, bmaptool copy, flash and inspect ok; made by fpga-lab {version}")


if __name__ == "__main__":
    main()
