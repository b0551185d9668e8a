"""Atomic writes after a hard kill: stale temporaries go, files get the usual mode."""

import stat

import pandas as pd

from svibench import io


def test_temporaries_left_by_a_killed_writer_are_removed_on_the_next_write(tmp_path):
    target = tmp_path / "draws.parquet"
    # What SIGKILL mid-write leaves: a hidden, half-written temporary beside the target.
    stale = tmp_path / ".draws.parquet.k1ll3d.tmp"
    stale.write_bytes(b"PAR1 half")
    other = tmp_path / ".fit.json.abc.tmp"  # another output's temporary: not ours to touch
    other.write_text("{")
    io.write_parquet(target, pd.DataFrame({"a": [1.0]}))
    assert not stale.exists() and other.exists()
    assert io.read_parquet(target)["a"].tolist() == [1.0]


def test_written_files_get_the_mode_of_any_new_file(tmp_path):
    io.write_json(tmp_path / "fit.json", {"a": 1})
    io.write_npz(tmp_path / "p.npz", {"a": [1.0]})
    (tmp_path / "plain.txt").write_text("x")  # its mode: what the umask gives (not 0600)
    expected = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    for name in ("fit.json", "p.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected, name
