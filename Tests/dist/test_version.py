"""scripts/version.sh: git describe made a Debian version, in a scratch repository.

Run by `make unit` (python3 -m unittest discover -s Tests/dist).
"""
import os
import shutil
import subprocess
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "version.sh")


class VersionTests(unittest.TestCase):
    def setUp(self):
        self.repo = tempfile.mkdtemp(prefix="fpga-lab-version-")
        os.makedirs(os.path.join(self.repo, "scripts"))
        shutil.copy(SCRIPT, os.path.join(self.repo, "scripts", "version.sh"))
        self.git("init", "-q")
        self.commit("first")

    def tearDown(self):
        shutil.rmtree(self.repo)

    def git(self, *args):
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                   GIT_COMMITTER_EMAIL="t@t")
        return subprocess.run(["git", "-C", self.repo, *args], check=True, capture_output=True, text=True, env=env).stdout.strip()

    def commit(self, text):
        with open(os.path.join(self.repo, "file"), "w") as file:
            file.write(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", text)

    def version(self):
        result = subprocess.run([os.path.join(self.repo, "scripts", "version.sh")], capture_output=True, text=True)
        return result.returncode, result.stdout.strip(), result.stderr

    def head(self):
        return self.git("rev-parse", "--short=12", "HEAD")

    def test_no_tag_counts_commits(self):
        self.commit("second")
        self.assertEqual(self.version(), (0, f"0.0.0+2.g{self.head()}", ""))

    def test_exact_tag(self):
        self.git("tag", "-a", "v1.2.3", "-m", "r")
        self.assertEqual(self.version()[1], "1.2.3")

    def test_commits_after_the_tag_sort_between_releases(self):
        self.git("tag", "-a", "v1.2.3", "-m", "r")
        self.commit("a")
        self.commit("b")
        code, version, _ = self.version()
        self.assertEqual(version, f"1.2.3+2.g{self.head()}")
        # dpkg orders it after the tag and before the next release.
        for lower, higher in (("1.2.3", version), (version, "1.2.4")):
            subprocess.run(["dpkg", "--compare-versions", lower, "lt", higher], check=True)

    def test_uncommitted_changes_are_dirty(self):
        self.git("tag", "-a", "v1.2.3", "-m", "r")
        with open(os.path.join(self.repo, "file"), "w") as file:
            file.write("changed")
        self.assertEqual(self.version()[1], "1.2.3+dirty")
        self.commit("c")
        with open(os.path.join(self.repo, "file"), "w") as file:
            file.write("changed again")
        self.assertEqual(self.version()[1], f"1.2.3+1.g{self.head()}.dirty")

    def test_other_tags_are_not_versions(self):
        self.git("tag", "-a", "release-2", "-m", "r")
        self.assertEqual(self.version()[1], f"0.0.0+1.g{self.head()}")

    def test_a_tag_dpkg_cannot_take_is_refused(self):
        self.git("tag", "-a", "v1.0-rc1", "-m", "r")
        code, version, error = self.version()
        self.assertNotEqual(code, 0)
        self.assertEqual(version, "")
        self.assertIn("v1.0-rc1", error)

    def test_outside_git_fails(self):
        shutil.rmtree(os.path.join(self.repo, ".git"))
        code, version, error = self.version()
        self.assertNotEqual(code, 0)
        self.assertIn("not a git checkout", error)


if __name__ == "__main__":
    unittest.main()
