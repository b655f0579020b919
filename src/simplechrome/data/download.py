"""Download the DeepChrome data (Zenodo record 2652278, ``data.tar.gz``) and unpack chosen cells.

Built on pooch: pooch names, caches and hash-checks the archive; the downloader given to it
resumes an interrupted transfer with HTTP Range requests from a kept ``.part`` file. The
archive's SHA-256 is recorded beside it after the first complete, intact download, and every
later use is verified against it.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tarfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

import pooch
import requests
from tqdm.auto import tqdm

from .._io import atomic_directory, atomic_write, home
from ..errors import DownloadError, InputError
from .annotation import ROADMAP_CELLS
from .cache import file_hash

log = logging.getLogger(__name__)

ZENODO_URL = "https://zenodo.org/records/2652278/files/data.tar.gz?download=1"
ARCHIVE_NAME = "data.tar.gz"


def downloads_dir() -> Path:
    return home() / "downloads"


def data_dir() -> Path:
    """Where downloaded cells are unpacked: ``$SIMPLECHROME_HOME/data/<EID>``."""
    return home() / "data"


class ResumableDownloader:
    """A pooch downloader that resumes from ``<archive>.part`` with HTTP Range requests.

    Each connection failure is retried (``retries`` times) from the bytes already on disk; a
    transfer that still ends short raises ``DownloadError`` and keeps the part file, so running
    the command again continues where it stopped.
    """

    def __init__(self, part: Path, *, progress: bool = True, retries: int = 5, timeout: float = 60):
        self.part = part
        self.progress = progress
        self.retries = retries
        self.timeout = timeout

    def __call__(
        self, url: str, output_file: str, pooch_obj: object, check_only: bool = False
    ) -> bool | None:
        if check_only:
            return True
        self.part.parent.mkdir(parents=True, exist_ok=True)
        self.total: int | None = None  # learnt from the first response's headers
        bar = tqdm(
            total=None,
            unit="B",
            unit_scale=True,
            desc=ARCHIVE_NAME,
            disable=not self.progress,
            leave=False,
        )
        with bar:
            for attempt in range(self.retries + 1):
                try:
                    self._fetch(url, self._have(), bar)
                except (
                    requests.ConnectionError,
                    requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                ) as exc:
                    log.warning(
                        "connection lost (%s); resuming (%d/%d)", exc, attempt + 1, self.retries
                    )
                else:
                    if self.total is None:  # no length announced: an unbroken stream is whole
                        self.total = self._have()
                if self.total is not None and self._have() >= self.total:
                    break
            if self.total is None or self._have() < self.total:
                raise DownloadError(
                    f"{url}: download stopped at {self._have()} of {self.total or '?'} bytes; "
                    "run the same command again to resume"
                )
        shutil.copyfile(self.part, output_file)
        self.part.unlink()
        return None

    def _have(self) -> int:
        return self.part.stat().st_size if self.part.exists() else 0

    def _fetch(self, url: str, have: int, bar: tqdm) -> None:
        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as resp:
            if resp.status_code == 416:  # nothing left to send
                self.total = have
                return
            if resp.status_code not in (200, 206):
                raise DownloadError(f"{url}: server answered HTTP {resp.status_code}")
            if resp.status_code == 200 and have:
                have = 0  # the server ignored Range: start over
            length = resp.headers.get("Content-Length")
            if length is not None:
                self.total = have + int(length)
            bar.total, bar.n = self.total, have
            bar.refresh()
            with open(self.part, "ab" if have else "wb") as fh:
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    fh.write(chunk)
                    bar.update(len(chunk))


def fetch_archive(url: str = ZENODO_URL, *, progress: bool = True) -> Path:
    """The archive, downloaded once (resumably) and verified against its recorded SHA-256."""
    folder = downloads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / ARCHIVE_NAME
    record = folder / f"{ARCHIVE_NAME}.sha256"
    known = record.read_text().strip() if record.exists() else None
    downloader = ResumableDownloader(folder / f"{ARCHIVE_NAME}.part", progress=progress)
    pooch.get_logger().setLevel(logging.WARNING)  # it announces downloads on stderr itself
    try:
        path = Path(
            pooch.retrieve(
                url,
                known_hash=f"sha256:{known}" if known else None,
                fname=ARCHIVE_NAME,
                path=folder,
                downloader=downloader,
                progressbar=False,
            )
        )
    except ValueError as exc:  # pooch: hash mismatch
        archive.unlink(missing_ok=True)
        raise DownloadError(
            f"{url}: the download does not match the recorded SHA-256 {known} ({exc}); "
            f"delete {record} if the record itself changed"
        ) from None
    except requests.RequestException as exc:
        raise DownloadError(f"{url}: {exc}") from None
    if known is None:
        _check_archive(path)
        with atomic_write(record) as fh:
            fh.write(file_hash(path) + "\n")
    return path


def unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why a tar member must not be unpacked (it could write outside the data folder), or
    ``None``: an absolute path, a ``..`` component, a symbolic or hard link, a device."""
    name = member.name
    if name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute() or ":" in name[:3]:
        return "an absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "a '..' component"
    if member.issym() or member.islnk():
        return f"a link (to {member.linkname!r})"
    if member.isdev() or member.isfifo():
        return "a device or pipe"
    return None


def _refuse(path: Path, member: tarfile.TarInfo, reason: str) -> DownloadError:
    """Remove an archive that tries to escape (and its recorded hash); the error to raise."""
    path.unlink(missing_ok=True)
    (path.parent / f"{ARCHIVE_NAME}.sha256").unlink(missing_ok=True)
    return DownloadError(
        f"{path}: member {member.name!r} is {reason}, which could write outside the data "
        "folder; the archive was refused and removed (nothing was unpacked)"
    )


def _check_archive(path: Path) -> None:
    """Read the whole archive once: gzip CRC and tar structure catch truncation and corruption,
    and a member that could write outside the data folder refuses the archive."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                reason = unsafe_member(member)
                if reason is not None:
                    raise _refuse(path, member, reason)
                if member.isfile():
                    fh = tar.extractfile(member)
                    while fh is not None and fh.read(1 << 20):
                        pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        path.unlink(missing_ok=True)
        raise DownloadError(
            f"{path}: the archive is truncated or corrupted ({exc}); it was removed, download again"
        ) from None


def resolve_cells(cells: Iterable[str], *, all_cells: bool = False) -> list[str]:
    if all_cells:
        return list(ROADMAP_CELLS)
    out = []
    for c in cells:
        eid = c.strip().upper()
        if eid not in ROADMAP_CELLS:
            raise InputError(
                f"{c!r} is not one of the 56 Roadmap cells with RNA-seq (E003 ... E128)"
            )
        out.append(eid)
    if not out:
        raise InputError("name at least one cell (e.g. E003) or use --all")
    return sorted(set(out), key=out.index)


def download_cells(
    cells: Iterable[str] = (),
    *,
    all_cells: bool = False,
    url: str = ZENODO_URL,
    dest: str | Path | None = None,
    progress: bool = True,
    on_cell: Callable[[str, Path], None] | None = None,
) -> dict[str, Path]:
    """Download (once) and unpack the requested cells; return ``{EID: folder}``.

    Cells already unpacked under ``dest`` (default ``$SIMPLECHROME_HOME/data``) are not
    unpacked again. Each cell folder appears complete or not at all.
    """
    wanted = resolve_cells(cells, all_cells=all_cells)
    dest = Path(dest) if dest is not None else data_dir()
    done = {c: dest / c for c in wanted if _complete(dest / c)}
    todo = [c for c in wanted if c not in done]
    if todo:
        archive = fetch_archive(url, progress=progress)
        done.update(_extract(archive, todo, dest, progress=progress))
    if on_cell:
        for c in wanted:
            on_cell(c, done[c])
    return {c: done[c] for c in wanted}


def _complete(folder: Path) -> bool:
    cls = folder / "classification"
    return all(
        any((cls / f"{s}{ext}").exists() for ext in (".csv", ".csv.gz"))
        for s in ("train", "valid", "test")
    )


def _extract(archive: Path, cells: list[str], dest: Path, *, progress: bool) -> dict[str, Path]:
    """Stream through the archive once, writing only members under the wanted cells' folders."""
    try:
        with contextlib.ExitStack() as stack:
            # every cell folder is built under a temporary name and renamed only on success
            tmp = {
                c: stack.enter_context(atomic_directory(dest / c, overwrite=True)) for c in cells
            }
            tar = stack.enter_context(tarfile.open(archive, "r|gz"))
            bar = stack.enter_context(
                tqdm(desc="unpacking", unit=" files", disable=not progress, leave=False)
            )
            for member in tar:
                reason = unsafe_member(member)
                if reason is not None:  # checked before a byte of any cell is kept
                    raise _refuse(archive, member, reason)
                parts = PurePosixPath(member.name).parts
                hit = [i for i, p in enumerate(parts) if p in tmp]
                if not hit or not member.isfile():
                    continue
                target = tmp[parts[hit[0]]].joinpath(*parts[hit[0] + 1 :])
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                if src is None:
                    continue
                with open(target, "wb") as fh:
                    shutil.copyfileobj(src, fh)
                bar.update(1)
            missing = [c for c in cells if not _complete(tmp[c])]
            if missing:
                raise DownloadError(
                    f"{archive}: no complete train/valid/test files for {', '.join(missing)}"
                )
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        archive.unlink(missing_ok=True)
        (archive.parent / f"{ARCHIVE_NAME}.sha256").unlink(missing_ok=True)
        raise DownloadError(
            f"{archive}: the archive is truncated or corrupted ({exc}); "
            "it was removed, download again"
        ) from None
    return {c: dest / c for c in cells}
