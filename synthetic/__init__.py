"""Deterministic synthetic ledgers: the bundled sample county 示例县 and made-up batch counties.

Everything is drawn from ``random.Random`` (or a seeded numpy ``Generator``) seeded from the
``seed`` argument, so the same seed gives the same cells; saved workbooks carry fixed timestamps,
so the same seed gives the same bytes too. Nothing depends on the clock or on set order.

The code is in: vocabulary, targets, people, aid, others, cells, writers, sample, large.

A county-year is described by :class:`Targets` (every count and amount its *good* rows must
yield). :func:`write_county_year` writes its ledgers (the six required; the two optional ones
where the targets have them) in one of three styles:

``canonical``
    Six UTF-8 CSVs, header in line 1, canonical column names and values, no total rows.
``messy_xlsx`` (the 2022 sample)
    Aid ledger as a workbook: a 填表说明 sheet first, then 资助台账 with a merged title row, a
    填报单位 line, a blank row and a 合计 row; in a minority of rows stage short names
    (中职/职中/普高/学前), amounts as text (``1,000.00``, ``1000元``, ``1000``, full-width
    digits), dates as text (``2022-03-05``, ``2022/3/5``, ``2022.3.5``, ``2022年3月5日``) instead
    of Excel dates, full-width digits in a few IDs, stray spaces or a line break around a few
    school names. Control totals as a GBK CSV with a 合计 row; officers with a title row, one 在编
    written 正式 and one training-hours cell stored as text; exchange as a UTF-8-with-BOM CSV
    whose ID column is 证件号码, dates typed in several forms; inspections with a title row.
``messy_csv`` (the 2021 sample)
    Aid ledger as a GB18030 CSV headed 学校/姓名/金额(元) with a blank line and a 合计 line, short
    names 职业高中/高中/幼儿园/义务, amounts typed as above, dates also as Excel serial numbers, and
    one student whose name has a character outside GBK (䶮); control totals as above; exchange as
    a workbook with a title row; officers with one 在编 written 编内; inspections with dates typed
    as text; approvals as a plain UTF-8 CSV.

Bad rows (see :data:`BAD_KINDS`) are planted only on request; :class:`Manifest` lists each with
its file, row number as the analyst sees it (Excel row / CSV line) and column.
"""

from __future__ import annotations

from edureport.ingest.ids import id_check_digit
from synthetic.aid import AidRecord, _aid_records
from synthetic.large import write_large_aid_csv, write_large_county_year
from synthetic.others import (
    Approval,
    Exchange,
    Inspection,
    Officer,
    _approvals,
    _exchanges,
    _inspections,
    _Institutions,
    _officers,
)
from synthetic.people import _People, area_code, school_catalogue
from synthetic.sample import (
    SAMPLE_2021_BAD_ROWS,
    SAMPLE_2022_BAD_ROWS,
    SAMPLE_SEEDS,
    finished_narrative,
    sample_planted,
    write_county_year,
    write_sample,
)
from synthetic.targets import (
    AidLine,
    CaseCounts,
    Targets,
    TrainingLine,
    random_targets,
    targets_2021_sample,
    targets_2022_sample,
)
from synthetic.vocabulary import (
    AID_HEADER,
    APPROVAL_HEADER,
    BAD_KINDS,
    CONTROL_HEADER,
    EXCHANGE_HEADER,
    INSPECTION_HEADER,
    KEYWORDS,
    OFFICER_HEADER,
    STYLES,
)
from synthetic.writers import Manifest, PlantedRow

__all__ = [
    "AID_HEADER",
    "APPROVAL_HEADER",
    "BAD_KINDS",
    "CONTROL_HEADER",
    "EXCHANGE_HEADER",
    "INSPECTION_HEADER",
    "KEYWORDS",
    "OFFICER_HEADER",
    "SAMPLE_2021_BAD_ROWS",
    "SAMPLE_2022_BAD_ROWS",
    "SAMPLE_SEEDS",
    "STYLES",
    "AidLine",
    "AidRecord",
    "Approval",
    "CaseCounts",
    "Exchange",
    "Inspection",
    "Manifest",
    "Officer",
    "PlantedRow",
    "Targets",
    "TrainingLine",
    "_Institutions",
    "_People",
    "_aid_records",
    "_approvals",
    "_exchanges",
    "_inspections",
    "_officers",
    "area_code",
    "finished_narrative",
    "id_check_digit",
    "random_targets",
    "sample_planted",
    "school_catalogue",
    "targets_2021_sample",
    "targets_2022_sample",
    "write_county_year",
    "write_large_aid_csv",
    "write_large_county_year",
    "write_sample",
]
