"""Ingestion into the real embedded Chroma: sync, offsets, bad files, dry runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from qa.config import load_settings
from qa.index.ingest import ingest
from qa.index.store import Store
from qa.interfaces.cli import main


def settings(tmp_path: Path):
    return load_settings({"index": tmp_path / "index"}, environ={})


def test_chunks_know_their_offsets_and_reingest_adds_nothing(article_corpus: Path, tmp_path: Path):
    s = settings(tmp_path)
    first = ingest([article_corpus], s)
    assert first.added == ["corpus/newsweek-iran-border-defense.txt"] and first.chunks > 5
    text = next(article_corpus.iterdir()).read_text()
    chunks = Store(s).chunks()
    for c in chunks:
        assert text[c.metadata["start"] : c.metadata["end"]] == c.page_content
    again = ingest([article_corpus], s)
    assert again.unchanged == 1 and not again.added and not again.updated
    assert again.chunks == first.chunks
    assert sorted(c.id for c in Store(s).chunks()) == sorted(c.id for c in chunks)


def test_changed_file_is_replaced_and_removed_file_goes(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nThe alpha station opened in 1901.\n")
    (folder / "b.txt").write_text("Bravo is a river town known for its bridges.\n")
    s = settings(tmp_path)
    ingest([folder], s)
    (folder / "a.md").write_text("# Alpha\n\nThe alpha station closed in 1999.\n")
    report = ingest([folder], s)
    assert report.updated == ["docs/a.md"] and report.unchanged == 1
    texts = " ".join(c.page_content for c in Store(s).chunks())
    assert "closed in 1999" in texts and "opened in 1901" not in texts
    (folder / "b.txt").unlink()
    report = ingest([folder], s)
    assert report.removed == ["docs/b.txt"]
    assert {c.metadata["source"] for c in Store(s).chunks()} == {"docs/a.md"}


def test_a_changed_chunking_splits_the_files_again(tmp_path: Path):
    """--chunk-size changed on an indexed folder was ignored ("1 unchanged"): the file is now
    split again, and again when the defaults come back."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The alpha station opened in 1901. " * 40)
    s = settings(tmp_path)
    ingest([folder], s)
    whole = Store(s).lexical.count()
    small = s.with_overrides(chunk_size=200, chunk_overlap=20)
    assert ingest([folder], small).updated == ["docs/a.txt"]
    assert Store(s).lexical.count() > whole
    assert ingest([folder], small).unchanged == 1
    assert ingest([folder], s).updated == ["docs/a.txt"] and Store(s).lexical.count() == whole


def test_an_unchanged_corpus_is_checked_without_opening_the_store(
    article_corpus: Path, tmp_path: Path, monkeypatch
):
    """Fingerprints are read against the lexical index alone: no Chroma, no model."""
    s = settings(tmp_path)
    first = ingest([article_corpus], s)

    def no_store(*args, **kwargs):
        raise AssertionError("the store was opened for an unchanged corpus")

    monkeypatch.setattr("qa.index.store.Store.__init__", no_store)
    again = ingest([article_corpus], s)
    assert again.unchanged == 1 and again.chunks == first.chunks and not again.added


def test_ingesting_one_file_leaves_the_rest_of_the_index_alone(
    article_corpus: Path, tmp_path: Path
):
    s = settings(tmp_path)
    ingest([article_corpus], s)
    extra = tmp_path / "extra.txt"
    extra.write_text("Foxtrot is a dance in four-four time.\n")
    report = ingest([extra], s)
    assert report.added == ["extra.txt"] and not report.removed
    assert set(Store(s).sources()) == {"corpus/newsweek-iran-border-defense.txt", "extra.txt"}


def test_bad_files_are_skipped_and_the_rest_goes_on(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("Charlie keeps bees on the roof of the library.\n")
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02garbage\x00")
    (folder / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / "page.html").write_text("<html><script>x=1</script><p>Delta sells maps.</p></html>")
    (folder / "blank.html").write_text("   \n")
    result = CliRunner().invoke(main, ["ingest", str(folder), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    for name in ("empty.txt", "binary.txt", "latin1.txt", "broken.pdf", "blank.html"):
        assert result.output.count(f"skipped docs/{name}:") == 1  # said once, not twice
    sources = {c.metadata["source"] for c in Store(settings(tmp_path)).chunks()}
    assert sources == {"docs/good.txt", "docs/page.html"}
    html_text = [
        c.page_content
        for c in Store(settings(tmp_path)).chunks()
        if c.metadata["source"] == "docs/page.html"
    ]
    assert html_text == ["Delta sells maps."]


def test_dry_run_changes_nothing(article_corpus: Path, tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", "--dry-run", "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert "would add corpus/newsweek-iran-border-defense.txt" in result.output
    assert not (tmp_path / "index").exists()
    runner.invoke(main, ["ingest", "--index", str(tmp_path / "index")])
    (article_corpus / "extra.txt").write_text("Echo is the name of a small dog.\n")
    before = Store(settings(tmp_path)).sources()
    result = runner.invoke(main, ["ingest", "--dry-run", "--index", str(tmp_path / "index")])
    assert "would add corpus/extra.txt" in result.output
    assert Store(settings(tmp_path)).sources().keys() == before.keys()


def test_index_remembers_its_embedding_model(article_corpus: Path, tmp_path: Path):
    from qa.errors import ModelMismatchError
    from qa.models.embeddings import resolve

    s = settings(tmp_path)
    ingest([article_corpus], s)
    other = s.with_overrides(embed_model=resolve("minilm"))  # same weights, another identity
    try:
        Store(other)
    except ModelMismatchError as e:
        assert "re-ingest" in str(e)
    else:
        raise AssertionError("querying with another embedding model must fail")


def test_batches_are_embedded_ahead_but_written_in_order(monkeypatch):
    """The writer embeds one batch while it writes the one before: batches still reach the
    store in order, each with its own vectors, and a file's old chunks are pruned only once
    the batch holding its last chunk is written (a double store records the calls)."""
    from concurrent.futures import ThreadPoolExecutor

    from langchain_core.documents import Document

    import qa.index.writer

    monkeypatch.setattr(qa.index.writer, "BATCH", 3)
    calls: list[tuple] = []

    class Recorder:
        def embed(self, chunks):
            return [[float(c.metadata["end"])] for c in chunks]

        def add(self, chunks, vectors):
            assert vectors == self.embed(chunks)
            calls.append(("add", [c.id for c in chunks]))

        def prune(self, name, keep):
            calls.append(("prune", name, len(keep)))

    def chunks(name: str, n: int):
        for i in range(n):
            yield Document(f"{name} {i}", id=f"{name}{i}", metadata={"end": i + 1})

    steps: list[int] = []
    with ThreadPoolExecutor(1) as pool:
        writer = qa.index.writer.Writer(Recorder(), steps.append, pool)
        writer.file("a", chunks("a", 4), 10)
        writer.file("b", chunks("b", 4), 2)  # more text than bytes: a zipped file
        writer.finish()
    # Progress counts each file's text, up to its bytes (the caller adds the rest of them).
    assert steps == [3, 2, 0] and writer.advanced == 2
    assert calls == [
        ("add", ["a0", "a1", "a2"]),
        ("add", ["a3", "b0", "b1"]),
        ("prune", "a", 4),
        ("add", ["b2", "b3"]),
        ("prune", "b", 4),
    ]


def test_qa_ingest_does_not_import_the_answering_chain(tmp_path: Path):
    """Ingest needs no LLM: the chain's imports (LangChain's models and tracers, 0.5 s) stay
    out of `qa ingest`, which an unchanged folder otherwise spends most of its time on."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nThe alpha station opened in 1901.\n")
    probe = (
        "import sys; from qa.interfaces.cli import main\n"
        "try: main(sys.argv[1:])\n"
        "except SystemExit: pass\n"
        "print('qa.answering.chain' in sys.modules)"
    )
    args = ["ingest", str(folder), "--index", str(tmp_path / "index")]
    run = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "False", run.stderr
    assert "1 added" in run.stderr


def test_progress_never_passes_its_total_on_zipped_files(tmp_path: Path, monkeypatch):
    """A .docx holds more text than bytes (its XML is zipped): progress stays within the
    folder's bytes and ends at them."""
    import docx

    import qa.index.writer

    monkeypatch.setattr(qa.index.writer, "BATCH", 16)  # progress is told per batch

    folder = tmp_path / "docs"
    folder.mkdir()
    document = docx.Document()
    for i in range(2000):
        document.add_paragraph(f"Paragraph {i} repeats the same plain words as the one before.")
    document.save(folder / "long.docx")
    (folder / "short.md").write_text("# Short\n\nA line.\n")
    seen: list[tuple[int, int]] = []
    ingest([folder], settings(tmp_path), progress=lambda done, total: seen.append((done, total)))
    total = seen[-1][1]
    assert total < 2000 * 60  # the text is longer than the bytes
    assert all(done <= total for done, _ in seen) and seen[-1][0] == total


def test_a_file_that_fails_midway_leaves_nothing_and_progress_its_total(tmp_path, monkeypatch):
    """A file that fails after some of its chunks went out in a batch (it changed while
    read) leaves none of them, is reported skipped, not removed, and progress ends at the
    folder's bytes."""
    import qa.index.ingest
    import qa.index.writer
    from qa.errors import BadDocumentError

    monkeypatch.setattr(qa.index.writer, "BATCH", 2)
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("a", "b", "c"):
        body = "\n\n".join(f"Line {i} of {name} says something new." for i in range(120))
        (folder / f"{name}.md").write_text(f"# {name}\n\n{body}\n")
    split = qa.index.ingest.split

    def failing(parts, settings, file_hash):
        for n, chunk in enumerate(split(parts, settings, file_hash)):
            if chunk.metadata["source"].endswith("b.md") and n == 3:
                raise BadDocumentError("changed while read")
            yield chunk

    monkeypatch.setattr(qa.index.ingest, "split", failing)
    seen: list[tuple[int, int]] = []
    s = settings(tmp_path)
    report = ingest([folder], s, progress=lambda done, total: seen.append((done, total)))
    assert [name for name, _ in report.skipped] == ["docs/b.md"] and not report.removed
    sources = {c.metadata["source"] for c in Store(s).chunks()}
    assert sources == {"docs/a.md", "docs/c.md"}
    assert all(done <= total for done, total in seen) and seen[-1][0] == seen[-1][1]
