"""``edureport check``: read one county-year in seconds, without the notebooks, and list every
problem at once, one line each (the run itself stops at the first unreadable file)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edureport.errors import InputError


@dataclass(frozen=True)
class Finding:
    """One line of the check: ``error`` stops a run (exit 2 or 3); ``note`` does not."""

    level: str  # "error" | "note"
    text: str

    def line(self) -> str:
        mark = "✗ 错误" if self.level == "error" else "· 注意"
        return f"{mark} {self.text}"


def check_folder(folder: Path, year: int) -> list[Finding]:
    """Everything a run of ``folder`` would refuse or stop on, and what it would leave out."""
    from edureport.checks.policy import CONFIG_NAME, load_policy
    from edureport.checks.validate import set_aside_frame, stated_totals_frame
    from edureport.ingest.clean import EXCLUDED, clean_ledger, stated_records
    from edureport.ingest.ledgers import (
        LEDGERS,
        find_ledger,
        ledger_files,
        ledger_hits,
        read_ledger,
        spec,
    )
    from edureport.report import narrative

    folder = Path(folder)
    try:
        entries, files = ledger_files(folder)
    except InputError as exc:
        return [Finding("error", str(exc))]
    out: list[Finding] = []
    policy = None
    try:
        policy = load_policy(folder, year)
    except InputError as exc:
        out.append(Finding("error", str(exc)))
    if not (folder / CONFIG_NAME).is_file():
        out.append(Finding("note", f"没有 {CONFIG_NAME}：采用全国默认值，执法人员数不作核对"))
    if not (folder / narrative.NARRATIVE_FILE).is_file():
        out.append(Finding("note", f"没有 {narrative.NARRATIVE_FILE}：报告将按模板生成，须补写"))
    import pandas as pd

    asides, stated = [], []
    for name in LEDGERS:
        title = spec(name).title
        if spec(name).optional_ledger and not ledger_hits(name, files):
            keyword = spec(name).keyword
            out.append(Finding("note", f"没有{title}（可选，文件名含“{keyword}”）：其数字不可用"))
            continue
        try:
            path = find_ledger(name, folder, entries, files)
            raw = read_ledger(name, path)
        except InputError as exc:
            message = str(exc)
            out.append(Finding("error", message if title in message else f"{title}：{message}"))
            continue
        cleaned, aside = clean_ledger(raw, year)
        asides.append(aside)
        stated += [t for t in stated_records(raw) if not t["agrees"]]
        excluded = int((aside["kind"] == EXCLUDED).sum())
        summary = f"{title}（{path.name}）：数据行 {len(raw.frame)}，可用 {len(cleaned)}"
        summary += f"，剔除 {len(aside) - excluded}" + (f"，不计入 {excluded}" if excluded else "")
        out.append(Finding("note", summary))
        out += [Finding("note", f"{title}：{n}") for n in raw.notes]
    for r in stated_totals_frame(stated).itertuples(index=False):  # worded as validation does
        out.append(Finding("error", f"{r.file} 第{r.row}行：{r.item}"))
    if asides and policy is not None:
        frame = set_aside_frame(pd.concat(asides, ignore_index=True), policy.accepted)
        for r in frame[frame["accounted_by"].isna()].itertuples(index=False):
            out.append(
                Finding(
                    "error",
                    f"{r.file} 第{r.row}行被剔除（{r.item}），没有汇总表可核对："
                    "改正台账，或在 config.yaml 的 accepted_set_aside 中确认",
                )
            )
        for r in frame[frame["kind"] == "stale_acceptance"].itertuples(index=False):
            out.append(Finding("error", f"{r.file} 第{r.row}行：{r.item}"))
    if not (folder.parent / str(year - 1)).is_dir():
        out.append(Finding("note", f"没有上年（{year - 1}）的台账文件夹：报告不作同比"))
    return out
