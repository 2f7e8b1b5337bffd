"""Publishing a passing run: staged as a new version, switched in by one atomic rename of
``current``, stable names linked, old versions pruned; and recovering from a publish cut
short."""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edureport.runs.folder import (
    CURRENT,
    KEEP_VERSIONS,
    LEGACY_JOURNAL,
    PUBLISHED,
    RECORD,
    REPORT_HTML,
    STAGING,
    STATE,
    VERSIONS,
    _fsync_dir,
    _fsync_tree,
    _remove,
    now,
    read_json,
    write_json,
)
from edureport.runs.steps import sha256

# Called with the name of each publishing step before it is taken (tests kill the run there).
publish_hook: Callable[[str], None] | None = None


DISCARDED = (
    "发布未完成即被中止，已丢弃，此前发布的报告不变"
    " the publish was cut short before the switch and discarded; the previous report stays"
)


def published_version(target: Path) -> Path:
    """The folder holding the county-year's published files as one set: the version ``current``
    points at (read once, so a switch meanwhile does not mix two), or ``target`` itself when it
    has no version (nothing published yet, or plain files published before versions)."""
    name = _current(target)
    return target / VERSIONS / name if name else target


def publish(run_dir: Path, target: Path, finger: str, record: dict[str, Any]) -> str:
    """Publish a passing run: stage its results as a new version (``record``, the run record as
    published, is its ``run.json``), switch ``current`` to it — the commit, one atomic rename —
    then write the record to the run folder, make sure every published name is its link, and
    remove old versions. Returns the version's name."""
    state = {"fingerprint": finger, "run_id": run_dir.name, "published": now()}
    name = _stage(run_dir, target, state, record)
    _step("switch")
    _switch(target, name)
    _step("record")
    write_json(run_dir / RECORD, record)
    _step("links")
    _link_names(target)
    _step("prune")
    try:
        _prune(target)
    except OSError:  # an old version that cannot be removed now is removed by a later run
        pass
    _step("done")
    return name


def _step(name: str) -> None:
    if publish_hook is not None:
        publish_hook(name)


def _stage(
    source: Path, target: Path, state: dict[str, Any], record: dict[str, Any] | None = None
) -> str:
    """Copy the published entries of ``source`` (a run folder, or a folder of plain files being
    migrated) into ``versions/<seq>-<run-id>.partial/``, with ``record`` as its run.json when
    given and ``published.json`` (``state`` and a SHA-256 manifest of every file); flush it to
    disk and rename it to ``versions/<seq>-<run-id>/``. Returns that name."""
    versions = target / VERSIONS
    versions.mkdir(exist_ok=True)
    name = f"{_next_seq(versions):06d}-{state.get('run_id') or 'legacy'}"
    stage = versions / f"{name}{STAGING}"
    _remove(stage)
    stage.mkdir()
    for entry in PUBLISHED:
        _step(f"stage {entry}")
        src, dst = source / entry, stage / entry
        if entry == RECORD and record is not None:
            write_json(dst, record)
        elif src.is_dir():
            shutil.copytree(src, dst)
        elif src.is_file():
            shutil.copy2(src, dst)
    _step(f"stage {STATE}")
    files = {
        p.relative_to(stage).as_posix(): sha256(p)
        for p in sorted(stage.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }
    write_json(stage / STATE, {**state, "version": name, "files": files})
    _fsync_tree(stage)
    _step("seal")
    os.replace(stage, versions / name)
    _fsync_dir(versions)
    return name


def _switch(target: Path, name: str) -> None:
    """Point ``current`` at ``versions/<name>``: a new link renamed over the old one, atomic."""
    tmp = target / f".{CURRENT}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(f"{VERSIONS}/{name}", tmp, target_is_directory=True)
    _put_link(tmp, target / CURRENT)
    _fsync_dir(target)


def _link_names(target: Path) -> None:
    """Make each published name the link ``<name> -> current/<name>`` (made once; a plain file
    or folder left from before versions is replaced by its link in one rename: its content is
    the current version's already, so the name never goes missing)."""
    for name in (*PUBLISHED, STATE):
        path, want = target / name, f"{CURRENT}/{name}"
        if path.is_symlink() and os.readlink(path) == want:
            continue
        _step(f"link {name}")
        tmp = target / f".{name}.link.tmp"
        _remove(tmp)
        os.symlink(want, tmp)
        _put_link(tmp, path)
    _fsync_dir(target)


def _put_link(link: Path, path: Path) -> None:
    """Rename the new symlink ``link`` to ``path`` (atomic). A real folder at ``path`` (left from
    before versions, or by a copy of the output that followed the links) cannot be renamed over:
    it is swapped out in one exchange where the system has one, else moved aside first (then
    ``path`` is absent for an instant)."""
    if path.is_dir() and not path.is_symlink():
        if _exchange(link, path):  # the link takes its place, the folder goes to ``link``
            _remove(link)
            return
        old = path.with_name(f".{path.name}.old")
        _remove(old)
        os.replace(path, old)
        os.replace(link, path)
        _remove(old)
    else:
        os.replace(link, path)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False
    where that is not available (another system, an old kernel or C library, the file system)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


_VERSION_NAME = re.compile(r"(\d{6,})-(.+?)(" + re.escape(STAGING) + r")?")


def _current(target: Path) -> str | None:
    """The name of the version ``current`` points at, or None (no version published)."""
    try:
        link = Path(os.readlink(target / CURRENT))
    except OSError:
        return None
    if link.parent != Path(VERSIONS) or not (target / VERSIONS / link.name).is_dir():
        return None
    return link.name


def _published_run(target: Path) -> str | None:
    """The run id of the version ``current`` points at, or None."""
    if not _current(target):
        return None
    return read_json(published_version(target) / STATE).get("run_id")


def _next_seq(versions: Path) -> int:
    seqs = [int(m.group(1)) for p in versions.iterdir() if (m := _VERSION_NAME.fullmatch(p.name))]
    return max(seqs, default=0) + 1


def _prune(target: Path) -> set[str]:
    """Remove the versions not kept: those never switched to (staged, or sealed and cut before
    the switch: numbered after the current one; all of them when there is none), and all but
    the last KEEP_VERSIONS up to the current one. Returns the run ids of those never switched
    to. Only names of the form ``<seq>-<run-id>`` are touched."""
    versions = target / VERSIONS
    if not versions.is_dir():
        return set()
    current = _current(target)
    top = int(current.split("-", 1)[0]) if current else 0
    never, before = set(), []
    for path in versions.iterdir():
        m = _VERSION_NAME.fullmatch(path.name)
        if not m or path.name == current:
            continue
        if m.group(3) or int(m.group(1)) > top:
            never.add(m.group(2))
            _remove(path)
        else:
            before.append((int(m.group(1)), path))
    for _, path in sorted(before)[: max(0, len(before) - (KEEP_VERSIONS - 1))]:
        _remove(path)
    return never


def _discard_staged(target: Path) -> None:
    """After a publish cut before its switch: remove what it staged (best effort; otherwise the
    next run does)."""
    try:
        _prune(target)
        for leftover in target.glob(".*.tmp"):
            _remove(leftover)
    except OSError:
        pass


def _legacy(target: Path) -> bool:
    """Whether ``target`` holds a publication from before versions: plain files, no ``current``."""
    if _current(target):
        return False
    names = (*PUBLISHED, STATE)
    return (target / LEGACY_JOURNAL).exists() or any(
        (target / n).exists() and not (target / n).is_symlink() for n in names
    )


def _migrate(target: Path, progress: Callable[[str], None]) -> None:
    """Make the plain files published before versions existed the first version: a copy is
    staged and switched in, then each plain name is replaced by its link (whose content is the
    same), so the last good report is there throughout. If that release's publish was cut short
    (its journal is left), the files may be mixed: the first version is then the run it was
    publishing if that run was recorded published (kill -9: that release would have finished
    it), else the publication it was replacing, from its run folder."""
    source, state = target, read_json(target / STATE)
    journal = read_json(target / LEGACY_JOURNAL)
    if journal:
        cut = target / "runs" / str(journal.get("run_id", ""))
        before = target / "runs" / str(state.get("run_id", ""))
        if read_json(cut / RECORD).get("status") == "published" and _whole(cut):
            source = cut
            state = {"fingerprint": journal.get("fingerprint"), "run_id": cut.name}
            state["published"] = now()
        elif state.get("run_id") and _whole(before):
            source = before
        else:  # no whole copy: keep what readers have, but never skip the next run
            state = {}
    name = _stage(source, target, state)
    _step("switch")
    _switch(target, name)
    _link_names(target)
    (target / LEGACY_JOURNAL).unlink(missing_ok=True)
    progress(
        f"已发布的文件已迁移为版本 {VERSIONS}/{name}"
        f" migrated the published files to {VERSIONS}/{name}"
    )


def _whole(run_dir: Path) -> bool:
    return (run_dir / REPORT_HTML).is_file() and (run_dir / RECORD).is_file()
