"""All settings in one typed object: defaults, then ``QA_*`` environment variables, then flags.

Every field documents itself; the CLI builds its options from these fields, so a setting is
declared exactly once. Nothing here runs at import time.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import UsageError


def _setting(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    choices: tuple[str, ...] = (),
    minimum: int | None = None,
    form: tuple[str, str] | None = None,
) -> Any:
    """A setting; a callable ``default`` is computed each time settings are built (from the
    environment as it is then: the cache folder, the CPU count). ``form``: a pattern a value
    must match whole, and how to say it."""
    meta = {"help": help, "flag": flag, "choices": choices, "minimum": minimum, "form": form}
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "docqa"


@dataclass(frozen=True)
class Settings:
    """docqa's settings. Field ``x`` is read from ``QA_X`` and set by flag ``--x``."""

    corpus: Path = _setting(Path("corpus"), "Folder that `qa ingest` indexes by default.")
    index: Path = _setting(Path(".qa_index"), "Directory of the embedded Chroma index.")
    collection: str = _setting(
        "docqa",
        "Chroma collection name (several corpora can share a store).",
        # Chroma's rule for a name, within what a file name holds (the lexical index's file
        # is named after the collection).
        form=(
            r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]",
            "use 3-63 letters, digits, '.', '_' or '-', starting and ending with a letter or "
            "digit, with no '..'",
        ),
    )
    chroma_url: str = _setting("", "Chroma server URL (http://host:port); empty: embedded store.")
    embed_model: str = _setting(
        "minilm", "Embedding model: a bundled name (minilm), a local path or a hub name."
    )
    llm: str = _setting("bundled", "LLM backend: bundled, gguf or openai.")
    llm_model: str = _setting(
        "", "Bundled model name (default qwen2.5-coder-1.5b) or the OpenAI server's model name."
    )
    llm_path: str = _setting("", "Path of a GGUF file, for --llm gguf.")
    llm_base_url: str = _setting("", "Base URL of an OpenAI-compatible server, for --llm openai.")
    llm_api_key: str = _setting("", "API key for the OpenAI-compatible server.")
    llm_timeout: float = _setting(60.0, "Seconds to wait for an LLM server before giving up.")
    k: int = _setting(3, "Passages given to the model.", flag="-k", minimum=1)
    passage_chars: int = _setting(
        220,
        "Most characters of one passage: the best sentence, widened by its neighbours.",
        minimum=1,
    )
    chunk_size: int = _setting(600, "Characters per indexed chunk.", minimum=1)
    chunk_overlap: int = _setting(100, "Characters shared by neighbouring chunks.", minimum=0)
    ocr: bool = _setting(
        True,
        "Read scanned PDF pages (pages without text) and images (.png, .jpg, .tiff) by OCR "
        "(Debian's tesseract-ocr).",
    )
    ocr_page_seconds: float = _setting(
        120.0, "Most seconds OCR may spend on one page; a page that takes longer is skipped."
    )
    ocr_languages: str = _setting(
        "eng", "OCR languages, as Tesseract names them (eng, deu, eng+fra: tesseract-ocr-LANG)."
    )
    max_tokens: int = _setting(160, "Most tokens the model may generate for one answer.", minimum=1)
    speculate: bool = _setting(
        False,
        "In-process models guess the next tokens from the prompt's passages and check the "
        "guess in one batch (prompt-lookup decoding): the same answers as plain greedy "
        "decoding, sooner when they copy from the passages.",
    )
    context_tokens: int = _setting(2048, "Context window of an in-process model.", minimum=1)
    threads: int = _setting(
        lambda: os.cpu_count() or 1, "CPU threads for in-process models.", minimum=1
    )
    retrieval: str = _setting(
        "hybrid",
        "hybrid (BM25 + dense, fused, then the best sentences with their neighbours) or "
        "dense (the vector store's top-k chunks as they are).",
        choices=("hybrid", "dense"),
    )
    grounding: bool = _setting(True, "Verify every claim against its cited passage.")
    judge: bool = _setting(
        True, "With grounding: the LLM rechecks claims whose sentence the word checks doubt."
    )
    decision: str = _setting(
        "auto",
        "Answer or decline by: auto (the fit `qa calibrate` made for this index on labelled "
        "questions, else the rules), rules (hand-set thresholds) or calibrated (this index's "
        "fit, also one made --generated, else the one shipped, fitted on SQuAD 2.0).",
        choices=("auto", "rules", "calibrated"),
    )
    min_confidence: float = _setting(
        0.0, "Answer only at this calibrated P(right) or above; 0: the fit's operating point."
    )
    followups: str = _setting(
        "rules",
        "How follow-ups become standalone questions: rules (names carried over) or llm.",
        choices=("rules", "llm"),
    )
    cache_dir: Path = _setting(
        _default_cache, "Where bundled models, their prompt cache and exports are kept."
    )
    api_key: str = _setting(
        "",
        "qa serve: a key that signs in as an admin (Authorization: Bearer <key>, or on the "
        "login page); with it or with users, everything but /login and /health needs one.",
    )
    users: Path = _setting(
        Path(".qa_users.json"),
        "qa serve: the users file (qa users add NAME --role ROLE); once it holds a user, "
        "everything but /login and /health needs a sign-in or a token.",
    )
    session_secret: str = _setting(
        "", "qa serve: the key that signs login cookies (empty: a new one each start)."
    )
    session_hours: float = _setting(12.0, "qa serve: hours a login lasts.")
    secure_cookie: bool = _setting(
        False, "qa serve: send the login cookie over HTTPS only (behind a TLS proxy)."
    )
    audit_log: Path = _setting(
        Path(".qa_audit.jsonl"),
        "qa serve: JSON Lines of who asked, uploaded, deleted or saved what, from where.",
    )
    max_upload_mb: int = _setting(20, "qa serve: largest uploaded file, in MB.")
    max_upload_files: int = _setting(10, "qa serve: most files in one upload.")
    max_corpus_mb: int = _setting(
        500, "qa serve: uploads are refused once the corpus folder would pass this, in MB."
    )
    queue_cap: int = _setting(
        32, "qa serve: most requests waiting for the model; more are answered 429 busy."
    )
    asks_per_minute: int = _setting(20, "qa serve: questions one user may ask per minute.")
    request_timeout: float = _setting(
        300.0, "qa serve: seconds a request may wait for its turn on the model."
    )
    watch_debounce: float = _setting(
        1.0, "qa watch, qa serve --watch: seconds the folder must be quiet before a sync."
    )
    watch_scan: float = _setting(
        30.0, "qa watch, qa serve --watch: seconds between scans for changes events missed."
    )
    eval_file: Path = _setting(
        Path("eval_questions.yaml"),
        "Where answers saved as tests go (qa ask --save, the page); collection NAME's own: "
        "this file with -NAME before its suffix, which qa eval --collection NAME reads.",
    )
    eval_min_cited: float = _setting(
        0.0, "qa eval fails below this share of answers correct and cited."
    )
    eval_min_declined: float = _setting(
        0.0, "qa eval fails below this share of unanswerable questions declined."
    )

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with the given fields replaced (values converted to the field's type and
        checked: choices, minimums, the overlap against the chunk size)."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        unknown = set(values) - set(fields)
        if unknown:
            raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        converted = {name: _convert(name, fields[name].type, v) for name, v in values.items()}
        for name, value in converted.items():
            _check(fields[name], value)
        settings = dataclasses.replace(self, **converted)
        # Checked on the result, as either side may be the one just set: the splitter cannot
        # move forward by a chunk that is all overlap.
        if settings.chunk_overlap >= settings.chunk_size:
            raise UsageError(
                f"{_label('chunk_overlap')} {settings.chunk_overlap} must be less than "
                f"{_label('chunk_size')} {settings.chunk_size}"
            )
        return settings


def env_name(name: str) -> str:
    return f"QA_{name.upper()}"


def _label(name: str) -> str:
    """How an error names a setting: its variable and its flag."""
    return f"{env_name(name)}/--{name.replace('_', '-')}"


def _check(f: dataclasses.Field, value: Any) -> None:
    """Refuse a value outside the field's choices, below its minimum or not of its form."""
    choices, minimum = f.metadata["choices"], f.metadata["minimum"]
    if choices and value not in choices:
        raise UsageError(f"{_label(f.name)}: bad value {value!r}: choose {' or '.join(choices)}")
    if minimum is not None and value < minimum:
        raise UsageError(f"{_label(f.name)}: bad value {value!r}: must be at least {minimum}")
    if (form := f.metadata["form"]) and not re.fullmatch(form[0], value):
        raise UsageError(f"{_label(f.name)}: bad value {value!r}: {form[1]}")


def _convert(name: str, type_name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if type_name == "bool":
            lowered = value.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(value)
            return lowered in {"1", "true", "yes", "on"}
        if type_name == "int":
            return int(value)
        if type_name == "float":
            return float(value)
        if type_name == "Path":
            return Path(value).expanduser()
    except ValueError:
        raise UsageError(f"{_label(name)}: bad value {value!r}") from None
    return value


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then ``QA_*`` variables from ``environ``, then explicit ``overrides``."""
    environ = os.environ if environ is None else environ
    from_env = {
        f.name: environ[env_name(f.name)]
        for f in dataclasses.fields(Settings)
        if env_name(f.name) in environ
    }
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    # One step, so settings that are checked together (chunk size and overlap) are checked
    # as they end up, not half from the environment and half from flags.
    return Settings().with_overrides(**{**from_env, **given})


def describe() -> list[tuple[str, str, str, Any, str | None]]:
    """(field, type, help, default, short flag) for each setting: the CLI's option table."""
    return [
        (f.name, f.type, f.metadata["help"], _default(f), f.metadata["flag"])
        for f in dataclasses.fields(Settings)
    ]


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default
