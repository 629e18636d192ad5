"""Processes as Linux's /proc shows them, for the tests that kill runs."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
