"""The SVG renderer: curves split into solid and dashed parts at the right point, bands, log-scaled forest plots,
accessible names, escaping, and charts drawn from real projections."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from mbcpath.report.svg import CurveSeries, ForestRow, forest_plot, survival_chart

NS = {"s": "http://www.w3.org/2000/svg"}


def _points(poly: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in poly.get("points", "").split()]  # type: ignore[misc]


def test_curve_is_solid_to_dashed_from_then_dashed():
    """A curve dashed from 24 months: the solid part ends and the dashed part starts at the same point, at 24."""
    s = CurveSeries(label="A", times=[0, 12, 36, 60], survival=[1.0, 0.8, 0.5, 0.3], dashed_from=24, key="1")
    root = ET.fromstring(survival_chart([s], title="PFS", x_max=60, width=640))
    solid = root.find("s:polyline[@stroke-width='2.2']", NS)
    dashed = root.find("s:polyline[@class='extrapolated']", NS)
    assert solid is not None and dashed is not None
    assert dashed.get("stroke-dasharray") == "6 4"
    ps, pd = _points(solid), _points(dashed)
    assert ps[-1] == pd[0]  # continuous at the split
    left, right = 52, 640 - 34
    assert abs(ps[-1][0] - (left + (right - left) * 24 / 60)) < 0.11
    # S(24) interpolated between 0.8 at 12 and 0.5 at 36 = 0.65; y = top + height * (1 - 0.65)
    assert abs(ps[-1][1] - (34 + 230 * 0.35)) < 0.11
    assert "dashed: extrapolated beyond follow-up" in ET.tostring(root, encoding="unicode")


def test_curve_without_dashed_from_is_solid_and_has_its_band():
    """No dashed_from: one solid line, a band polygon, and no extrapolation legend entry."""
    s = CurveSeries(label="B", times=[0, 6, 12], survival=[1, 0.7, 0.5], lower=[1, 0.6, 0.4], upper=[1, 0.8, 0.6])
    svg = survival_chart([s], title="OS")
    root = ET.fromstring(svg)
    assert root.find("s:polyline[@class='extrapolated']", NS) is None
    band = root.find("s:polygon", NS)
    assert band is not None and len(_points(band)) == 6
    assert "extrapolated" not in svg


def test_chart_is_accessible_and_escapes_text():
    """role=img with a <title> and <desc>; labels with markup characters are escaped."""
    s = CurveSeries(label="A <b> & co", times=[0, 12], survival=[1, 0.5], key="1")
    svg = survival_chart([s], title="PFS <x>", desc="rests on <trial>")
    root = ET.fromstring(svg)  # well-formed XML
    assert root.get("role") == "img"
    assert root.find("s:title", NS).text == "PFS <x>"  # type: ignore[union-attr]
    assert root.find("s:desc", NS).text == "rests on <trial>"  # type: ignore[union-attr]
    assert "A &lt;b&gt; &amp; co" in svg


def test_end_labels_do_not_overlap():
    """Two curves ending at the same survival get their rank labels at least 12 units apart."""
    a = CurveSeries(label="A", times=[0, 60], survival=[1, 0.0], key="1")
    b = CurveSeries(label="B", times=[0, 60], survival=[1, 0.0], key="2")
    svg = survival_chart([a, b], title="PFS")
    ys = sorted(float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)" fill="#[0-9a-f]+" font-weight="700">',
                                              svg))
    assert len(ys) == 2 and ys[1] - ys[0] >= 12


def test_forest_plot_log_scale():
    """HR 1 sits where the dashed reference line is; HR 0.5 and 2 are equidistant from it on the log axis."""
    rows = [ForestRow("T1 · PFS", 0.5, 0.4, 0.62, "PFS"), ForestRow("T2 · OS", 2.0, 1.6, 2.5, "OS", verified=False)]
    svg = forest_plot(rows, title="HR")
    root = ET.fromstring(svg)
    ref = root.find("s:line[@stroke-dasharray='3 3']", NS)
    x1 = float(ref.get("x1"))  # type: ignore[union-attr,arg-type]
    rects = root.findall("s:rect", NS)
    centres = [float(r.get("x")) + 5 for r in rects]  # type: ignore[arg-type]
    assert abs((x1 - centres[0]) - (centres[1] - x1)) < 0.2
    assert rects[0].get("fill") != "#ffffff" and rects[1].get("fill") == "#ffffff"  # open square: unverified
    assert "2.00 (1.60–2.50) *" in svg


def test_projection_chart_from_real_projections(kb):
    """Projections of the seed case: one SVG chart per basis (DESTINY-Breast09's arms together), options keyed
    by rank; an endpoint nobody projects gives no chart."""
    import json
    from pathlib import Path

    from mbcpath.domain.validation import parse_patient
    from mbcpath.engine import recommend
    from mbcpath.report.charts import projection_series, projection_svg
    from mbcpath.survival.chart import charts
    from mbcpath.survival.projection import project_options

    doc = json.loads((Path(__file__).resolve().parents[2] / "examples/patients/seed-01-first-line.json").read_text())
    rec = recommend(parse_patient(doc), kb)
    proj = project_options(rec, kb, n_draws=40)
    series = projection_series(proj, "pfs")
    ranks = [int(s.key) for s in series]
    assert ranks == sorted(ranks) and ranks[0] == 1
    svg = projection_svg(proj, "pfs")
    assert svg is not None and svg.count("<svg") == len(charts(proj, "pfs")) >= 1
    assert ET.fromstring(svg.split("\n<svg")[0] if svg.count("<svg") > 1 else svg).get("role") == "img"
    assert projection_svg(proj, "nope") is None
