import json

import numpy as np
import pandas as pd
import pytest

from svibench import io


def test_writers_round_trip_and_leave_no_temporaries(tmp_path):
    df = pd.DataFrame({"a": [1.0, 2.5], "m[0]": [3.0, np.nan]})
    io.write_parquet(tmp_path / "d" / "draws.parquet", df)
    io.write_json(tmp_path / "fit.json", {"x": np.float32(1.5), "bad": float("inf"), "v": np.arange(2)})
    io.write_npz(tmp_path / "p.npz", {"loc": np.ones(3)})
    pd.testing.assert_frame_equal(io.read_parquet(tmp_path / "d" / "draws.parquet"), df)
    assert io.read_json(tmp_path / "fit.json") == {"x": 1.5, "bad": None, "v": [0, 1]}
    assert io.read_npz(tmp_path / "p.npz")["loc"].tolist() == [1.0, 1.0, 1.0]
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "fit.json"
    io.write_json(target, {"ok": 1})
    with pytest.raises(TypeError):
        io.write_json(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert not list(tmp_path.glob(".*tmp"))


def test_npz_never_unpickles(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    import zipfile
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as z:
        z.write(tmp_path / "obj.npy", "obj.npy")
    with pytest.raises(ValueError):
        io.read_npz(tmp_path / "evil.npz")
