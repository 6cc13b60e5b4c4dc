#!/usr/bin/env python3
"""fpga-lab's man page, fpga-lab.1, made from the CLI's own help (Python 3 stdlib only).

    fpga-lab --experimental-dump-help > dump.json
    scripts/dist/gen-man.py --json dump.json --version 0.1.0 --date 2025-01-31 --output fpga-lab.1

Input: the JSON swift-argument-parser dumps for --experimental-dump-help (ToolInfoV0: the root
command's abstract, discussion, arguments and subcommands, recursively); `--json -` reads stdin.
Output: one page in section 1, plain man(7) roff (no mdoc, no groff extensions) for man-db:
NAME, SYNOPSIS, DESCRIPTION, COMMANDS (one .SS per verb: its usage, abstract, discussion and
arguments), GLOBAL OPTIONS, then the fixed sections below (FILES, SERVICE, EXIT STATUS,
SEE ALSO). Deterministic: the date is given, never read from the clock, so the same dump,
version and date give the same bytes. Left out: hidden arguments and commands (shouldDisplay
false), ArgumentParser's `help` verb and each verb's -h/--help/--version (said once).

Escaping: a backslash is written \\e; every "-" is \\- (option and command names, paths and URLs
copy as typed); non-ASCII is \\[uXXXX]; `code` in the help text is bold; a text line that would
start with "." or "'" starts with \\&. Each paragraph is one text line, paragraphs are split by
.PP, and no line is blank or ends in whitespace. Check: man --warnings -l -Tutf8 fpga-lab.1
"""
import argparse
import datetime
import json
import re
import sys

# The fixed sections: (term, text) pairs; both are help-style text (`code` is bold).
FILES = [
    ("/etc/fpga-lab/LAB.yaml", "A lab config, read by the `fpga-lab-watch@LAB` service."),
    ("/usr/lib/fpga-lab/binder/ARCH/usbip-binder",
     "The usbip-binder builds (aarch64, armv6, x86_64): `build-image` bakes in the one of the "
     "image's architecture when neither `--binder` nor `--binder-dir` is given."),
    ("/usr/share/fpga-lab/templates/",
     "Copies of the built-in templates, a starting point for `--templates`."),
    ("/usr/share/fpga-lab/examples/lab.yaml", "An example lab."),
]
# ("text", paragraph) or ("command", a line shown on its own, indented and bold).
SERVICE = [
    ("text", "The client unit is a systemd template with one instance per lab; for the lab in "
             "/etc/fpga-lab/LAB.yaml:"),
    ("command", "systemctl enable --now fpga-lab-watch@LAB"),
    ("text", "It runs `fpga-lab watch --config /etc/fpga-lab/LAB.yaml`, now and at every boot, "
             "and keeps the lab's boards attached across reboots and drops (of the server, the "
             "network or a replug)."),
]
# As Sources/FPGALabCLI/FPGALab.swift ends a run: its error funnel (FPGALab.main/reported)
# prints a verb's error and exits 1; ArgumentParser exits 64 (EX_USAGE) on ValidationError
# and parse errors, 0 for --help/--version.
EXIT_STATUS = [
    ("0", "Success; also for `--help`, `--version`, `help` and no command at all (which print "
          "help), and when `watch` is stopped by SIGINT or SIGTERM."),
    ("1", "Failure or invalid input: the error is printed as `fpga-lab: error: MESSAGE`, or, for "
          "an invalid lab config, its diagnostics (FILE:LINE:COLUMN: ...) and their count; "
          "`attach` and `detach` exit 1 when any board failed."),
    ("64", "Usage error (EX_USAGE): an unknown command or option, a missing or malformed "
           "argument, or options that do not go together."),
]
SEE_ALSO = [("usbip", "8"), ("usbipd", "8"), ("bmaptool", "1")]


def escape(text):
    """Plain text to roff: backslash, hyphen and non-ASCII characters escaped."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)


def inline(text):
    """Help text to roff inline text: `code` in bold, the rest escaped; whitespace collapsed."""
    pieces = re.split(r"`([^`]*)`", " ".join(text.split()))
    out = [("\\fB%s\\fR" % escape(p)) if i % 2 else escape(p).replace("`", "\\(ga")
           for i, p in enumerate(pieces)]
    return "".join(out)


def text_line(text):
    """A text line: a leading . or ' would make it a request, so it starts with \\& then."""
    line = inline(text)
    return "\\&" + line if line.startswith((".", "'")) else line


def paragraphs(text, macro=".PP"):
    """Text split at blank lines: each paragraph one text line, after a .PP (or .IP)."""
    return [line for para in re.split(r"\n\s*\n", text or "") if para.strip()
            for line in (macro, text_line(para))]


def flag_name(name):
    """A NameInfoV0 as typed: --long, -s or -longWithSingleDash."""
    dashes = {"long": "--", "short": "-", "longWithSingleDash": "-"}[name["kind"]]
    return "\\fB%s\\fR" % escape(dashes + name["name"])


def value(arg):
    """An argument's value name, in italics."""
    return "\\fI%s\\fR" % escape(arg.get("valueName") or "value")


def is_standard(arg):
    """ArgumentParser's own -h/--help and --version, which every command takes."""
    names = {(n["kind"], n["name"]) for n in arg.get("names") or []}
    return bool(names & {("long", "help"), ("long", "version"), ("longWithSingleDash", "help")}) \
        or names == {("short", "h")}


def shown(arguments, standard):
    """The arguments the page lists: the displayed ones, and -h/--help/--version if standard."""
    return [a for a in arguments or []
            if a.get("shouldDisplay", True) and (standard or not is_standard(a))]


def usage_item(arg):
    """One argument in a usage line: <name>, --opt <value> or --flag; ... and [ ] as needed."""
    if arg["kind"] == "positional":
        item = value(arg)
    else:
        name = arg.get("preferredName") or arg["names"][0]
        item = flag_name(name) + (" " + value(arg) if arg["kind"] == "option" else "")
    item += "\\ ..." if arg.get("isRepeating") else ""
    return "[%s]" % item if arg.get("isOptional") else item


def argument_items(arguments):
    """Arguments as .TP items: names (and value) as the tag, then the help text."""
    lines = []
    for arg in arguments:
        if arg["kind"] == "positional":
            tag = value(arg)
        else:
            tag = ", ".join(flag_name(n) for n in arg.get("names") or [])
            tag += " " + value(arg) if arg["kind"] == "option" else ""
        help_text = arg.get("abstract") or ""
        if arg.get("defaultValue") is not None:
            help_text += " (default: %s)" % (arg["defaultValue"] or '""')
        lines += [".TP", tag]
        lines += [text_line(help_text)] if help_text.strip() else []
        lines += paragraphs(arg.get("discussion"), ".IP")
    return lines


def commands(command, path):
    """One .SS per visible verb, depth first: usage line, abstract, discussion, arguments."""
    lines = []
    for sub in command.get("subcommands") or []:
        if sub["commandName"] == "help" or not sub.get("shouldDisplay", True):
            continue
        words = path + [sub["commandName"]]
        arguments = shown(sub.get("arguments"), standard=False)
        usage = " ".join(["\\fB%s\\fR" % escape(" ".join(words))] + [usage_item(a) for a in arguments])
        lines += [".SS %s" % escape(" ".join(words[1:])),
                  ".in +4n", ".ti -4n", usage, ".in -4n"]
        lines += paragraphs(sub.get("abstract")) + paragraphs(sub.get("discussion"))
        lines += argument_items(arguments)
        lines += commands(sub, words)
    return lines


def every_verb_takes_standard(command):
    """Whether -h/--help and --version are on every verb (ArgumentParser adds them)."""
    verbs = [s for s in command.get("subcommands") or [] if s["commandName"] != "help"]
    return all(sum(is_standard(a) for a in v.get("arguments") or []) >= 2 and
               every_verb_takes_standard(v) for v in verbs)


def page(dump, version, date):
    if dump.get("serializationVersion") != 0:
        raise SystemExit("gen-man.py: expected ToolInfoV0 (serializationVersion 0), got %r"
                         % dump.get("serializationVersion"))
    root = dump["command"]
    name = root["commandName"]
    lines = ['.\\" %s(1): generated by scripts/dist/gen-man.py from `%s --experimental-dump-help`;'
             ' do not edit.' % (name, name),
             '.TH %s 1 "%s" "%s" "User Commands"' % (escape(name.upper()), date,
                                                     escape("%s %s" % (name, version))),
             ".nh", ".ad l",  # no hyphenation (option names), ragged right (long paths)
             ".SH NAME", "%s \\- %s" % (escape(name), inline(root.get("abstract") or name)),
             ".SH SYNOPSIS", "\\fB%s\\fR \\fIcommand\\fR [\\fIoptions\\fR]" % escape(name),
             ".SH DESCRIPTION"]
    lines += paragraphs(root.get("abstract")) + paragraphs(root.get("discussion"))
    lines += [".SH COMMANDS"] + commands(root, [name])
    lines += [".SH GLOBAL OPTIONS"] + argument_items(shown(root.get("arguments"), standard=True))
    if every_verb_takes_standard(root):
        lines += [".PP", text_line("Every command also takes `-h`, `--help` and `--version`.")]
    lines += [".SH FILES"]
    for term, text in FILES:
        lines += [".TP", "\\fI%s\\fR" % escape(term), text_line(text)]
    lines += [".SH SERVICE"]
    for kind, text in SERVICE:
        lines += paragraphs(text) if kind == "text" else \
            [".PP", ".RS 4", ".nf", "\\fB%s\\fR" % escape(text), ".fi", ".RE"]
    lines += [".SH EXIT STATUS"]
    for status, text in EXIT_STATUS:
        lines += [".TP", status, text_line(text)]
    lines += [".SH SEE ALSO"]
    lines += [".BR %s (%s)%s" % (escape(p), s, "," if i < len(SEE_ALSO) - 1 else "")
              for i, (p, s) in enumerate(SEE_ALSO)]
    assert all(l.strip() and l == l.rstrip() for l in lines), "blank line or trailing space"
    return "\n".join(lines) + "\n"


def iso_date(text):
    """--date's check: YYYY-MM-DD, a real day."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) and datetime.date.fromisoformat(text):
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError("%r: expected YYYY-MM-DD" % text)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Make fpga-lab.1 from fpga-lab --experimental-dump-help.")
    parser.add_argument("--json", required=True, help="the dump (ToolInfoV0 JSON); - for stdin")
    parser.add_argument("--version", required=True, help="fpga-lab's version, for the footer")
    parser.add_argument("--date", required=True, type=iso_date, help="the page's date, YYYY-MM-DD")
    parser.add_argument("--output", required=True, help="the page to write; - for stdout")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[^\s\"\\]+", args.version):
        parser.error("--version %r: expected one word, no quotes or backslashes" % args.version)
    with sys.stdin if args.json == "-" else open(args.json, encoding="utf-8") as f:
        text = page(json.load(f), args.version, args.date)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


if __name__ == "__main__":
    main()
