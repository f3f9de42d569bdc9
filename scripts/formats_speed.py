"""How fast the formats dev set's documents are read: `python scripts/formats.py speed ROOT`.

For each kind: reading (the reader: the text, its sections and offsets) and chunking (the
splitter), timed apart from embedding, in pages a second, wall-clock and CPU. A page is a
page as LibreOffice prints the file (a slide, for a deck) where LibreOffice reads the
format, else 3,000 characters of extracted text. OCR: the first pages of a scanned PDF of
the set read through the same path as ingest (PDFium renders at 300 dpi, one Tesseract
process per thread), wall-clock and the CPU of the Tesseract processes. The load average
is reported beside every figure: on a shared machine the wall-clock figures measure the
neighbours as much as the reader.

Ingest (``ingest_speed``): the whole ``qa ingest`` of a kind into an empty index, its wall
time and the CPU seconds of the process (all its threads), then the same work stage by
stage in one process, in CPU seconds: start-up (imports, Chroma, the embedding model),
reading and chunking, embedding, writing (Chroma and the lexical index), so that what is
not the embedding shows. CPU seconds hold on a loaded machine; wall seconds do not.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ocr_compare import cpu as process_cpu  # scripts/ is on the path (run as a script)

from qa.config import load_settings
from qa.documents.blocks import Reading
from qa.documents.loaders import FileLoader, supported
from qa.index.ingest import split

PRINTED = {"docx", "odt", "rtf", "pptx", "odp", "xlsx", "ods"}  # LibreOffice prints these
PAGE_CHARS = 3000
OCR_PAGES = 8


def printed_pages(files: list[Path]) -> int:
    """Pages of ``files`` as LibreOffice prints them (to PDF, counted by PDFium)."""
    import pypdfium2

    with tempfile.TemporaryDirectory() as tmp:
        command = ["soffice", "--headless", "--convert-to", "pdf", "--outdir", tmp]
        subprocess.run([*command, *map(str, files)], check=True, capture_output=True)
        return sum(len(pypdfium2.PdfDocument(str(p))) for p in Path(tmp).glob("*.pdf"))


def read_speed(folder: Path) -> dict:
    """Seconds (wall, CPU) reading and chunking the supported files under ``folder``."""
    settings = load_settings({}, environ={})
    files = sorted(p for p in folder.rglob("*") if p.is_file() and supported(p))
    load = os.getloadavg()[0]
    read = chunk = read_cpu = chunk_cpu = 0.0
    chars = chunks = 0
    for path in files:
        loader = FileLoader(path, path.name)
        began, cpu = time.perf_counter(), process_cpu()
        docs = list(loader.lazy_load())
        read += time.perf_counter() - began
        read_cpu += process_cpu() - cpu
        began, cpu = time.perf_counter(), process_cpu()
        chunks += len(list(split(docs, settings, loader.fingerprint())))
        chunk += time.perf_counter() - began
        chunk_cpu += process_cpu() - cpu
        chars += sum(len(d.page_content) for d in docs)
    pages = printed_pages(files) if folder.name in PRINTED else round(chars / PAGE_CHARS, 1)
    return {
        "files": len(files),
        "pages": pages,
        "chars": chars,
        "chunks": chunks,
        "read_s": round(read, 2),
        "read_cpu_s": round(read_cpu, 2),
        "chunk_s": round(chunk, 2),
        "chunk_cpu_s": round(chunk_cpu, 2),
        "load": round(load, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }


def ingest_speed(folder: Path, pages: float) -> dict:
    """``qa ingest`` of ``folder`` into an empty index: wall and CPU seconds of the command,
    and CPU seconds by stage, the stages run one after another in this process."""
    from qa.index.lexical import searchable
    from qa.index.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        load, before = os.getloadavg()[0], resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        command = [sys.executable, "-m", "qa", "ingest", str(folder), "--index", f"{tmp}/a"]
        subprocess.run(command, check=True, capture_output=True)
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        stages, cpu = {}, process_cpu()
        settings = load_settings({"index": Path(tmp) / "b"})
        store = Store(settings, create=True)
        store.embeddings.embed_documents(["start-up"])
        stages["store and model"], cpu = process_cpu() - cpu, process_cpu()
        files = sorted(p for p in folder.rglob("*") if p.is_file() and supported(p))
        chunks = []
        for path in files:
            loader = FileLoader(path, path.name)
            chunks += split(loader.lazy_load(), settings, loader.fingerprint())
        stages["read and split"], cpu = process_cpu() - cpu, process_cpu()
        batches = [chunks[i : i + 256] for i in range(0, len(chunks), 256)]
        vectors = [store.embeddings.embed_documents([searchable(c) for c in b]) for b in batches]
        stages["embed"], cpu = process_cpu() - cpu, process_cpu()
        with store.writing():
            for batch, batch_vectors in zip(batches, vectors, strict=True):
                store.add(batch, batch_vectors)
        stages["write"] = process_cpu() - cpu
    return {
        "pages": pages,
        "chunks": len(chunks),
        "wall_s": round(wall, 1),
        "cpu_s": round(spent, 1),
        "pages_per_cpu_s": round(pages / spent, 1),
        "pages_per_s": round(pages / wall, 1),
        "stages_cpu_s": {k: round(v, 2) for k, v in stages.items()},
        "load": round(load, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }


def ocr_speed(pdf: Path, pages: int = OCR_PAGES) -> dict:
    """Read the first ``pages`` of a scanned (image-only) PDF as ingest does."""
    import pypdfium2

    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / pdf.name
        out = pypdfium2.PdfDocument.new()
        out.import_pages(pypdfium2.PdfDocument(str(pdf)), list(range(pages)))
        out.save(str(part))
        load, threads = os.getloadavg()[0], Reading().threads
        began, cpu = time.perf_counter(), process_cpu()
        read = list(FileLoader(part, part.name, Reading(threads=threads)).parts())
        wall, spent = time.perf_counter() - began, process_cpu() - cpu
    return {
        "file": pdf.name,
        "pages": pages,
        "parts": len(read),
        "wall_s": round(wall, 1),
        "cpu_s": round(spent, 1),
        "threads": threads,
        "load": round(load, 1),
        "load_after": round(os.getloadavg()[0], 1),
    }


def table(speeds: dict[str, dict], ocr: dict) -> str:
    rows = [
        "| kind | files | pages | reading: pages/s wall (CPU) | chunking: pages/s wall (CPU) "
        "| load average (1 min) before / after |",
        "| --- | --- | --- | --- | --- | --- |",
    ]

    def rate(pages: float, seconds: float) -> str:
        return f"{pages / seconds:.0f}" if seconds else "-"

    for kind, s in speeds.items():
        rows.append(
            f"| {kind} | {s['files']} | {s['pages']} | {rate(s['pages'], s['read_s'])} "
            f"({rate(s['pages'], s['read_cpu_s'])}) | {rate(s['pages'], s['chunk_s'])} "
            f"({rate(s['pages'], s['chunk_cpu_s'])}) | {s['load']} / {s['load_after']} |"
        )
    rows.append("")
    rows.append(
        f"OCR ({ocr['file']}, first {ocr['pages']} pages, {ocr['threads']} Tesseract "
        f"processes side by side): {ocr['pages'] / ocr['wall_s']:.2f} pages/s wall, "
        f"{ocr['cpu_s'] / ocr['pages']:.1f} CPU s a page; load {ocr['load']} / "
        f"{ocr['load_after']}"
    )
    return "\n".join(rows)
