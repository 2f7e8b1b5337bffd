"""Blind end-to-end tests of the two optional ledgers (法治培训台账, 行政复议和行政应诉案件台账).

Written from the contract only (see optional_exports.py). Each case writes one county-year folder
(the six required ledgers in base form, the optional ledgers as the case says, a narrative that
uses their figures), runs ``edureport run`` in a subprocess and checks:
- "publish": exit 0, report.html published, every expected figure exact in figures.json (rates
  in tenths of a percent, half-up), absent figures absent, the narrative's sentence filled in;
- "refuse":  the contract's exit code (3: a set-aside row or a failed check; 2: bad input),
  nothing published, the ledger named in the output;
- always: no Python traceback, no generated name or ID number anywhere under the output folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.blind import exports
from tests.blind import optional_exports as opt
from tests.blind.test_blind_exports import (
    _key_message,
    _leaks,
    _tail,
    run_county,
)

# ---------------------------------------------------------------------------------------------
# fast: the truth is self-consistent
# ---------------------------------------------------------------------------------------------


def test_true_records_are_self_consistent() -> None:
    o = opt.generate()
    fig = opt.expected_figures(o)
    infixes = list(opt.AUDIENCES.values())
    for what in ("sessions", "participants", "hours"):
        assert sum(fig[f"training_{i}_{what}"] for i in infixes) == fig[f"training_{what}"]
        assert all(fig[f"training_{i}_{what}"] > 0 for i in infixes)
    assert fig["training_sessions"] == len(o.training) == sum(opt.SESSIONS.values())
    for t in o.training:
        assert t.day.year == opt.YEAR and t.participants > 0 and t.hours > 0
        assert t.audience in opt.AUDIENCES and t.topic
    nos = [c.no for c in o.cases]
    assert len(nos) == len(set(nos))
    for c in o.cases:
        assert c.received.year == opt.YEAR
        assert c.outcome in opt.OUTCOME_VARIANTS
        assert (c.appeared in ("是", "否")) == (c.type == "行政诉讼")
    assert fig["cases_review"] + fig["cases_litigation"] == fig["cases_total"]
    assert fig["cases_review_corrected"] == 3 and fig["cases_litigation_lost"] == 2
    assert (fig["cases_principal_appeared"], fig["cases_litigation"]) == (13, 16)
    # 13/16 = 81.25 %: half-up 81.3 % (a half-even rounding would give 81.2 %)
    assert fig["cases_principal_rate"] == 813
    assert opt.rate_tenths(7, 8) == 875 and opt.rate_tenths(1, 3) == 333
    assert opt.rate_tenths(2, 3) == 667 and opt.rate_tenths(1, 16) == 63
    assert opt.cases_figures(opt._only_reviews(o))["cases_principal_rate"] is None
    # the personal names written into 培训主题 / 案由 are used and never in a narrative
    written = "".join(t.topic for t in o.training) + "".join(c.cause for c in o.cases)
    assert all(n in written for n in o.names)
    texts = opt.narrative(opt.NARRATIVE_EXTRA) + opt.NARRATIVE_CASES
    assert not [n for n in o.personal() | exports.generate().personal() if n in texts]
    # deterministic
    assert opt.generate.__wrapped__() == o
    names = [cs.name for cs in opt.CASES]
    assert len(names) == len(set(names))


def test_narrative_has_no_typed_number() -> None:
    """The added paragraphs hold no digit or Chinese numeral outside a reference."""
    for extra in (opt.NARRATIVE_EXTRA, opt.NARRATIVE_CASES):
        bare = re.sub(r"\{\{[^}]*\}\}", "", extra)
        assert not re.search(r"[0-9０-９零〇二两三四五六七八九十百千万]", bare), bare


# ---------------------------------------------------------------------------------------------
# end to end
# ---------------------------------------------------------------------------------------------


def _value(entry: object) -> object:
    return entry.get("value") if isinstance(entry, dict) else entry


def _figure_problems(figures_path: Path, cs: opt.Case) -> list[str]:
    if not figures_path.exists():
        return ["figures.json missing"]
    got = json.loads(figures_path.read_text(encoding="utf-8"))
    o = opt.generate()
    out = []
    for key, want in cs.figures(o).items():
        if want is None:
            continue  # absent: checked below
        if key not in got:
            out.append(f"{key}: expected {want}, missing")
        elif _value(got[key]) != want:
            out.append(f"{key}: expected {want}, got {_value(got[key])!r}")
    for key in cs.absent_keys:
        if key in got and _value(got[key]) is not None:
            out.append(f"{key}: expected absent, got {_value(got[key])!r}")
    rate = cs.figures(o).get("cases_principal_rate")
    if rate is not None and isinstance(got.get("cases_principal_rate"), dict):
        text = got["cases_principal_rate"].get("text")
        want_text = f"{rate // 10}.{rate % 10}%"
        if text is not None and text != want_text:
            out.append(f"cases_principal_rate text: expected {want_text}, got {text!r}")
    # the required ledgers' figures are unchanged by the optional ones
    for key, want in exports.expected_figures(exports.generate()).items():
        if key in got and _value(got[key]) != want:
            out.append(f"{key}: expected {want}, got {_value(got[key])!r}")
    return out


def _report_text(path: Path) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


@pytest.mark.slow
@pytest.mark.parametrize("cs", opt.CASES, ids=[cs.name for cs in opt.CASES])
def test_blind_optional_ledger(cs: opt.Case, tmp_path: Path) -> None:
    data_root = tmp_path / "data"
    out_root = tmp_path / "out"
    _, personal = opt.write_case(cs, data_root)
    proc, output, county_out, published = run_county(
        data_root, out_root, tmp_path, opt.COUNTY, opt.YEAR
    )

    problems: list[str] = []
    if "Traceback (most recent call last)" in output:
        problems.append("a Python traceback in the output")
    diffs: list[str] = []
    if cs.expect == "publish":
        if proc.returncode != 0 or not published:
            problems.append(f"must publish: exit {proc.returncode}, published={published}")
        else:
            diffs = _figure_problems(county_out / "figures.json", cs)
            if diffs:
                problems.append("published with wrong figures")
            if cs.narrative == opt.NARRATIVE_EXTRA:
                text = _report_text(county_out / "report.html")
                fig = cs.figures(opt.generate())
                missing = [p for p in opt.filled_phrases(fig) if p not in text]
                if missing:
                    problems.append(f"report.html lacks the filled sentence parts {missing}")
            if cs.report_mentions:
                text = _report_text(county_out / "report.html")
                missing = [m for m in cs.report_mentions if m not in text]
                if missing:
                    problems.append(f"report.html does not show {missing}")
    else:
        if published or (county_out / "figures.json").exists():
            problems.append("something was published, but this input must be refused")
        if proc.returncode not in cs.exit_codes:
            problems.append(f"exit {proc.returncode}, the contract says {cs.exit_codes}")
        missing = [m for m in cs.must_mention if m not in output]
        if missing:
            problems.append(f"the output does not name {missing}")
    leaks = _leaks(out_root, personal) if out_root.exists() else []
    if leaks:
        problems.append("personal data in the outputs")

    print(
        f"OUTCOME {cs.name}: expect={cs.expect} exit={proc.returncode} published={published}"
        f" diffs={diffs or 'none'} leaks={len(leaks)} :: {_key_message(output)}"
    )
    if problems:
        report = [
            f"case {cs.name} expect={cs.expect}: {cs.what}",
            f"exit code {proc.returncode}; published={published}",
            *(f"PROBLEM: {p}" for p in problems),
            *(f"  figure {d}" for d in diffs),
            *(f"  leak {x}" for x in leaks[:10]),
            "--- stdout (tail) ---",
            _tail(proc.stdout, 40),
            "--- stderr (tail) ---",
            _tail(proc.stderr, 40),
        ]
        pytest.fail("\n".join(report), pytrace=False)
