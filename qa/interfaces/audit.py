"""The audit log of ``qa serve`` (``QA_AUDIT_LOG``): one JSON object a line for each sign-in,
question, upload, deletion, re-index and saved test, with who and from where.

It holds what people sent (questions, file names, test ids), never document text or answers.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any


class Audit:
    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: record nothing (the page built without a server, in tests)
        self._lock = threading.Lock()

    def record(self, event: str, user: str, where: str, **fields: Any) -> None:
        """Append one line: ``{"time", "event", "user", "from", **fields}``."""
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "event": event,
            "user": user,
            "from": where,
            **fields,
        }
        if self.path is None:
            return
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # O_APPEND: each line lands whole at the end, even beside another writer.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        """Every line so far (for tests and tools)."""
        if self.path is None or not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]
