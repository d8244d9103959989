"""The parse cache of ``qms check``: each item file's items, title and findings, kept by the digest
of its bytes, so that a file that has not changed is not parsed again.

An entry is used only for the same bytes at the same path, read with the same risk policy (levels
are converted while reading), by the same qms code on the same Python; anything else (an edited
file, a corrupt or foreign entry, another version of qms) is parsed afresh and its entry written
again, atomically. Entries are plain data (:mod:`marshal`) behind a digest that is checked before
they are read. One entry per file path, so the cache grows with the project, not with its edits.
"""

from __future__ import annotations

import glob
import hashlib
import marshal
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

import qms
from qms import atomic
from qms.config import ProjectConfig
from qms.elements import Finding, Item, Location, Severity
from qms.loading import LoadedFile, loaded
from qms.paths import within
from qms.risk import RiskPolicy
from qms.terminal import excerpt
from qms.yamlfile import YamlDocument, file_bytes, parse_bytes

#: the first bytes of every entry; a new layout of entries gets a new one
MAGIC = b"qms parse cache 1\n"
_DIGEST = 32
#: the cache keeps itself out of git, as pytest's and mypy's caches do
_IGNORE_ALL = "# Written by qms: the parse cache of `qms check` (safe to delete), kept out of git\n*\n"
#: tags a read-only mapping in an entry (item values hold no bytes, so no value can look like it)
_PROXY = b"m"


def cache_folder(root: Path, config: ProjectConfig) -> tuple[Path | None, list[Finding]]:
    """The folder of the project's parse cache, or None with a finding where ``cache`` in qms.yaml
    points outside the project or into a folder that ``sources`` or ``records`` read."""
    location = config.location(("cache",))
    try:
        return _checked_folder(root, config, location)
    except (OSError, ValueError) as error:  # a NUL in the name, a name too long, a loop of links
        message = f"cache '{excerpt(config.cache)}' is not a folder qms can use ({error}): name another"
        return None, [Finding("Q002", Severity.ERROR, message, location)]


def _checked_folder(root: Path, config: ProjectConfig, location: Location) -> tuple[Path | None, list[Finding]]:
    top = root.resolve()
    folder = (root / config.cache).resolve()
    if folder == top or not within(folder, (top,)):
        where = "is the project folder itself" if folder == top else "points outside the project"
        message = f"cache '{config.cache}' {where}: name a folder of its own inside it, such as _build/qms-cache"
        return None, [Finding("Q002", Severity.ERROR, message, location)]
    for setting in ("sources", "records"):
        for entry in getattr(config, setting):
            base = _fixed_part(top, entry)
            if base != top and within(base, (top,)) and within(folder, (base,)):
                message = (
                    f"cache '{config.cache}' is inside '{entry}' of `{setting}`: qms keeps its cache apart from "
                    "the files it reads; name another folder, such as _build/qms-cache"
                )
                return None, [Finding("Q002", Severity.ERROR, message, location)]
    return folder, []


def _fixed_part(top: Path, entry: str) -> Path:
    """The folder or file an entry of ``sources`` names before its first wildcard, resolved."""
    parts = Path(entry).parts
    fixed = next((index for index, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    return top.joinpath(*parts[:fixed]).resolve()


class ParseCache:
    """Reads item files through the cache in ``folder``."""

    def __init__(self, folder: Path, policy: RiskPolicy) -> None:
        self.folder = folder
        self.policy = policy
        #: what every key depends on besides the file: the entry layout, qms's code, Python, libyaml, the policy
        self._salt = _environment() + repr(policy).encode("utf-8", "surrogatepass")
        self._writable = True

    def load(self, file: Path, path: str) -> LoadedFile:
        """The items of one file (``path`` relative to the root, with ``/``), from the cache when it has them."""
        data = file_bytes(file, path)
        if isinstance(data, YamlDocument):  # not read (too large, not a file): nothing to keep
            return loaded(data, self.policy)
        named = path.encode("utf-8", "surrogatepass")
        key = hashlib.blake2b(self._salt + b"\0" + named + b"\0" + data, digest_size=_DIGEST).digest()
        entry = self.folder / f"{hashlib.blake2b(named, digest_size=16).hexdigest()}.bin"
        found = _read_entry(entry, key, path)
        if found is not None:
            return found
        result = loaded(parse_bytes(data, path), self.policy)
        if self._writable:
            self._write_entry(entry, key, result)
        return result

    def _write_entry(self, entry: Path, key: bytes, result: LoadedFile) -> None:
        try:
            payload = marshal.dumps(_encode(result))
        except ValueError:  # a value marshal cannot hold: this file is parsed every time
            return
        check = hashlib.blake2b(payload, digest_size=_DIGEST).digest()
        try:
            if not self.folder.is_dir():
                atomic.write_text(self.folder / ".gitignore", _IGNORE_ALL)
            atomic.write_bytes(entry, MAGIC + key + check + payload)
        except OSError:  # a read-only or full disk makes the check slower, not wrong
            self._writable = False


def _environment() -> bytes:
    """What the parse depends on besides a file and the policy: qms's version and code, Python, PyYAML."""
    code = hashlib.blake2b(digest_size=_DIGEST)
    for module in sorted(Path(qms.__file__).parent.glob("*.py")):
        code.update(module.name.encode() + b"\0" + module.read_bytes() + b"\0")
    libyaml = getattr(yaml, "__with_libyaml__", False)
    return b"\0".join(
        (
            MAGIC,
            qms.__version__.encode(),
            code.digest(),
            sys.version.encode(),
            yaml.__version__.encode(),
            b"%d" % libyaml,
        )
    )


def _read_entry(entry: Path, key: bytes, path: str) -> LoadedFile | None:
    """The cached result in ``entry`` if it was made for ``key``; None if absent, stale, corrupt or foreign."""
    try:
        blob = entry.read_bytes()
    except OSError:
        return None
    start = len(MAGIC)
    if not blob.startswith(MAGIC) or blob[start : start + _DIGEST] != key:
        return None
    payload = blob[start + 2 * _DIGEST :]
    if hashlib.blake2b(payload, digest_size=_DIGEST).digest() != blob[start + _DIGEST : start + 2 * _DIGEST]:
        return None
    try:
        return _decode(marshal.loads(payload), path)
    except (ValueError, TypeError, EOFError, KeyError, IndexError, AttributeError):
        return None


# ------------------------------------------------------------------------------ entries as plain data


def _encode(result: LoadedFile) -> tuple[Any, ...]:
    items = []
    paths: dict[Any, Any] = {}  # one object per field path, which marshal then writes once
    for item in result.items:
        fields = dict(item.fields)
        tagged = tuple(name for name, value in fields.items() if _has_proxy(value))
        for name in tagged:
            fields[name] = _tagged(fields[name])
        positions = {paths.setdefault(path, path): place for path, place in item.positions.items()}
        items.append((item.id, item.kind, fields, positions, tagged))
    findings = [
        (f.rule, f.severity.value, f.message, f.location.file, f.location.line, f.location.column, f.item)
        for f in result.findings
    ]
    return result.title, items, findings


def _has_proxy(value: Any) -> bool:
    if isinstance(value, MappingProxyType):
        return True
    if isinstance(value, dict):
        return any(_has_proxy(entry) for entry in value.values())
    if isinstance(value, list | tuple):
        return any(_has_proxy(entry) for entry in value)
    return False


def _tagged(value: Any) -> Any:
    """A value with each read-only mapping in it as ``(_PROXY, dict)``."""
    if isinstance(value, MappingProxyType):
        return (_PROXY, {key: _tagged(entry) for key, entry in value.items()})
    if isinstance(value, dict):
        return {key: _tagged(entry) for key, entry in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_tagged(entry) for entry in value)
    return value


def _untagged(value: Any) -> Any:
    if type(value) is tuple:
        if len(value) == 2 and type(value[0]) is bytes:
            return MappingProxyType({key: _untagged(entry) for key, entry in value[1].items()})
        return tuple(_untagged(entry) for entry in value)
    if type(value) is list:
        return [_untagged(entry) for entry in value]
    if type(value) is dict:
        return {key: _untagged(entry) for key, entry in value.items()}
    return value


def _decode(data: Any, path: str) -> LoadedFile:
    title, entries, findings = data
    items = []
    for item_id, kind, fields, positions, tagged in entries:
        for name in tagged:
            fields[name] = _untagged(fields[name])
        items.append(Item(item_id, kind, MappingProxyType(fields), path, MappingProxyType(positions)))
    return LoadedFile(
        title,
        tuple(items),
        tuple(
            Finding(rule, Severity(severity), message, Location(file, line, column), item)
            for rule, severity, message, file, line, column, item in findings
        ),
    )
