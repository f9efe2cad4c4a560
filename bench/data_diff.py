"""``diff`` of DVC-tracked data on a 1,000-file directory output, ours vs ``dvc diff``.

    python bench/data_diff.py [--files 1000] [--repeat 5]

The project is made by real DVC: a directory of ``--files`` small files tracked with
``dvc add`` and committed; then one file inside it is modified, one added and one
deleted. Each side runs once to warm the file system (and the hash state), then
``--repeat`` times from the shell: ours as ``jupyter-exp data-diff`` (``jupyter dvc
diff`` once the namespace lands), DVC as ``dvc diff``; both outputs must be equal. Prints
median (min-max) in milliseconds, for the workspace and for ``HEAD~1 HEAD``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from dvc_env import dvc_executable  # noqa: E402
from run import fmt, ours_cmd  # noqa: E402


def _run(cmd: list[str], cwd: Path) -> str:
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def make_project(root: Path, files: int, dvc: Path) -> None:
    root.mkdir()
    for args in (["init", "-q", "-b", "main"], ["config", "user.email", "b@x"], ["config", "user.name", "B"]):
        _run(["git", *args], root)
    _run([str(dvc), "init", "-q"], root)
    (root / "images").mkdir()
    for i in range(files):
        (root / "images" / f"{i:05d}.txt").write_text(f"file {i}\n")
    _run([str(dvc), "add", "-q", "images"], root)
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-qm", "data"], root)
    (root / "images" / "00001.txt").write_text("modified\n")
    (root / "images" / "new.txt").write_text("new\n")
    (root / "images" / "00002.txt").unlink()
    _run([str(dvc), "commit", "-q", "-f"], root)
    _run(["git", "commit", "-qam", "changed"], root)
    (root / "images" / "00003.txt").write_text("workspace edit\n")


def timed(cmd: list[str], cwd: Path, repeat: int) -> tuple[list[float], str]:
    out = _run(cmd, cwd)  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        again = _run(cmd, cwd)
        times.append((time.perf_counter() - start) * 1000)
        assert again == out
    return times, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    dvc = dvc_executable()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        make_project(root, args.files, dvc)
        print(f"data diff, a {args.files}-file directory output (ms, median (min-max), {args.repeat} runs)")
        print(f"{'case':<22} {'ours':>22} {'dvc diff':>22}")
        for label, revs in (("workspace", []), ("HEAD~1 HEAD", ["HEAD~1", "HEAD"])):
            for fmt_flag in ([], ["--json"]):
                ours, ours_out = timed(ours_cmd("data-diff", *fmt_flag, *revs), root, args.repeat)
                theirs, dvc_out = timed([str(dvc), "diff", *fmt_flag, *revs], root, args.repeat)
                assert ours_out == dvc_out, (ours_out, dvc_out)
                name = f"{label} {' '.join(fmt_flag)}".strip()
                print(f"{name:<22} {fmt(ours):>22} {fmt(theirs):>22}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
