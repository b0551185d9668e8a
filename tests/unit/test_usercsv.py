"""Your own data: every malformed CSV gets one line naming file, column and first bad row."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from svibench import usercsv
from svibench.config import ConfigError, validate
from svibench.data import load_dataset, make_dataset

ROOT = Path(__file__).resolve().parents[2]
GOOD_HIER = "group,x,y,yerr\n7,-1.0,3.0,2.5\n-2,0.5,4.0,2.5\n7,2.0,5.5,2.0\n40,1.0,9.0,1.5\n"


def write(tmp_path, text, name="mine.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("model, text, expected", [
    # (model, file contents, the pieces the one-line message must hold)
    ("linreg", "x,y\n1,2\n", ["missing column 'yerr'"]),
    ("linreg", "x,y,y_err\n1,2,0.2\n", ["missing column 'yerr'", "did you mean 'y_err'"]),
    ("linreg", "X,y,yerr\n1,2,0.2\n", ["missing column 'x'", "did you mean 'X'"]),
    ("hier", "grp,x,y,yerr\n1,1,2,0.2\n", ["missing column 'group'", "did you mean 'grp'"]),
    ("linreg", "", ["file is empty"]),
    ("linreg", "\n\n", ["file is empty"]),
    ("linreg", "x,y,yerr\n", ["no data rows"]),
    ("linreg", "x,y,yerr\n1,2,0.2\n3,abc,0.2\n", ["column 'y'", "row 2 (line 3)", "not a number: 'abc'"]),
    ("linreg", "x,y,yerr\n1,2,0.2\n3,4,0.2\nnan,4,0.2\n", ["column 'x'", "row 3 (line 4)", "not a finite number: 'nan'"]),
    ("linreg", "x,y,yerr\n1,inf,0.2\n", ["column 'y'", "row 1 (line 2)", "not a finite number: 'inf'"]),
    ("linreg", "x,y,yerr\n1,2,-1e400\n", ["column 'yerr'", "row 1", "not a finite number"]),
    ("linreg", "x,y,yerr\n1,2,0.2\n1,2,0\n", ["column 'yerr'", "row 2 (line 3)", "must be > 0, got '0'"]),
    ("linreg", "x,y,yerr\n1,2,-0.3\n", ["column 'yerr'", "row 1 (line 2)", "must be > 0, got '-0.3'"]),
    ("linreg", "x,y,yerr\n1,,0.2\n", ["column 'y'", "row 1 (line 2)", "empty value"]),
    ("linreg", "x,y,yerr\n1,2,0.2\n1,2\n", ["row 2 (line 3)", "2 fields, the header has 3"]),
    ("linreg", "x,y,yerr\n\n1,2,0.2\n\n5,x,0.2\n", ["column 'y'", "row 2 (line 5)", "not a number: 'x'"]),
    ("linreg", "x,y,x,yerr\n1,2,3,0.2\n", ["column 'x' appears 2 times"]),
    ("hier", "group,x,y,yerr\n1,1,2,0.2\n1.5,1,2,0.2\n", ["column 'group'", "row 2 (line 3)", "not an integer group label: '1.5'"]),
    ("hier", "group,x,y,yerr\nA,1,2,0.2\n", ["column 'group'", "row 1 (line 2)", "not an integer group label: 'A'"]),
    ("hier", "group,x,y,yerr\n,1,2,0.2\n", ["column 'group'", "row 1", "not an integer group label: ''"]),
    ("hier", "group,x,y,yerr\nnan,1,2,0.2\n", ["column 'group'", "not an integer group label: 'nan'"]),
])
def test_bad_csv_gives_one_line_naming_file_column_and_row(tmp_path, model, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(usercsv.CSVError) as err:
        usercsv.check(p, model)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{p}: ")
    for piece in expected:
        assert piece in msg, (piece, msg)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(usercsv.CSVError, match=r"nope\.csv: file does not exist$"):
        usercsv.check(tmp_path / "nope.csv", "linreg")
    with pytest.raises(usercsv.CSVError, match="is a directory"):
        usercsv.check(tmp_path, "linreg")


def test_binary_file_is_rejected_in_one_line(tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(b"x,y,yerr\n\xff\xfe\x00\x01,2,3\n")
    with pytest.raises(usercsv.CSVError, match="not UTF-8 text"):
        usercsv.check(p, "linreg")


def test_only_linreg_and_hier_take_a_csv(tmp_path):
    p = write(tmp_path, "x,y,yerr\n1,2,0.2\n")
    with pytest.raises(usercsv.CSVError, match="model coin takes no data file"):
        usercsv.check(p, "coin")
    assert usercsv.supports("hier") and not usercsv.supports("multimodal")


def test_valid_csv_extra_columns_spaces_blank_lines_and_bom(tmp_path):
    p = tmp_path / "ok.csv"
    p.write_text("\ufeffid, yerr , x,y ,note\n\na, 0.2, -1.5 ,3e-1,hello\n\nb,0.1,2,4,\n")
    frame, labels = usercsv.read_user_csv(p, "linreg")
    assert labels is None
    assert list(frame.columns) == ["x", "y", "yerr"]
    assert frame.to_dict("list") == {"x": [-1.5, 2.0], "y": [0.3, 4.0], "yerr": [0.2, 0.1]}


def test_group_labels_are_mapped_to_0_to_J_minus_1_in_label_order(tmp_path):
    p = write(tmp_path, GOOD_HIER.replace("40,", "40.0,"))
    frame, labels = usercsv.read_user_csv(p, "hier")
    assert labels == [-2, 7, 40]
    assert frame["group"].tolist() == [1, 0, 1, 2]
    assert frame["group"].dtype == np.int64
    assert list(frame.columns) == ["group", "x", "y", "yerr"]


def test_import_writes_the_data_contract_and_loads_for_fitting(tmp_path):
    src = write(tmp_path, GOOD_HIER)
    csv, meta_path = tmp_path / "data/hier/mine.csv", tmp_path / "data/hier/mine.json"
    make_dataset("hier", "mine", {"csv": str(src)}, csv, meta_path)
    meta = json.loads(meta_path.read_text())
    assert meta["truth"] == {} and meta["source"] == "csv" and meta["rows"] == 4
    assert meta["group_labels"] == [-2, 7, 40] and meta["groups"] == 3
    assert meta["sha256"] == usercsv.sha256(src)
    df = pd.read_csv(csv)
    assert list(df.columns) == ["group", "x", "y", "yerr"] and df["group"].tolist() == [1, 0, 1, 2]
    arrays, static, _ = load_dataset("hier", csv, meta_path)
    assert static == {"n_groups": 3}
    assert np.asarray(arrays["y"]).tolist() == [3.0, 4.0, 5.5, 9.0]
    assert not list(csv.parent.glob(".*.tmp"))


def test_invalid_csv_is_not_imported(tmp_path):
    src = write(tmp_path, "x,y,yerr\n1,2,0\n")
    out = tmp_path / "data/linreg/mine.csv"
    with pytest.raises(usercsv.CSVError):
        make_dataset("linreg", "mine", {"csv": str(src)}, out, out.with_suffix(".json"))
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_shipped_examples_are_valid():
    frame, _ = usercsv.read_user_csv(ROOT / "data/user/example_linreg.csv", "linreg")
    assert len(frame) == 20
    frame, labels = usercsv.read_user_csv(ROOT / "data/user/example_hier.csv", "hier")
    assert labels == [3, 7, 12, 40] and sorted(frame["group"].unique()) == [0, 1, 2, 3]


def study(datasets, model="linreg"):
    return {"models": {model: {"datasets": datasets, "methods": ["auto_normal"]}}}


def test_config_validates_the_csv_when_loaded(tmp_path):
    good = write(tmp_path, "x,y,yerr\n1,2,0.2\n", "good.csv")
    cfg = validate(study({"mine": {"csv": str(good)}}))
    assert cfg["models"]["linreg"]["datasets"]["mine"] == {"csv": str(good)}
    bad = write(tmp_path, "x,y,yerr\n1,2,0.2\n3,4,-1\n", "bad.csv")
    with pytest.raises(ConfigError) as err:
        validate(study({"ok": {"seed": 1}, "mine": {"csv": str(bad)}}))
    assert str(err.value) == (f"models.linreg.datasets.mine.csv: {bad}: column 'yerr', "
                              "row 2 (line 3): must be > 0, got '-1'")


@pytest.mark.parametrize("datasets, model, expected", [
    ({"mine": {"csv": "nope.csv"}}, "linreg", "models.linreg.datasets.mine.csv: nope.csv: file does not exist"),
    ({"mine": {"csv": "x.csv"}}, "coin", "models.coin.datasets.mine.csv: model coin takes no data file"),
    ({"mine": {"csv": "x.csv", "seed": 1}}, "linreg", "models.linreg.datasets.mine: unknown key 'seed' beside 'csv'"),
    ({"mine": {"csv": 3}}, "linreg", "models.linreg.datasets.mine.csv: 3 is not of type 'string'"),
    ({"mine": {"csv": " "}}, "linreg", "models.linreg.datasets.mine.csv: must be the path of a CSV file"),
    ({"mine": {"n": 10}}, "linreg", "models.linreg.datasets.mine: needs 'seed' (a simulated dataset) or 'csv'"),
    ({"mine": {"csv": "data/linreg/mine.csv"}}, "linreg",
     "models.linreg.datasets.mine.csv: data/linreg/mine.csv is inside data/<model>/"),
    ({"mine": {"csv": "./data/hier/../coin/x.csv"}}, "linreg",
     "models.linreg.datasets.mine.csv: ./data/hier/../coin/x.csv is inside data/<model>/"),
])
def test_config_errors_of_user_datasets(datasets, model, expected):
    with pytest.raises(ConfigError) as err:
        validate(study(datasets, model))
    assert str(err.value).startswith(expected), str(err.value)
