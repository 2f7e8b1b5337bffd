"""Charts draw every Chinese glyph with the CJK font the project's install brings."""

from __future__ import annotations

import warnings

import pytest

from edureport.report.charts import CHARTS, cjk_font
from edureport.report.figures import Registry, programmes


def _registry() -> Registry:
    reg = Registry()
    for i, p in enumerate(programmes()):
        reg.add(f"aid_{p['key']}_amount", p["label"], 1_000_000 * (i + 1), "万元", "aid")
        reg.add(f"aid_{p['key']}_count", p["label"], 10 * (i + 1), "人次", "aid")
    for key in (
        "inspected_passed",
        "inspected_rectify",
        "unlicensed_closed",
        "kindergartens_approved",
    ):
        reg.add(key, key, 3, "所", "inspections")
    return reg


def test_cjk_font_comes_from_the_installed_package() -> None:
    from matplotlib import font_manager

    path = font_manager.findfont(cjk_font(), fallback_to_default=False)
    assert "/usr/share/fonts" in path  # Debian's fonts-noto-cjk, installed by make setup


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_no_missing_glyph(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" fails the test
        png = CHARTS[name](_registry())
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
