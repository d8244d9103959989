"""``qms init``: a new device project that checks clean, from the files in ``qms/scaffold``."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import yaml

from qms.project import load_project
from qms.review import LOCK_FILE, stamp_all

SCAFFOLD = resources.files("qms") / "scaffold"
_RENAMES = {"gitignore": ".gitignore"}


class ProjectExists(Exception):
    """The target folder already holds a project."""


class InvalidName(ValueError):
    """The device name cannot be written as text (it holds bytes that are not characters)."""


def yaml_string(text: str) -> str:
    """``text`` as a double-quoted YAML scalar, written by PyYAML's emitter: it reads back as ``text``."""
    emitted: str = yaml.dump(text, Dumper=yaml.SafeDumper, default_style='"', allow_unicode=True, width=math.inf)
    return emitted.rstrip("\n")


def _entries(folder, prefix: str = ""):  # type: ignore[no-untyped-def]
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from _entries(entry, relative + "/")
        else:
            yield relative, entry


def create_project(target: Path, name: str, safety_class: str = "C") -> list[Path]:
    """Write a new project into ``target``; refuses to overwrite an existing ``qms.yaml``."""
    if (target / "qms.yaml").exists():
        raise ProjectExists(f"{target / 'qms.yaml'} already exists")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidName(f"the device name holds bytes that are not UTF-8 text ({error.reason}): rename it") from error
    written = []
    for relative, entry in _entries(SCAFFOLD):
        parts = relative.split("/")
        parts[-1] = _RENAMES.get(parts[-1], parts[-1])
        destination = target.joinpath(*parts)
        if destination.exists():
            continue  # never overwrite a user's file
        text = entry.read_text(encoding="utf-8")
        if relative == "qms.yaml":  # the only file that names the device; conf.py reads it from there
            text = text.format(name=yaml_string(name), safety_class=safety_class)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        written.append(destination)
    if not (target / LOCK_FILE).exists():  # the scaffold's links start reviewed: change control is on
        written.append(stamp_all(load_project(target)))
    return written
