"""Loading a project: ``qms.yaml``, then every item file, then the link graph.

``files -> load -> Project (immutable, indexed, links resolved) -> check / render / export``.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from pathlib import Path
from types import MappingProxyType

from qms.config import PROJECT_FILE, Device, ProjectConfig, find_root, load_config
from qms.loading import load_file
from qms.model import Finding, Item, Link, Location, Project, Severity
from qms.parsecache import cache_folder, item_cache, load_item_files, project_fingerprint
from qms.paths import Matches, allowed_roots, broken_link, project_files
from qms.schema import KIND_ORDER, KINDS
from qms.yamlfile import collection_paused

_SUFFIXES = (".yaml", ".yml")


class ProjectNotFound(Exception):
    """No ``qms.yaml`` in the folder or above it."""


def source_files(root: Path, config: ProjectConfig, setting: str = "sources") -> tuple[list[Path], list[Finding]]:
    """Every YAML file under ``sources`` (or another setting of folders and globs: ``records``), in a
    stable order, each once; what cannot be read, as findings."""
    files: dict[Path, None] = {}
    findings: list[Finding] = []
    roots = allowed_roots(root, config.allow_outside)
    patterns: tuple[str, ...] = getattr(config, setting)
    for index, source in enumerate(patterns):
        matches = project_files(root, source, roots, _SUFFIXES)
        location = config.location((setting, index))
        if matches.missing:
            message = f"{setting.rstrip('s')} '{source}' does not exist: create the folder or correct `{setting}`"
            findings.append(Finding("Q001", Severity.ERROR, message, location))
            continue
        findings += _outside_findings(root, setting, source, matches, location)
        for path in matches.files:
            if path.name != PROJECT_FILE:
                files[path] = None
    return list(files), findings


def evidence_findings(root: Path, config: ProjectConfig) -> list[Finding]:
    """What the ``evidence`` globs would read from outside the project, as findings."""
    roots = allowed_roots(root, config.allow_outside)
    findings: list[Finding] = []
    for index, pattern in enumerate(config.evidence):
        matches = project_files(root, pattern, roots)
        findings += _outside_findings(root, "evidence", pattern, matches, config.location(("evidence", index)))
    return findings


def _outside_findings(root: Path, setting: str, entry: str, matches: Matches, location: Location) -> list[Finding]:
    """What an entry matched and does not read: files outside the project, a site qms built, and
    symbolic links that lead nowhere (each at its own path: a file the project meant to hold is never
    skipped unsaid)."""
    allow = "list the folder under `allow_outside:` in qms.yaml if it is meant to be read"
    if matches.outside:
        message = f"{setting} entry '{entry}' points outside the project: nothing is read from it; {allow}"
        return [Finding("Q001", Severity.ERROR, message, location)]
    if matches.site:
        message = (
            f"{setting} entry '{entry}' is in a site qms built: its files are copies, and nothing is read "
            f"from it; name the folder the files themselves are in"
        )
        return [Finding("Q001", Severity.ERROR, message, location)]
    broken = [
        Finding(
            "Q001",
            Severity.ERROR,
            f"{_relative(root, path)} cannot be read: {broken_link(path)}; restore what it points to, or remove it",
            Location(_relative(root, path)),
        )
        for path in matches.broken
    ]
    if not matches.refused:
        return broken
    first = matches.refused[0]
    more = f" and {len(matches.refused) - 1} more" if len(matches.refused) > 1 else ""
    message = (
        f"{setting} entry '{entry}' reaches {_relative(root, first)}{more} outside the project through a "
        f"symbolic link: not read; {allow}"
    )
    return [*broken, Finding("Q001", Severity.ERROR, message, location)]


def _relative(root: Path, path: Path) -> str:
    """``path`` relative to the project root, with ``/`` (``../`` for a file beside the project)."""
    return _relative_to(root.resolve(), path)


def _relative_to(top: Path, path: Path) -> str:
    """``path`` relative to ``top``, the resolved project root (resolved once for all files of a project)."""
    return Path(os.path.relpath(path, top)).as_posix()


def load_project(root: Path, *, outside: bool = True, cache: bool = False) -> Project:
    """Load the project whose ``qms.yaml`` is in ``root``. Problems become findings.

    ``outside=False`` ignores ``allow_outside``: a project extracted from git into a temporary
    folder must not read what happens to lie beside that folder. ``cache=True`` keeps each
    parsed file in the project's parse cache (:mod:`qms.parsecache`) and reads unchanged files
    from it.
    """
    with collection_paused():
        return _load_project(root, outside, cache)


def _load_project(root: Path, outside: bool, cache: bool) -> Project:
    config, findings = load_config(root)
    if config is not None and not outside:
        config = dataclasses.replace(config, allow_outside=())
    if config is None:
        empty = ProjectConfig(device=Device(name="(unreadable qms.yaml)", software_safety_class="C"))
        return Project(root=root, config=empty, items=MappingProxyType({}), files=(), load_findings=tuple(findings))
    paths, source_findings = source_files(root, config)
    findings.extend(source_findings)
    findings.extend(evidence_findings(root, config))
    folder, cache_findings = cache_folder(root, config)
    findings.extend(cache_findings)
    reader = item_cache(folder, config.risk_policy) if cache and folder is not None else None
    items: dict[str, Item] = {}
    titles: dict[str, str] = {}
    top = root.resolve()
    relative_paths = [_relative_to(top, path) for path in paths]
    files = list(zip(paths, relative_paths, strict=True))
    every = (
        load_item_files(reader, files, config.risk_policy)
        if reader
        else (load_file(path, relative, config.risk_policy) for path, relative in files)
    )
    for relative, loaded in zip(relative_paths, every, strict=True):
        if loaded.title is not None:
            titles[relative] = loaded.title
        for item in loaded.items:
            first = items.get(item.id)
            if first is None:
                items[item.id] = item
                continue
            findings.append(_duplicate(item, first))
        findings.extend(loaded.findings)
    fingerprint = None
    keys: dict[str, bytes] = {}
    if reader is not None:
        reader.save()
        fingerprint = project_fingerprint(config, [reader.key_of(path) for path in relative_paths], findings)
        keys = {path: key for path in relative_paths if (key := reader.key_of(path)) is not None}
    return dataclasses.replace(
        build_project(root, config, items, tuple(relative_paths), findings),
        file_titles=MappingProxyType(titles),
        fingerprint=fingerprint,
        file_keys=MappingProxyType(keys),
    )


def _duplicate(item: Item, first: Item) -> Finding:
    where = first.location()
    return Finding(
        "Q003",
        Severity.ERROR,
        f"duplicate id '{item.id}': already defined at {where}; ids must be unique across the project",
        item.location(),
        item.id,
    )


#: the link fields of each kind, in the order of its spec
_LINK_FIELDS = {name: tuple(spec.name for spec in kind.link_fields) for name, kind in KINDS.items()}


def build_project(
    root: Path, config: ProjectConfig, items: dict[str, Item], files: tuple[str, ...], findings: list[Finding]
) -> Project:
    """Index items, resolve links both ways, and freeze the result."""
    links: list[Link] = []
    unresolved: list[Link] = []
    backlinks: dict[str, list[Link]] = defaultdict(list)
    forward: dict[str, list[Link]] = defaultdict(list)
    by_kind: dict[str, list[Item]] = defaultdict(list)
    for item in items.values():
        by_kind[item.kind].append(item)
        for field_name in _LINK_FIELDS.get(item.kind, ()):
            targets = item.fields.get(field_name)
            if not isinstance(targets, tuple):
                continue
            for index, target in enumerate(targets):
                link = Link(item.id, field_name, target, item.location((field_name, index)))
                if target in items:
                    links.append(link)
                    backlinks[target].append(link)
                    forward[item.id].append(link)
                else:
                    unresolved.append(link)
    ordered = {kind: tuple(by_kind[kind]) for kind in KIND_ORDER if kind in by_kind}
    ordered.update({kind: tuple(group) for kind, group in by_kind.items() if kind not in ordered})
    return Project(
        root=root,
        config=config,
        items=MappingProxyType(items),
        files=files,
        load_findings=tuple(findings),
        links=tuple(links),
        backlinks=MappingProxyType({target: tuple(group) for target, group in backlinks.items()}),
        forward=MappingProxyType({source: tuple(group) for source, group in forward.items()}),
        by_kind=MappingProxyType(ordered),
        unresolved=tuple(unresolved),
    )


def open_project(start: Path, explicit: Path | None = None, *, cache: bool = False) -> Project:
    """Find the project root (``--project`` or upward from ``start``) and load it (``cache``: see
    :func:`load_project`)."""
    root = explicit.resolve() if explicit else find_root(start)
    if root is None or not (root / PROJECT_FILE).is_file():
        where = explicit or start
        raise ProjectNotFound(
            f"no {PROJECT_FILE} found in {where} or any folder above it; "
            "run `qms init DIR` to start a project, or pass --project DIR"
        )
    return load_project(root, cache=cache)
