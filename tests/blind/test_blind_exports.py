"""Blind end-to-end tests: ledgers exported the way real offices do (see exports.py).

Each case writes one county-year folder (one messy ledger, the others in base form), runs
``edureport run`` in a subprocess and checks:
- "publish": exit 0, report.html published, every expected figure equal in figures.json;
- "refuse":  exit 2 or 3 and no report.html published;
- "either":  published with every figure exact, or refused (never published wrong);
- always: no Python traceback in the output, and no generated name or ID number in any file
  under the output folder.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("blind_exports", _HERE / "exports.py")
assert _spec and _spec.loader
exports = importlib.util.module_from_spec(_spec)
sys.modules["blind_exports"] = exports
_spec.loader.exec_module(exports)

KEY = "blind-test-key-0123456789abcdefg"  # 32 characters
TIMEOUT = 300


def _cli() -> str:
    beside = Path(sys.executable).parent / "edureport"
    if beside.exists():
        return str(beside)
    return str(_HERE.parents[1] / ".venv" / "bin" / "edureport")


# ---------------------------------------------------------------------------------------------
# fast: the generator's truth is self-consistent
# ---------------------------------------------------------------------------------------------


def test_expected_figures_are_self_consistent() -> None:
    c = exports.generate()
    fig = exports.expected_figures(c)
    stems = list(exports.PROGRAMMES)
    assert sum(fig[f"{s}_count"] for s in stems) == fig["aid_total_count"] == len(c.aid)
    assert sum(fig[f"{s}_amount"] for s in stems) == fig["aid_total_amount"]
    assert 200 <= fig["aid_total_count"] <= 500
    control = exports.control_rows(c)
    assert sum(n for *_, n, _ in control) == fig["aid_total_count"]
    assert sum(fen for *_, fen in control) == fig["aid_total_amount"]
    assert fig["exchange_teachers"] + fig["exchange_principals"] == fig["exchange_total"]
    assert fig["officers_total"] == fig["officers_certified"] == len(c.officers) == 10
    assert fig["officers_non_staff"] == 0
    assert (
        fig["inspected_passed"] + fig["inspected_rectify"] + fig["unlicensed_closed"]
        == (fig["inspected_total"])
    )
    # every figure is positive except the deliberate zero
    assert all(v > 0 for k, v in fig.items() if k != "officers_non_staff"), fig
    # one row = one disbursement to one student, one programme, one term
    keys = [(a.id, a.programme, a.stage, a.term) for a in c.aid]
    assert len(keys) == len(set(keys))
    # standards
    for a in c.aid:
        assert a.fen > 0 and a.paid.year == exports.YEAR
        if a.key in exports.STANDARD_FEN:
            assert a.fen == exports.STANDARD_FEN[a.key]
        if a.key == "aid_highschool_grant":
            assert a.fen in (50000, 100000)
        if a.key == "aid_highschool_poor":
            assert a.poor == "是"
    # IDs: valid GB 11643 check digits, real area codes; one person one ID
    people = [(a.name, a.id) for a in c.aid] + [(e.name, e.id) for e in c.exchange]
    assert all(exports.id_is_valid(i) and i[:6] in exports.AREAS for _, i in people)
    assert len({n for n, _ in people}) == len({i for _, i in people}) == len(set(people))
    # the twins: two rotation teachers whose IDs agree in their first 15 digits
    rotation = [e for e in c.exchange if e.kind == "交流轮岗"]
    prefixes = [e.id[:15] for e in rotation]
    assert len(set(prefixes)) == len(prefixes) - 1
    # 走教: every 原学校 is also served, so both readings of "schools served" agree
    itinerant = [e for e in c.exchange if e.kind == "走教"]
    served = {e.to_school for e in itinerant}
    assert {e.from_school for e in itinerant} <= served
    assert fig["itinerant_schools"] == len(served | {e.from_school for e in itinerant})
    assert not {e.id for e in itinerant} & {e.id for e in rotation}
    assert len(rotation) == fig["exchange_total"]  # one row per rotation person
    assert 35 <= len(c.exchange) <= 45 and 25 <= len(c.inspections) <= 35
    # officers: distinct certificates, all valid on the report date, enough training
    certs = [o.cert for o in c.officers] + [o.cert for o, _ in c.former_officers]
    assert len(set(certs)) == len(certs)
    assert all(o.hours >= 40 for o in c.officers)
    # names never collide with the narrative (so the privacy scan has no false positives)
    narrative = exports.NARRATIVE.read_text(encoding="utf-8")
    assert not [p for p in c.personal() if p in narrative]
    # the generator is deterministic
    assert exports.expected_figures(exports.generate.__wrapped__()) == fig
    names = [cs.name for cs in exports.CASES]
    assert len(names) == len(set(names)) and len(names) >= 25


# ---------------------------------------------------------------------------------------------
# privacy scan
# ---------------------------------------------------------------------------------------------


def _texts(path: Path) -> Iterator[str]:
    data = path.read_bytes()
    text = data.decode("utf-8", "ignore")
    yield text
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        yield data.decode("utf-16", "ignore")
    yield data.decode("gb18030", "ignore")
    suffix = path.suffix.lower()
    if suffix in {".json", ".ipynb"}:
        try:
            yield json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    if suffix in {".html", ".htm", ".xml", ".svg"}:
        yield html.unescape(text)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                body = zf.read(member).decode("utf-8", "ignore")
                yield body
                yield html.unescape(body)
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            yield json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)
        except Exception as exc:  # still scanned as bytes above
            yield f"<parquet unreadable: {exc}>"


def _leaks(out_root: Path, personal: set[str]) -> list[str]:
    found = []
    needles = personal | {p.lower() for p in personal}
    for path in sorted(p for p in out_root.rglob("*") if p.is_file()):
        hits: set[str] = set()
        for text in _texts(path):
            hits |= {n for n in needles if n in text}
        if hits:
            found.append(f"{path.relative_to(out_root)}: {sorted(hits)[:5]}")
    return found


# ---------------------------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------------------------


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _key_message(output: str) -> str:
    """The gist of a run's output: rows set aside, the first failed check or error."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    set_aside = [ln for ln in lines if "剔除" in ln and "剔除 0" not in ln and "：数据行" in ln]
    failed = [ln for ln in lines if ln.startswith("✗")]
    errors = [ln for ln in lines if "错误" in ln or "error" in ln.lower()]
    parts = [*set_aside, *failed[:1], *errors[:1]]
    if not parts and lines:
        parts = [lines[-1]]
    return " | ".join(p[:220] for p in parts)


def _figure_diffs(figures_path: Path, expected: dict[str, int]) -> list[str]:
    if not figures_path.exists():
        return ["figures.json missing"]
    got = json.loads(figures_path.read_text(encoding="utf-8"))
    diffs = []
    for key, want in expected.items():
        if key not in got:
            diffs.append(f"{key}: expected {want}, missing")
            continue
        value = got[key].get("value") if isinstance(got[key], dict) else got[key]
        if value != want:
            diffs.append(f"{key}: expected {want}, got {value!r}")
    return diffs


def run_county(
    data_root: Path, out_root: Path, cwd: Path, county: str, year: int
) -> tuple[subprocess.CompletedProcess[str], str, Path, bool]:
    """`edureport run` of one county-year as a user would start it (the test key, no key file):
    the process, its whole output, the county's output folder, whether a report was published."""
    env = {k: v for k, v in os.environ.items() if k != "EDUREPORT_KEY_FILE"}
    env["EDUREPORT_PSEUDONYM_KEY"] = KEY
    cmd = [_cli(), "run", "--county", county, "--year", str(year), "--data", str(data_root),
           "--out", str(out_root)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    county_out = out_root / county / str(year)
    return proc, proc.stdout + proc.stderr, county_out, (county_out / "report.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize("cs", exports.CASES, ids=[cs.name for cs in exports.CASES])
def test_blind_export(cs, tmp_path: Path) -> None:
    data_root = tmp_path / "data"
    out_root = tmp_path / "out"
    _, personal = exports.write_case(cs, data_root)
    expected = exports.expected_figures(exports.generate())
    proc, output, county_out, published = run_county(
        data_root, out_root, tmp_path, exports.COUNTY, exports.YEAR
    )

    problems: list[str] = []
    if "Traceback (most recent call last)" in output:
        problems.append("a Python traceback in the output")
    diffs: list[str] = []
    if proc.returncode == 0:
        if not published:
            problems.append("exit 0 but report.html not published")
        diffs = _figure_diffs(county_out / "figures.json", expected)
        if cs.expect == "refuse":
            problems.append("published, but this input must be refused")
        elif diffs:
            problems.append("published with wrong figures")
    elif proc.returncode in (2, 3):
        if published:
            problems.append(f"exit {proc.returncode} but report.html exists")
        if cs.expect == "publish":
            problems.append("refused, but this input must be published")
    else:
        problems.append(f"unexpected exit code {proc.returncode}")
    leaks = _leaks(out_root, personal) if out_root.exists() else []
    if leaks:
        problems.append("personal data in the outputs")

    outcome = "published" if published else "refused" if proc.returncode in (2, 3) else "?"
    print(
        f"OUTCOME {cs.name}: expect={cs.expect} exit={proc.returncode} {outcome}"
        f" diffs={diffs or 'none'} leaks={len(leaks)} :: {_key_message(output)}"
    )
    if problems:
        report = [
            f"case {cs.name} [{cs.ledger}] expect={cs.expect}: {cs.what}",
            f"exit code {proc.returncode}; published={published}",
            *(f"PROBLEM: {p}" for p in problems),
            *(f"  figure {d}" for d in diffs),
            *(f"  leak {x}" for x in leaks[:10]),
            "--- stdout (tail) ---",
            _tail(proc.stdout),
            "--- stderr (tail) ---",
            _tail(proc.stderr),
        ]
        pytest.fail("\n".join(report), pytrace=False)
