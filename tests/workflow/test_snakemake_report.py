"""`snakemake --report` (what `make report` runs) on the tiny study: a zip holding every
figure with its category and caption."""

import zipfile

import pytest
from conftest import snakemake, study_of

pytestmark = pytest.mark.workflow


def test_snakemake_report_holds_every_figure(tiny_study):
    out = tiny_study / "results/report.zip"
    snakemake(tiny_study, "--report", str(out), config=tiny_study / "tiny.yaml")
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
    figures = study_of(tiny_study).figure_targets() + ["results/figures/scaling/scaling.png"]
    for path in figures:
        name = path.rsplit("/", 1)[-1]
        assert any(n.endswith(name) for n in names), path
    # the global page and the figure captions are in the report
    assert any(n.endswith("report.html") for n in names), names[:20]
