"""Charts drawn with matplotlib in a CJK font, returned as PNG bytes."""

from __future__ import annotations

import io
from functools import cache

from edureport.report.figures import Registry, programmes

# Debian's fonts-noto-cjk (installed by `make setup` / .ci/run) and fonts-wqy-microhei.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "Source Han Sans SC")


@cache
def cjk_font() -> str:
    """The first installed CJK font; fails loudly rather than drawing empty boxes."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    raise RuntimeError(
        "没有找到中文字体 no CJK font installed: run `make setup` (Debian package fonts-noto-cjk)"
    )


def prepare() -> None:
    """Import matplotlib (Agg) and find the CJK font: the fixed cost of the first chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    cjk_font()


def _figure(width: float, height: float):
    import matplotlib.pyplot as plt

    prepare()
    plt.rcParams["font.family"] = [cjk_font()]
    plt.rcParams["axes.unicode_minus"] = False
    return plt.subplots(figsize=(width, height), dpi=110)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def aid_chart(reg: Registry) -> bytes:
    """Horizontal bars: aid amount (万元) per programme, labelled with amount and person-times."""
    labels, lengths, texts = [], [], []
    for p in reversed(programmes()):
        amount, count = reg[f"aid_{p['key']}_amount"], reg[f"aid_{p['key']}_count"]
        labels.append(p["label"].replace("学生免学费、免书费、免住宿费", "“三免”"))
        lengths.append(amount.value / 1_000_000)  # bar length only; the label is the exact text
        texts.append(f" {amount.text}（{count.text}）")
    fig, ax = _figure(7.5, 3.6)
    bars = ax.barh(labels, lengths, color="#8c1c13")
    for bar, label in zip(bars, texts, strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center", fontsize=9)
    ax.set_xlabel("资助金额（万元）")
    ax.set_title("学生资助资金分项目情况", fontsize=12)
    ax.set_xlim(0, max([*lengths, 1]) * 1.45)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def inspections_chart(reg: Registry) -> bytes:
    """Bars: private institutions passed, to rectify, closed; kindergartens approved."""
    keys = ("inspected_passed", "inspected_rectify", "unlicensed_closed", "kindergartens_approved")
    labels = ["检查合格", "限期整改", "取缔无证机构", "新审批幼儿园"]
    values = [reg[k].value for k in keys]
    fig, ax = _figure(6.0, 3.0)
    bars = ax.bar(labels, values, color=["#2e6f40", "#c48a1a", "#8c1c13", "#1f4e79"])
    ax.bar_label(bars, labels=[f"{v}所" for v in values], fontsize=9)
    ax.set_ylabel("机构数（所）")
    ax.set_title("民办教育机构监管情况", fontsize=12)
    ax.set_ylim(0, max([*values, 1]) * 1.2)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


CHARTS = {"aid": aid_chart, "inspections": inspections_chart}
