import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from jupyter_exp.pipeline.hashing import Hasher, State, manifest_bytes


def test_file_hash_is_plain_md5(tmp_path: Path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"line\r\nline2\n")  # no dos2unix normalisation in DVC 3
    assert Hasher(None).hash_path(f).md5 == hashlib.md5(b"line\r\nline2\n").hexdigest()


def test_directory_hash_is_md5_of_dvc_manifest(tmp_path: Path):
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "b.txt").write_text("b")
    (d / "sub" / "a.txt").write_text("aa")
    info = Hasher(None).hash_path(d)
    manifest = json.dumps(
        [
            {"md5": hashlib.md5(b"b").hexdigest(), "relpath": "b.txt"},
            {"md5": hashlib.md5(b"aa").hexdigest(), "relpath": "sub/a.txt"},
        ]
    ).encode()
    assert (
        manifest_bytes([("sub/a.txt", hashlib.md5(b"aa").hexdigest()), ("b.txt", hashlib.md5(b"b").hexdigest())])
        == manifest
    )
    assert info.md5 == hashlib.md5(manifest).hexdigest() + ".dir"
    assert (info.size, info.nfiles) == (3, 2)


def test_state_avoids_rehashing_across_processes(tmp_path: Path):
    data = tmp_path / "big.bin"
    data.write_bytes(os.urandom(1 << 20))
    db = tmp_path / "state.db"
    first = Hasher(State(db))
    md5 = first.hash_path(data).md5
    first.state.close()
    assert first.files_read == 1
    code = (
        "import sys; from pathlib import Path; "
        "from jupyter_exp.pipeline.hashing import Hasher, State; "
        f"h = Hasher(State(Path({str(db)!r}))); info = h.hash_path(Path({str(data)!r})); "
        "print(info.md5, h.files_read)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [md5, "0"]


def test_state_notices_a_changed_file(tmp_path: Path):
    f = tmp_path / "f"
    f.write_text("one")
    hasher = Hasher(State(tmp_path / "state.db"))
    assert hasher.hash_path(f).md5 == hashlib.md5(b"one").hexdigest()
    f.write_text("two!")
    assert hasher.hash_path(f).md5 == hashlib.md5(b"two!").hexdigest()
    assert hasher.files_read == 2
