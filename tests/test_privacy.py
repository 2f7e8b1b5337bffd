"""Personal data never leaves the clean step; the pseudonym key is never written anywhere.

Two real runs of the CLI on copies of the bundled sample (2022 with 2021 beside it): one that
publishes, and one whose control total is 100 元 off so that validation fails (exit 3, a draft in
its run folder). Then every file under the output folder is read as what it is (HTML and text,
JSON and notebooks decoded, Parquet tables read, Word documents unzipped, anything else as bytes)
and searched for every name and ID number in the sample's raw ledgers (read here with
openpyxl/csv), for each ID's area code + birth date, and for anything shaped like a valid ID.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from edureport import paths
from edureport.ingest.ids import id_check_digit

from .conftest import SAMPLE_DIR, run_cli

KEY = secrets.token_hex(24)  # a known random key for these runs only
NAME_HEADERS = {"学生姓名", "姓名", "教师姓名", "人员姓名"}
ID_HEADERS = {"身份证号", "身份证号码", "证件号码", "证件号", "身份证"}
_ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_DIGITS = re.compile(r"[0-9Xx]{14,}")


# ---------------------------------------------------------------- what must not appear


@dataclass
class Personal:
    names: set[str]
    ids: set[str]

    @property
    def prefixes(self) -> set[str]:
        """Area code and birth date of each well-formed ID (its first 14 characters)."""
        return {i[:14] for i in self.ids if re.fullmatch(r"\d{17}[\dXx]", i)}


def _grids(path: Path) -> Iterator[list[list[str]]]:
    if path.suffix == ".csv":
        data = path.read_bytes()
        try:
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = data.decode("gb18030")
        yield list(csv.reader(io.StringIO(content, newline="")))
        return
    wb = openpyxl.load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        yield [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    wb.close()


def personal_values(folders: list[Path]) -> Personal:
    return _personal_values(tuple(folders))


@cache
def _personal_values(folders: tuple[Path, ...]) -> Personal:
    """Names and ID numbers in the raw ledgers: the cells under a name or ID header, and any
    cell anywhere that holds an 18-character ID."""
    names: set[str] = set()
    ids: set[str] = set()
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".csv", ".xlsx"):
                continue
            for grid in _grids(path):
                ids |= {m for row in grid for c in row for m in _ID_SHAPE.findall(c)}
                for i, row in enumerate(grid[:30]):
                    heads = [re.sub(r"\s", "", c) for c in row]
                    name_cols = [j for j, h in enumerate(heads) if h in NAME_HEADERS]
                    id_cols = [j for j, h in enumerate(heads) if h in ID_HEADERS]
                    if not name_cols and not id_cols:
                        continue
                    for below in grid[i + 1 :]:
                        names |= {below[j].strip() for j in name_cols if j < len(below)}
                        ids |= {below[j].strip().upper() for j in id_cols if j < len(below)}
                    break
    names.discard("")
    ids.discard("")
    return Personal(names, ids)


def project_words() -> set[str]:
    """Chinese text the project itself writes (code, resources, notebooks, expectations) and the
    county's own narrative and config: a 'name' found in these is an ordinary word (许可)."""
    sources = [
        *paths.PACKAGE_DIR.rglob("*.py"),
        *paths.RESOURCES_DIR.rglob("*"),
        *paths.TEMPLATES_DIR.rglob("*"),
        *paths.NOTEBOOKS_DIR.glob("*.ipynb"),
        *paths.EXPECTATIONS_DIR.rglob("*.json"),
        *SAMPLE_DIR.glob("*.md"),
        *SAMPLE_DIR.glob("*.yaml"),
    ]
    return {run for p in sources if p.is_file() for run in _CJK.findall(_text(p.read_bytes()))}


# ---------------------------------------------------------------- what the outputs say


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def readings(path: Path) -> Iterator[str]:
    """Every reading of one output file that a person could see or a program could decode."""
    data = path.read_bytes()
    yield _text(data)
    yield html.unescape(_text(data))
    if path.suffix in (".json", ".ipynb"):
        yield json.dumps(json.loads(data), ensure_ascii=False)
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        yield table.to_pandas().to_csv()
        yield str(table.schema.metadata)
    if data[:4] == b"PK\x03\x04":  # .docx and any other zip
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                body = _text(zf.read(member))
                yield body
                yield html.unescape(body)


def without_words(personal: Personal, words: set[str]) -> Personal:
    """The names that are not also ordinary words of the project's own text."""
    blob = "\n".join(words)
    return Personal({n for n in personal.names if n not in blob}, personal.ids)


def leaks(text: str, personal: Personal) -> set[str]:
    """Names, IDs, ID prefixes and valid-looking IDs found in ``text``."""
    found: set[str] = set()
    names = personal.names
    lengths = {len(n) for n in names}
    for run in _CJK.findall(text):
        for size in lengths:
            found |= {run[k : k + size] for k in range(len(run) - size + 1)} & names
    prefixes = personal.prefixes
    for run in _DIGITS.findall(text):
        upper = run.upper()
        found |= {upper[k : k + 18] for k in range(len(upper) - 17)} & personal.ids
        found |= {upper[k : k + 14] for k in range(len(upper) - 13)} & prefixes
    for candidate in _ID_SHAPE.findall(text):
        if _valid_id(candidate.upper()):
            found.add(candidate)
    return found


def _valid_id(s: str) -> bool:
    try:
        born = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2030 and id_check_digit(s[:17]) == s[17]


# ---------------------------------------------------------------- the runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """One output root holding a published run and a failed one; also their stdout/stderr."""
    root = tmp_path_factory.mktemp("privacy")
    county = root / "data" / paths.SAMPLE_COUNTY
    for year in ("2021", "2022"):
        shutil.copytree(SAMPLE_DIR.parent / year, county / year)
    passed = run_cli(root / "data", root / "out", KEY)
    assert passed.returncode == 0, passed.stderr
    control = next((county / "2022").glob("*拨付汇总*.csv"))
    content = control.read_bytes().decode("gb18030")
    line = content.splitlines()[1]
    cells = line.split(",")
    cells[-1] = f"{float(cells[-1]) + 100:.2f}"  # 100 元 more than the aid ledger paid
    control.write_bytes(content.replace(line, ",".join(cells), 1).encode("gb18030"))
    failed = run_cli(root / "data", root / "out", KEY)
    assert failed.returncode == 3, failed.stderr
    runs = list((root / "out" / paths.SAMPLE_COUNTY / "2022" / "runs").iterdir())
    assert len(runs) == 2
    outputs = [passed.stdout, passed.stderr, failed.stdout, failed.stderr]
    return root / "out", outputs


def test_the_scan_finds_what_it_looks_for() -> None:
    """The scan itself can fail: planted names and IDs are found in every reading."""
    personal = personal_values([SAMPLE_DIR.parent / "2021", SAMPLE_DIR])
    name, some_id = sorted(personal.names)[0], sorted(personal.ids)[0]
    assert leaks(f"<p>{name}</p>", personal) == {name}
    assert leaks(html.escape(f"{some_id}"), personal) >= {some_id}
    assert leaks(f"x{some_id[:14]}0000", personal) >= {some_id[:14]}
    assert leaks(json.dumps(name), personal) == set()  # hence the decoded readings
    assert name in json.dumps(json.loads(json.dumps(name)), ensure_ascii=False)


def test_sample_holds_personal_data() -> None:
    personal = personal_values([SAMPLE_DIR.parent / "2021", SAMPLE_DIR])
    assert len(personal.names) > 1000 and len(personal.ids) > 1000
    kept = without_words(personal, project_words())
    ordinary = personal.names - kept.names
    assert len(ordinary) < len(personal.names) / 100, sorted(ordinary)[:20]


@pytest.mark.slow
def test_no_personal_data_in_any_output(runs: tuple[Path, list[str]]) -> None:
    out, console = runs
    personal = without_words(
        personal_values([SAMPLE_DIR.parent / "2021", SAMPLE_DIR]), project_words()
    )
    files = [p for p in sorted(out.rglob("*")) if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".html", ".json", ".ipynb", ".csv", ".parquet", ".docx", ".log"} <= kinds
    found = {}
    for path in files:
        for reading in readings(path):
            hits = leaks(reading, personal)
            if hits:
                found[str(path.relative_to(out))] = sorted(hits)[:5]
    for i, text in enumerate(console):
        hits = leaks(text, personal)
        if hits:
            found[f"console {i}"] = sorted(hits)[:5]
    assert not found


@pytest.mark.slow
def test_key_is_never_written(runs: tuple[Path, list[str]]) -> None:
    out, console = runs
    for path in sorted(out.rglob("*")):
        if path.is_file():
            for reading in readings(path):
                assert KEY not in reading, path
    assert all(KEY not in text for text in console)
    for nb in out.rglob("*.ipynb"):
        meta = json.loads(nb.read_text(encoding="utf-8"))["metadata"].get("papermill", {})
        assert set(meta.get("parameters", {})) <= {"county", "year", "data_dir", "run_dir"}
        assert not meta.get("environment_variables")
    for params in out.rglob("parameters.json"):
        assert set(json.loads(params.read_text(encoding="utf-8"))) == {
            "county",
            "year",
            "data_dir",
            "run_dir",
        }


def test_a_short_key_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from edureport.errors import UsageError
    from edureport.ingest import pseudonym

    monkeypatch.setenv(pseudonym.KEY_ENV, "short-secret")
    with pytest.raises(UsageError, match="太短") as err:
        pseudonym.pseudonyms("id", ["x"])
    assert "short-secret" not in str(err.value)


@pytest.mark.parametrize("content", [b"", b"abc", b"a" * 64, b"ab" * 16, b"\n\n"])
def test_a_weak_key_file_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    from edureport.errors import EXIT_USAGE, UsageError
    from edureport.ingest import pseudonym

    path = tmp_path / "pseudonym.key"
    path.write_bytes(content)
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    monkeypatch.setenv(pseudonym.KEY_FILE_ENV, str(path))
    with pytest.raises(UsageError, match="太短或太简单") as err:
        pseudonym.pseudonyms("id", ["x"])
    assert err.value.exit_code == EXIT_USAGE
    assert not content or content.decode() not in str(err.value)


def test_a_repetitive_environment_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from edureport.errors import UsageError
    from edureport.ingest import pseudonym

    monkeypatch.setenv(pseudonym.KEY_ENV, "ab" * 20)  # 40 characters, 40 bits
    with pytest.raises(UsageError):
        pseudonym.pseudonyms("id", ["x"])


def test_a_generated_key_is_synced_strong_and_named_by_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from edureport.ingest import pseudonym

    path = tmp_path / "state" / "pseudonym.key"
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    monkeypatch.setenv(pseudonym.KEY_FILE_ENV, str(path))
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    key = pseudonym.key()
    assert len(synced) == 2  # the file, then its folder
    assert path.read_bytes() == key and len(key) == 64
    assert (path.stat().st_mode & 0o777) == 0o600
    assert not list(path.parent.glob(".*.tmp"))
    key_id = pseudonym.key_id()
    assert len(key_id) == 16 and key_id not in key.decode()
    path.write_text(secrets.token_hex(32))  # a rotated key has another id
    from edureport import keys

    keys._key.cache_clear()
    assert pseudonym.key_id() != key_id


def test_a_rotated_key_changes_the_run_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run after a key rotation is not skipped as "unchanged": every pseudonym changes."""
    from edureport import paths
    from edureport.ingest import pseudonym
    from edureport.runs import pipeline

    folder = paths.RAW_DIR / paths.SAMPLE_COUNTY / "2022"
    monkeypatch.setenv(pseudonym.KEY_ENV, secrets.token_hex(16))
    before, _ = pipeline.fingerprint(folder)
    assert pipeline.fingerprint(folder)[0] == before
    monkeypatch.setenv(pseudonym.KEY_ENV, secrets.token_hex(16))
    after, _ = pipeline.fingerprint(folder)
    assert after != before
