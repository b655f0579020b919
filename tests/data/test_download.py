"""Downloads against a real HTTP server on 127.0.0.1 started here (never the internet)."""

from __future__ import annotations

import io
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from simplechrome.data import load_cell, write_cell
from simplechrome.data.download import download_cells, downloads_dir
from simplechrome.errors import DownloadError, InputError


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802
        srv = self.server
        body: bytes = srv.payload  # type: ignore[attr-defined]
        srv.requests.append(self.headers.get("Range"))  # type: ignore[attr-defined]
        start = 0
        rng = self.headers.get("Range")
        if rng and srv.ranges:  # type: ignore[attr-defined]
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        rest = body[start:]
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        if srv.drops > 0:  # type: ignore[attr-defined]
            srv.drops -= 1  # type: ignore[attr-defined]
            self.wfile.write(rest[: len(rest) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(rest)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.payload = b""
    srv.requests = []
    srv.drops = 0
    srv.ranges = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def build_archive(tmp_path: Path, synthetic, cells=("E003", "E005")) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for cell in cells:
            folder = write_cell(synthetic.splits, tmp_path / "src" / cell)
            tar.add(folder, arcname=f"data/{cell}")
    return buf.getvalue()


def url(srv) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/records/2652278/files/data.tar.gz"


def test_download_unpacks_only_asked_cells(tmp_path, server, synthetic):
    server.payload = build_archive(tmp_path, synthetic)
    got = download_cells(["e003"], url=url(server), dest=tmp_path / "cells", progress=False)
    assert list(got) == ["E003"]
    assert sorted(p.name for p in (tmp_path / "cells").iterdir()) == ["E003"]
    cell = load_cell(got["E003"])
    np.testing.assert_array_equal(cell["test"].x, synthetic.splits["test"].x)
    # the hash is recorded, and a second cell comes from the same archive without a new request
    assert (downloads_dir() / "data.tar.gz.sha256").read_text().strip()
    n = len(server.requests)
    download_cells(["E005"], url=url(server), dest=tmp_path / "cells", progress=False)
    assert len(server.requests) == n
    assert sorted(p.name for p in (tmp_path / "cells").iterdir()) == ["E003", "E005"]


def test_download_resumes_after_a_dropped_connection(tmp_path, server, synthetic):
    server.payload = build_archive(tmp_path, synthetic)
    server.drops = 1
    got = download_cells(["E003"], url=url(server), dest=tmp_path / "cells", progress=False)
    assert server.requests[0] is None and server.requests[1].startswith("bytes=")
    assert int(server.requests[1].split("=")[1].rstrip("-")) > 0  # resumed, not restarted
    assert load_cell(got["E003"])["train"].n_genes == 300


def test_interrupted_download_keeps_part_and_resumes_next_time(tmp_path, server, synthetic):
    server.payload = build_archive(tmp_path, synthetic)
    server.drops = 100
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        download_cells(["E003"], url=url(server), dest=tmp_path / "cells", progress=False)
    part = downloads_dir() / "data.tar.gz.part"
    assert 0 < part.stat().st_size < len(server.payload)
    assert not (tmp_path / "cells" / "E003").exists()
    server.drops = 0
    got = download_cells(["E003"], url=url(server), dest=tmp_path / "cells", progress=False)
    assert load_cell(got["E003"])["valid"].n_genes == 300


def test_truncated_archive_is_refused(tmp_path, server, synthetic):
    server.payload = build_archive(tmp_path, synthetic)[:-500]  # complete HTTP, broken gzip
    with pytest.raises(DownloadError, match="truncated or corrupted"):
        download_cells(["E003"], url=url(server), dest=tmp_path / "cells", progress=False)
    assert not (downloads_dir() / "data.tar.gz").exists()
    assert not (tmp_path / "cells" / "E003").exists()


def test_recorded_hash_is_verified(tmp_path, server, synthetic):
    server.payload = build_archive(tmp_path, synthetic)
    download_cells(["E003"], url=url(server), dest=tmp_path / "cells", progress=False)
    # the local copy is damaged, and the server now serves different bytes
    (downloads_dir() / "data.tar.gz").write_bytes(b"damaged")
    server.payload = build_archive(tmp_path / "other", synthetic, cells=("E003", "E005", "E004"))
    with pytest.raises(DownloadError, match="does not match the recorded SHA-256"):
        download_cells(["E005"], url=url(server), dest=tmp_path / "cells", progress=False)


def test_cell_missing_from_archive(tmp_path, server, synthetic):
    server.payload = build_archive(tmp_path, synthetic, cells=("E003",))
    with pytest.raises(DownloadError, match="no complete train/valid/test files for E012"):
        download_cells(["E012"], url=url(server), dest=tmp_path / "cells", progress=False)


def test_unknown_cell_is_refused():
    with pytest.raises(InputError, match="not one of the 56 Roadmap cells"):
        download_cells(["E999"])


def crafted_archive(tmp_path: Path, synthetic, kind: str) -> bytes:
    """A real cell plus one member that tries to escape the folder it is unpacked into."""
    buf = io.BytesIO()
    folder = write_cell(synthetic.splits, tmp_path / "src" / "E003")
    outside = tmp_path / "escaped.txt"
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname="data/E003")
        payload = b"written outside the cache\n"
        info = tarfile.TarInfo()
        if kind == "dotdot":  # data/E003/classification/../../ ... /tmp/.../escaped.txt
            info.name = "data/E003/classification/" + "../" * 12 + str(outside).lstrip("/")
        elif kind == "absolute":
            info.name = str(outside)
        elif kind == "symlink":
            info.name, info.type, info.linkname = "data/E003/link", tarfile.SYMTYPE, str(outside)
        else:  # hardlink
            info.name, info.type, info.linkname = "data/E003/hard", tarfile.LNKTYPE, "/etc/hostname"
        info.size = 0 if kind in ("symlink", "hardlink") else len(payload)
        tar.addfile(info, io.BytesIO(payload) if info.size else None)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "hardlink"])
def test_an_archive_that_tries_to_escape_is_refused(tmp_path, server, synthetic, kind):
    server.payload = crafted_archive(tmp_path, synthetic, kind)
    dest = tmp_path / "cells"
    with pytest.raises(DownloadError, match=r"could write outside the data folder"):
        download_cells(["E003"], url=url(server), dest=dest, progress=False)
    assert not (tmp_path / "escaped.txt").exists()  # nothing written outside
    assert not dest.exists() or not any(dest.iterdir())  # nor any cell inside
    assert not (downloads_dir() / "data.tar.gz").exists()  # the archive is not kept


def test_a_recorded_archive_that_tries_to_escape_is_refused_at_unpacking(
    tmp_path, server, synthetic
):
    """An archive already recorded (its hash known, so not checked again at download) is still
    checked member by member as it is unpacked."""
    import hashlib

    server.payload = crafted_archive(tmp_path, synthetic, "dotdot")
    folder = downloads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.tar.gz").write_bytes(server.payload)
    (folder / "data.tar.gz.sha256").write_text(hashlib.sha256(server.payload).hexdigest())
    with pytest.raises(DownloadError, match=r"'\.\.' component"):
        download_cells(["E003"], url=url(server), dest=tmp_path / "cells", progress=False)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "cells" / "E003").exists()
