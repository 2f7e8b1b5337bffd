"""Export the executed report notebook to one self-contained HTML file with our template."""

from __future__ import annotations

from pathlib import Path

from edureport.paths import TEMPLATES_DIR

TEMPLATE = "edureport"


def export_html(notebook: Path, target: Path, title: str) -> Path:
    """Render ``notebook``'s report outputs (no code, no prompts) to ``target``."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES_DIR)])
    body, _ = exporter.from_filename(str(notebook), resources={"report_title": title})
    Path(target).write_text(body, encoding="utf-8")
    return Path(target)
