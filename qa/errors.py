"""Domain errors. Each knows how it is shown at each edge: its exit code in the CLI, its
HTTP status in the API; only those edges turn them into a message."""

from __future__ import annotations


class QAError(Exception):
    """Base class: a problem the user can act on, shown as one line."""

    exit_code = 1
    http_status = 503  # the service cannot answer: a model, the index or a backend

    def show(self) -> str:
        return f"error: {self}"


class UsageError(QAError):
    """The user asked for something malformed (empty question, bad value)."""

    exit_code = 2
    http_status = 400


class NoIndexError(QAError):
    """Asked a question before anything was indexed."""

    exit_code = 2

    def __init__(self, index_dir: object) -> None:
        super().__init__(f'no index at {index_dir}: run "qa ingest" first')


class ModelMismatchError(QAError):
    """The index was built with another embedding model than the one configured."""

    exit_code = 2

    def __init__(self, built_with: str, configured: str) -> None:
        super().__init__(
            f"the index was built with embedding model {built_with!r} but {configured!r} "
            "is configured: re-ingest (qa ingest) into a new --index, or set QA_EMBED_MODEL back"
        )


class ModelUnavailableError(QAError):
    """A model could not be found, assembled or reached."""

    exit_code = 3


class BackendError(QAError):
    """A server backend (LLM or Chroma) failed or could not be reached."""

    exit_code = 3


class IndexBusyError(QAError):
    """Another process is writing to the same index."""

    exit_code = 4


class FailedError(QAError):
    """A command ran and some of it failed: each line says what (shown as it is); with no
    line, each failure was shown where it happened."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))

    def show(self) -> str:
        return str(self)


class BadDocumentError(QAError):
    """One document cannot be read; ingestion skips it and goes on."""


class NotSignedInError(QAError):
    """``qa serve`` with credentials configured, asked without valid ones."""

    exit_code = 2
    http_status = 401


class ForbiddenError(QAError):
    """Signed in, but the user's role does not allow this (a reader uploading)."""

    exit_code = 2
    http_status = 403

    def __init__(self, user: str, role: str, action: str) -> None:
        super().__init__(f"{user} ({role}) may not {action}")


class BusyError(QAError):
    """Too many requests wait for the model, or one user asks too often; try again later."""

    exit_code = 5
    http_status = 429

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TimedOutError(BusyError):
    """A request waited longer than QA_REQUEST_TIMEOUT for its turn on the model: busy, but
    it was let in line, so the service is unavailable rather than refusing (503, not 429)."""

    http_status = 503


class RefusedUploadError(QAError):
    """An uploaded file was refused (its name or type); nothing was written."""

    exit_code = 2
    http_status = 400


class TooLargeError(RefusedUploadError):
    """An upload past a cap: a file's size, the files in one upload, the corpus's size."""

    http_status = 413


class NoCollectionError(QAError):
    """A collection the index does not hold."""

    exit_code = 2
    http_status = 404

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no collection {name!r} (there are: {', '.join(known) or 'none'})")


class NoModelError(QAError):
    """An OpenAI model name that names no collection (OpenAI answers such a name with 404)."""

    exit_code = 2
    http_status = 404

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no model {name!r} (there are: {', '.join(known)})")


class NoConversationError(QAError):
    """A conversation that does not exist, or is someone else's (they are not told apart)."""

    exit_code = 2
    http_status = 404

    def __init__(self, conversation: str) -> None:
        super().__init__(f"no conversation {conversation!r}")


class NoDocumentError(QAError):
    """A document that is not in the collection's folder (or a name outside it)."""

    exit_code = 2
    http_status = 404

    def __init__(self, name: str) -> None:
        super().__init__(f"no document {name!r} in the collection's folder")
