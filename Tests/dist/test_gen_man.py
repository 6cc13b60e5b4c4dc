"""Tests of scripts/dist/gen-man.py (stdlib unittest):

    python3 -m unittest discover -s Tests/dist -v
    FPGA_LAB=.build/debug/fpga-lab python3 -m unittest discover -s Tests/dist -v   # + the real dump

A hand-written ToolInfoV0 fixture checks the roff line by line (escapes, hidden and standard
arguments left out, defaults, synopsis, determinism); with FPGA_LAB set to a built fpga-lab, the
page of its real --experimental-dump-help is checked against the dump and by man --warnings.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "dist", "gen-man.py")


def long(name):
    return {"kind": "long", "name": name}


def standard_arguments():
    """What ArgumentParser adds to every command: --version and -h/--help."""
    return [
        {"kind": "flag", "names": [long("version")], "preferredName": long("version"),
         "valueName": "version", "abstract": "Show the version.", "isOptional": True,
         "isRepeating": False, "shouldDisplay": True},
        {"kind": "flag", "names": [{"kind": "short", "name": "h"}, long("help")],
         "preferredName": long("help"), "valueName": "help", "abstract": "Show help information.",
         "isOptional": True, "isRepeating": False, "shouldDisplay": True},
    ]


FIXTURE = {
    "serializationVersion": 0,
    "command": {
        "commandName": "demo-tool",
        "abstract": "Tidy `widgets` up.",
        "discussion": "demo-tool tidies.\n\n.hidden files are kept in C:\\temp.\n\n'quoted' stays.",
        "shouldDisplay": True,
        "arguments": standard_arguments(),
        "subcommands": [
            {
                "commandName": "make-thing", "superCommands": ["demo-tool"], "shouldDisplay": True,
                "abstract": "Make a thing from `files`.",
                "discussion": "Reads each file once.\n\nA second paragraph.",
                "arguments": [
                    {"kind": "option", "names": [long("level")], "preferredName": long("level"),
                     "valueName": "n", "abstract": "Compression level, `0` to `9`.",
                     "defaultValue": "3", "isOptional": True, "isRepeating": False,
                     "shouldDisplay": True},
                    {"kind": "flag", "names": [{"kind": "short", "name": "f"}, long("force")],
                     "preferredName": long("force"), "valueName": "force",
                     "abstract": "Overwrite.", "discussion": "Even read-only files.",
                     "isOptional": True, "isRepeating": False, "shouldDisplay": True},
                    {"kind": "option", "names": [long("secret-knob")],
                     "preferredName": long("secret-knob"), "valueName": "x",
                     "abstract": "Tests only.", "defaultValue": "/sys", "isOptional": True,
                     "isRepeating": False, "shouldDisplay": False},
                    {"kind": "positional", "valueName": "files", "abstract": "The inputs.",
                     "isOptional": False, "isRepeating": True, "shouldDisplay": True},
                ] + standard_arguments(),
            },
            {
                "commandName": "show", "superCommands": ["demo-tool"], "shouldDisplay": True,
                "abstract": "Show a thing.",
                "arguments": [
                    {"kind": "positional", "valueName": "name", "abstract": "Which one.",
                     "isOptional": True, "isRepeating": False, "shouldDisplay": True},
                ] + standard_arguments(),
            },
            {
                "commandName": "help", "superCommands": ["demo-tool"], "shouldDisplay": True,
                "abstract": "Show subcommand help information.",
                "arguments": [{"kind": "positional", "valueName": "subcommands", "isOptional": True,
                               "isRepeating": True, "shouldDisplay": True}],
            },
        ],
    },
}


def generate(dump_text, date="2024-02-29", version="1.2.3", stdin=False):
    """The page gen-man.py writes for dump_text (a file, or stdin with stdin=True)."""
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "out.1")
        dump = os.path.join(tmp, "dump.json")
        with open(dump, "w", encoding="utf-8") as f:
            f.write(dump_text)
        subprocess.run([sys.executable, SCRIPT, "--json", "-" if stdin else dump, "--version", version,
                        "--date", date, "--output", page],
                       input=dump_text if stdin else None, text=True, check=True)
        with open(page, "rb") as f:
            return f.read()


def man_warnings(page_bytes):
    """stderr of man --warnings, as run by hand and as lintian runs it, for the page."""
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "page.1")
        with open(page, "wb") as f:
            f.write(page_bytes)
        plain = subprocess.run(["man", "--warnings", "-l", "-Tutf8", page],
                               capture_output=True, text=True)
        env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8", "MANROFFSEQ": "",
               "MANWIDTH": "80"}
        lintian = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page],
                                 capture_output=True, text=True, env=env)
        return plain.stderr + lintian.stderr


def rendered(page_bytes):
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "page.1")
        with open(page, "wb") as f:
            f.write(page_bytes)
        env = dict(os.environ, MANWIDTH="100", LC_ALL="C.UTF-8")
        out = subprocess.run(["man", "-l", page], capture_output=True, text=True, env=env, check=True)
        return out.stdout


class FixturePage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.page = generate(json.dumps(FIXTURE))
        cls.text = cls.page.decode("ascii")
        cls.lines = cls.text.split("\n")

    def after(self, line, count=1):
        """The count lines after the (only) line equal to line."""
        self.assertEqual(self.lines.count(line), 1, line)
        i = self.lines.index(line)
        return self.lines[i + 1:i + 1 + count]

    def test_header_name_and_synopsis(self):
        self.assertEqual(self.lines[1], '.TH DEMO\\-TOOL 1 "2024-02-29" "demo\\-tool 1.2.3" "User Commands"')
        self.assertEqual(self.after(".SH NAME"), ["demo\\-tool \\- Tidy \\fBwidgets\\fR up."])
        self.assertEqual(self.after(".SH SYNOPSIS"), ["\\fBdemo\\-tool\\fR \\fIcommand\\fR [\\fIoptions\\fR]"])

    def test_leading_dot_apostrophe_and_backslash_escaped(self):
        self.assertIn("\\&.hidden files are kept in C:\\etemp.", self.lines)
        self.assertIn("\\&'quoted' stays.", self.lines)
        self.assertIn("demo\\-tool tidies.", self.lines)

    def test_commands_one_heading_each_help_verb_skipped(self):
        headings = [l for l in self.lines if l.startswith(".SS")]
        self.assertEqual(headings, [".SS make\\-thing", ".SS show"])

    def test_verb_synopsis(self):
        self.assertEqual(self.after(".SS make\\-thing", 4)[2],
                         "\\fBdemo\\-tool make\\-thing\\fR [\\fB\\-\\-level\\fR \\fIn\\fR] "
                         "[\\fB\\-\\-force\\fR] \\fIfiles\\fR\\ ...")
        self.assertEqual(self.after(".SS show", 4)[2], "\\fBdemo\\-tool show\\fR [\\fIname\\fR]")

    def test_options_default_short_name_and_discussion(self):
        self.assertEqual(self.after("\\fB\\-\\-level\\fR \\fIn\\fR"),
                         ["Compression level, \\fB0\\fR to \\fB9\\fR. (default: 3)"])
        self.assertEqual(self.after("\\fB\\-f\\fR, \\fB\\-\\-force\\fR", 3),
                         ["Overwrite.", ".IP", "Even read\\-only files."])
        self.assertEqual(self.after("\\fIfiles\\fR"), ["The inputs."])

    def test_hidden_and_standard_arguments_left_out_of_verbs(self):
        self.assertNotIn("secret", self.text)
        self.assertNotIn("Tests only", self.text)
        # --version and -h/--help: once, under GLOBAL OPTIONS, not under each verb.
        self.assertEqual(self.lines.count("\\fB\\-\\-version\\fR"), 1)
        self.assertEqual(self.lines.count("\\fB\\-h\\fR, \\fB\\-\\-help\\fR"), 1)
        self.assertLess(self.lines.index(".SH GLOBAL OPTIONS"), self.lines.index("\\fB\\-\\-version\\fR"))
        self.assertNotIn("subcommands", self.text)

    def test_fixed_sections_in_order(self):
        sections = [l for l in self.lines if l.startswith(".SH")]
        self.assertEqual(sections, [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS",
                                    ".SH GLOBAL OPTIONS", ".SH FILES", ".SH SERVICE",
                                    ".SH EXIT STATUS", ".SH SEE ALSO"])
        self.assertIn("\\fI/usr/lib/fpga\\-lab/binder/ARCH/usbip\\-binder\\fR", self.lines)
        self.assertEqual(self.after(".SH EXIT STATUS", 2), [".TP", "0"])
        self.assertIn(".TP\n64\nUsage error", self.text)
        self.assertEqual(self.lines[-4:], [".BR usbip (8),", ".BR usbipd (8),", ".BR bmaptool (1)", ""])

    def test_no_blank_lines_no_trailing_whitespace(self):
        for number, line in enumerate(self.lines[:-1], 1):
            self.assertTrue(line.strip(), "line %d is blank" % number)
            self.assertEqual(line, line.rstrip(), "line %d ends in whitespace" % number)

    def test_deterministic_from_file_and_stdin(self):
        self.assertEqual(generate(json.dumps(FIXTURE)), self.page)
        self.assertEqual(generate(json.dumps(FIXTURE, indent=2), stdin=True), self.page)
        other = generate(json.dumps(FIXTURE), date="2024-03-01").decode("ascii").split("\n")
        self.assertEqual([i for i, (a, b) in enumerate(zip(self.lines, other)) if a != b], [1])

    def test_bad_date_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = subprocess.run([sys.executable, SCRIPT, "--json", "-", "--version", "1",
                                  "--date", "2024-02-30", "--output", os.path.join(tmp, "x.1")],
                                 input=json.dumps(FIXTURE), capture_output=True, text=True)
            self.assertEqual(run.returncode, 2)
            self.assertIn("expected YYYY-MM-DD", run.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "x.1")))

    @unittest.skipUnless(shutil.which("man"), "man is not installed")
    def test_renders_without_warnings(self):
        self.assertEqual(man_warnings(self.page), "")
        text = rendered(self.page)
        self.assertIn("       .hidden files are kept in C:\\temp.", text.split("\n"))
        self.assertIn("make-thing [--level n] [--force] files ...", text)
        self.assertIn("Compression level, 0 to 9. (default: 3)", text)


@unittest.skipUnless(os.environ.get("FPGA_LAB"), "FPGA_LAB (a built fpga-lab) is not set")
@unittest.skipUnless(shutil.which("man"), "man is not installed")
class RealDump(unittest.TestCase):
    def test_every_verb_has_a_heading_and_man_is_silent(self):
        dump_text = subprocess.run([os.environ["FPGA_LAB"], "--experimental-dump-help"],
                                   capture_output=True, text=True, check=True).stdout
        verbs = [c["commandName"] for c in json.loads(dump_text)["command"]["subcommands"]
                 if c["commandName"] != "help" and c.get("shouldDisplay", True)]
        self.assertGreater(len(verbs), 5)
        page = generate(dump_text, version="0.0.0-test")
        headings = [l for l in page.decode("ascii").split("\n") if l.startswith(".SS ")]
        self.assertEqual(headings, [".SS " + v.replace("-", "\\-") for v in verbs])
        self.assertEqual(man_warnings(page), "")


if __name__ == "__main__":
    unittest.main()
