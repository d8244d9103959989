"""The parse cache of ``qms check``: what was read from each item, record and result file, kept by
the digest of the file's bytes, so that a file that has not changed is not parsed again.

An entry is used only for the same bytes at the same path, read with the same inputs besides (the
risk policy for items, whose levels are converted while reading; the project's ids and kinds for
records, which name tests and anomalies), by the same qms code on the same Python; anything else
(an edited file, a corrupt or foreign cache, another version of qms) is parsed afresh. Each sort
of file has one cache file holding an entry per file of the last check, in plain data
(:mod:`marshal`) behind a digest that is checked before it is read; it is written again,
atomically, when an entry changed, and grows with the project, not with its edits.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import importlib.util
import itertools
import marshal
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import yaml

import qms
from qms import atomic
from qms.config import ProjectConfig
from qms.elements import Finding, Item, Location, Severity
from qms.loading import LoadedFile, loaded
from qms.model import Project
from qms.paths import within
from qms.risk import RiskPolicy
from qms.terminal import excerpt
from qms.yamlfile import YamlDocument, file_bytes, parse_bytes

#: the first bytes of the cache file; a new layout of entries gets a new one
MAGIC = b"qms parse cache 2\n"
T = TypeVar("T")
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


class FileCache(Generic[T]):
    """What was read from each file of one sort (item files, record files, result files), kept in
    one cache file ``NAME.bin`` of ``folder``: read once, written once by :meth:`save` when an entry
    changed (one write is cheaper than one per file). ``salt`` is what the reading depends on
    besides the file's bytes and path; ``encode`` makes a result plain data for :mod:`marshal`,
    ``decode`` makes it back (given the path), raising ValueError, TypeError, LookupError or
    AttributeError on an entry it cannot read."""

    def __init__(
        self, folder: Path, name: str, salt: bytes, encode: Callable[[T], Any], decode: Callable[[Any, str], T]
    ) -> None:
        self.file = folder / f"{name}.bin"
        self._salt = hashlib.blake2b(b"\0".join((_environment(), name.encode(), salt)), digest_size=_DIGEST).digest()
        self._encode, self._decode = encode, decode
        self._known = _read_pack(self.file)
        #: the entries of this run, by path: (key, the entry as marshal wrote it)
        self._entries: dict[str, tuple[bytes, bytes]] = {}
        self._changed = False

    def read(self, path: str, data: bytes, parse: Callable[[], T]) -> T:
        """What ``parse`` makes of the file at ``path`` whose bytes are ``data`` (or whose digest, for
        a file streamed rather than read whole): from the cache when it holds an entry for them,
        else parsed (and kept)."""
        key = self._key(path, data)
        found = self._cached(path, key)
        if found is not None:
            return found[0]
        result = parse()
        self._keep(path, key, result)
        return result

    def read_all(self, files: Sequence[tuple[str, bytes, Callable[[], T]]]) -> list[T]:
        """:meth:`read` of each of ``files`` (path, bytes, parse), in order. Where many are not in the
        cache (a cold run: a fresh clone in CI), a forked process parses about half of them while this
        one parses the rest (:func:`_parse_beside`): the same results and the same entries."""
        keys = [self._key(path, data) for path, data, _ in files]
        found: list[tuple[T] | None] = [self._cached(path, key) for (path, _, _), key in zip(files, keys, strict=True)]
        missing = [index for index, entry in enumerate(found) if entry is None]
        beside = set(missing[1::2]) if _forks(missing) else set()
        collect = _parse_beside(self, [files[index] for index in sorted(beside)]) if beside else dict
        parsed = {index: files[index][2]() for index in missing if index not in beside}
        shared = collect()
        results = []
        for index, entry in enumerate(found):  # kept in the order of the files, as one process keeps them
            path, _, parse = files[index]
            if entry is None and index in beside and (blob := shared.get(path)) is not None:
                entry = self._adopted(path, keys[index], blob)
            if entry is None:
                result = parsed[index] if index in parsed else parse()
                self._keep(path, keys[index], result)
                entry = (result,)
            results.append(entry[0])
        return results

    def _adopted(self, path: str, key: bytes, blob: bytes) -> tuple[T] | None:
        """The entry another process made for ``path`` (as :meth:`_keep` makes it), kept; None where it
        cannot be read back (then the file is parsed here)."""
        found = self._decoded(path, blob)
        if found is not None:
            self._entries[path] = (key, blob)
            self._changed = True
        return found

    def cached(self, path: str, data: bytes) -> tuple[T] | None:
        """The entry for ``path`` and ``data`` (alone in a tuple); None where the cache holds none."""
        return self._cached(path, self._key(path, data))

    def _cached(self, path: str, key: bytes) -> tuple[T] | None:
        known = self._known.get(path)
        if known is None or known[0] != key:
            return None
        found = self._decoded(path, known[1])
        if found is not None:
            self._entries[path] = known
        return found

    def _decoded(self, path: str, blob: bytes) -> tuple[T] | None:
        """The value an entry holds (alone in a tuple); None where it is not an entry qms wrote (the
        caller makes it again)."""
        try:
            return (self._decode(marshal.loads(blob), path),)
        except (ValueError, TypeError, EOFError, LookupError, AttributeError):
            return None

    def keep(self, path: str, data: bytes, result: T) -> None:
        """Keep ``result`` as the entry for ``path`` and ``data``."""
        self._keep(path, self._key(path, data), result)

    def _keep(self, path: str, key: bytes, result: T) -> None:
        with contextlib.suppress(ValueError):  # a value marshal cannot hold: this file is parsed every time
            self._entries[path] = (key, marshal.dumps(self._encode(result)))
        self._changed = True

    def _key(self, path: str, data: bytes) -> bytes:
        key = hashlib.blake2b(self._salt + b"\0" + path.encode("utf-8", "surrogatepass") + b"\0", digest_size=_DIGEST)
        key.update(data)  # the same digest as of the whole, without copying the file's bytes into it
        return key.digest()

    def key_of(self, path: str) -> bytes | None:
        """The key of this run's entry for ``path`` (its bytes, path and salt); None where it has none
        (not read through the cache, or a result marshal cannot hold)."""
        entry = self._entries.get(path)
        return entry[0] if entry is not None else None

    def save(self, shared: Callable[[str], bool] | None = None) -> None:
        """Write the entries of this run (and only those: a removed file's entry goes) if any changed;
        with ``shared``, also those of the cache file as it is now that this run did not ask for and
        whose name ``shared`` accepts (what another command asks beside it)."""
        gone = self._known.keys() - self._entries.keys()
        if not self._changed and not any(shared is None or not shared(name) for name in gone):
            return
        entries = dict(self._entries)
        if shared is not None:
            on_disk = _read_pack(self.file).items()
            entries.update((name, entry) for name, entry in on_disk if name not in entries and shared(name))
        payload = marshal.dumps(entries)
        check = hashlib.blake2b(payload, digest_size=_DIGEST).digest()
        try:
            if not self.file.parent.is_dir():
                atomic.write_text(self.file.parent / ".gitignore", _IGNORE_ALL)
            atomic.write_bytes(self.file, MAGIC + check + payload)
        except OSError:  # a read-only or full disk makes the check slower, not wrong
            return
        self._known, self._changed = entries, False


#: the format of :func:`key_bytes`: marshal's last without references to objects written before
KEY_FORMAT = 2


def key_bytes(value: Any) -> bytes:
    """``value`` (texts, bytes, numbers, None, booleans, and tuples, lists and dicts of them) as bytes that
    depend on the value alone: what a key or a digest is made of. Marshal's own format writes an object
    that something else holds too (a title its item also holds) as a reference where it comes again, and,
    from format 4, an interned text otherwise than another text: the same rows made once from the items
    and once read back from a kept file gave two keys, and a title edit wrote the whole trace matrix of
    the workbook again where it changed six of its rows. Format 2 writes every object as it is."""
    return marshal.dumps(value, KEY_FORMAT)


def project_cache(
    project: Project, name: str, salt: bytes, encode: Callable[[T], Any], decode: Callable[[Any, str], T]
) -> FileCache[T] | None:
    """A cache of a loaded project's files of one sort; None where ``cache`` in qms.yaml is refused
    (that finding is the project's, reported by :func:`qms.project.load_project`)."""
    folder, _ = cache_folder(project.root, project.config)
    return FileCache(folder, name, salt, encode, decode) if folder is not None else None


def project_fingerprint(
    config: ProjectConfig, keys: Sequence[bytes | None], findings: Sequence[Finding]
) -> bytes | None:
    """The digest of what a project is made of: its configuration (as read from qms.yaml), the key of
    each item file's cache entry (its path and bytes, the risk policy, qms and Python), in order, and
    the loader's findings; None where a file has no key (then nothing is kept by the project)."""
    if any(key is None for key in keys):
        return None
    try:
        payload = key_bytes((repr(config), list(keys), findings_data(findings)))
    except ValueError:
        return None
    return hashlib.blake2b(_environment() + b"\0" + payload, digest_size=_DIGEST).digest()


def project_memo(
    project: Project, name: str, compute: Callable[[], T], encode: Callable[[T], Any], decode: Callable[[Any, str], T]
) -> T:
    """``compute()``, which must depend on nothing but the project (its items and qms.yaml, no other
    file, no git, no evidence), kept in the cache ``name`` by the project's fingerprint: computed
    again whenever anything the project was made of changed, or the project was not read through
    the parse cache."""
    cache = project_cache(project, name, b"", encode, decode) if project.fingerprint is not None else None
    if cache is None or project.fingerprint is None:
        return compute()
    value = cache.read("project", project.fingerprint, compute)
    cache.save()
    return value


def project_memo_beside(
    project: Project, name: str, compute: Callable[[], T], encode: Callable[[T], Any], decode: Callable[[Any, str], T]
) -> Callable[[], T]:
    """:func:`project_memo`, started now and given by the function returned: where the cache does
    not hold it (a cold run, an edit) and the project has :data:`BESIDE_FROM` items or more, it is
    computed in a forked process (:func:`beside`) while the caller does other work, and kept by
    that process; where that process fails, here, as :func:`project_memo` would."""
    cache = project_cache(project, name, b"", encode, decode) if project.fingerprint is not None else None
    kept = (
        cache.cached("project", project.fingerprint) if cache is not None and project.fingerprint is not None else None
    )
    if kept is not None:
        return lambda: kept[0]
    collect = None
    if len(project.items) >= BESIDE_FROM and can_fork():
        collect = beside(lambda: encode(project_memo(project, name, compute, encode, decode)))

    @functools.cache
    def value() -> T:
        made = collect() if collect is not None else None
        if made is not None:
            with contextlib.suppress(ValueError, TypeError, LookupError, AttributeError):
                return decode(made, "project")
        return project_memo(project, name, compute, encode, decode)

    return value


#: files left to parse from which a second process is worth its start (a cold run of a large project)
PARALLEL_FROM = 64
#: items from which what a project alone gives is worth computing in a second process
#: (:func:`project_memo_beside`): some 10 ms to start it, 0.15 s of rules at 10,000 items
BESIDE_FROM = 2000


def _forks(missing: Sequence[int]) -> bool:
    """Whether to parse ``missing`` files in two processes: enough of them, and :func:`can_fork`."""
    return len(missing) >= PARALLEL_FROM and can_fork()


def can_fork() -> bool:
    """Whether a second process is worth starting for work beside this one (:func:`beside`): two
    cores or more, and :func:`forkable`."""
    return (os.cpu_count() or 1) > 1 and forkable()


def forkable() -> bool:
    """Whether this process may fork: fork available, and no other thread (a forked copy of a
    process with threads may hold their locks, which no thread of it will release)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _parse_beside(
    cache: FileCache[T], files: Sequence[tuple[str, bytes, Callable[[], T]]]
) -> Callable[[], dict[str, bytes]]:
    """Start parsing ``files`` in a forked process (:func:`beside`), while the caller parses others;
    the function returned waits for it and gives the cache entries it made (by path, as
    :meth:`FileCache._keep` makes them). Those it could not make are missing (the caller parses
    them), and so are all where the process could not be started or did not finish."""

    def parse() -> dict[str, bytes]:
        made: dict[str, bytes] = {}
        for path, _, read in files:
            with contextlib.suppress(Exception):  # the caller parses it, and reports what is wrong
                made[path] = marshal.dumps(cache._encode(read()))
        return made

    collect = beside(parse)

    def entries() -> dict[str, bytes]:
        made = collect() if collect is not None else None
        if not isinstance(made, dict):
            return {}
        return {path: blob for path, blob in made.items() if isinstance(path, str) and isinstance(blob, bytes)}

    return entries


def beside(work: Callable[[], Any]) -> Callable[[], Any] | None:
    """Start ``work`` in a forked process while the caller goes on; None where no process could be
    started. The function returned waits for the process and gives what ``work`` returned (plain
    data :mod:`marshal` can hold), or None where it raised, returned anything else, or did not
    finish: the caller then does the work itself, and meets the same error (called again, it gives
    the same).

    The process leaves without running anything of the caller's (no exit handlers, no buffers
    flushed); the files it writes are the caches ``work`` keeps, written atomically as any run
    writes them. Fork only where :func:`can_fork` says so."""
    parts = beside_in_turn(lambda: iter([work()]), 1)
    return parts[0] if parts is not None else None


def beside_in_turn(work: Callable[[], Iterator[Any]], count: int) -> list[Callable[[], Any]] | None:
    """:func:`beside` for work that hands back ``count`` parts in turn (what ``work`` yields), each sent
    as soon as it is made: the caller takes the first while the process makes the next. One
    function per part waits for it and gives it, or None where the process failed or ended before
    it sent that part whole (the parts it sent before stand); each part is taken once and kept, and
    the process is waited for once every part is in (or it ended). Where the system allows it, the
    pipe holds a part of up to a mebibyte without waiting for the caller to read it."""
    try:
        reading, writing = os.pipe()
        child = os.fork()
    except OSError:
        return None
    if child == 0:  # the forked process: work, send each part, and leave
        status = 1
        try:
            os.close(reading)
            _widen_pipe(writing)
            with os.fdopen(writing, "wb") as stream:
                for part in itertools.islice(work(), count):
                    payload = marshal.dumps(part)
                    stream.write(len(payload).to_bytes(_LENGTH, "big") + payload)
                    stream.flush()
            status = 0
        finally:
            os._exit(status)
    os.close(writing)
    return _Parts(child, os.fdopen(reading, "rb"), count).takers()


#: the bytes of a part's length, before the part (:func:`beside_in_turn`)
_LENGTH = 8
#: how much a pipe to the caller may hold (:func:`_widen_pipe`): a mebibyte, Linux's default limit
_PIPE_SIZE = 1 << 20


def _widen_pipe(descriptor: int) -> None:
    """Let the pipe hold :data:`_PIPE_SIZE` bytes where the system allows it (Linux); else it stays."""
    import fcntl

    setting = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setting is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(descriptor, setting, _PIPE_SIZE)


class _Parts:
    """The parts a process started by :func:`beside_in_turn` sends, read in turn as they are asked for,
    by the process that started it only: a process forked from that one later (which holds the pipe
    too) is given the parts read before it started, and None for the others, which it would take
    from the pipe away from the process they are for."""

    def __init__(self, child: int, stream: Any, count: int) -> None:
        self._child, self._stream, self._count = child, stream, count
        self._received: list[Any] = []
        self._ended = False
        self._reader = os.getpid()

    def takers(self) -> list[Callable[[], Any]]:
        return [functools.partial(self._take, index) for index in range(self._count)]

    def _take(self, index: int) -> Any:
        if os.getpid() != self._reader:
            return self._received[index] if index < len(self._received) else None
        while len(self._received) <= index and not self._ended:
            part = self._next()
            if part is _MISSING:
                self._end()
            else:
                self._received.append(part)
                if len(self._received) == self._count:
                    self._end()
        return self._received[index] if index < len(self._received) else None

    def _next(self) -> Any:
        """The next part sent whole, or :data:`_MISSING` where the process sent no more (read while it
        writes: a pipe holds only so much)."""
        head = self._stream.read(_LENGTH)
        if len(head) != _LENGTH:
            return _MISSING
        payload = self._stream.read(int.from_bytes(head, "big"))
        if len(payload) != int.from_bytes(head, "big"):
            return _MISSING
        try:
            return marshal.loads(payload)
        except (ValueError, TypeError, EOFError):
            return _MISSING

    def _end(self) -> None:
        self._ended = True
        self._stream.close()
        os.waitpid(self._child, 0)


_MISSING = object()


class ItemTexts:
    """A text made from one item alone (its id, kind, file, fields and their places) by ``make``, for
    any item, kept between runs in the cache ``name`` by the key of the item's file in the parse cache
    (:attr:`Project.file_keys`): the same key, the same items, the same texts. An edit makes the texts
    of the edited file's items again, and those of an item of a file not read through the parse cache
    are made every time. Where two files write an item of one id, the project's is the first file's,
    and it is looked up in that file's texts (made when it is missing there). :meth:`save` keeps the
    texts of this run's files (call it once they are all asked)."""

    def __init__(self, project: Project, name: str, make: Callable[[Item], str]) -> None:
        self._project, self._make = project, make
        self._cache = project_cache(project, name, b"", dict, _texts_by_id) if project.file_keys else None
        self._files: dict[str, dict[str, str]] = {}
        self._by_file: dict[str, list[Item]] | None = None

    def text(self, item: Item) -> str:
        texts = self._files.get(item.file)
        if texts is None:
            key = self._project.file_keys.get(item.file)
            made = functools.partial(self._made, item.file)
            texts = made() if self._cache is None or key is None else self._cache.read(item.file, key, made)
            self._files[item.file] = texts
        found = texts.get(item.id)
        return found if found is not None else self._make(item)

    def save(self) -> None:
        if self._cache is not None:
            self._cache.save()

    def _made(self, file: str) -> dict[str, str]:
        """The text of each item of ``file`` the project shows, by id."""
        if self._by_file is None:
            self._by_file = {}
            for item in self._project:
                self._by_file.setdefault(item.file, []).append(item)
        return {item.id: self._make(item) for item in self._by_file.get(file, ())}


def _texts_by_id(data: Any, _: str) -> dict[str, str]:
    if not isinstance(data, dict) or not all(type(key) is str and type(text) is str for key, text in data.items()):
        raise ValueError("not texts of items by id")
    return data


def item_cache(folder: Path, policy: RiskPolicy) -> FileCache[LoadedFile]:
    """The cache of item files (levels are converted while reading: the risk policy is part of the key)."""
    return FileCache(folder, "items", repr(policy).encode("utf-8", "surrogatepass"), _encode, _decode)


def load_item_files(
    cache: FileCache[LoadedFile], files: Sequence[tuple[Path, str]], policy: RiskPolicy
) -> list[LoadedFile]:
    """The items of each file (its path, and the path relative to the root with ``/``), in order, from
    ``cache`` where it has them, the others parsed (in two processes where they are many)."""
    found: list[LoadedFile | None] = []
    read: list[tuple[str, bytes, Callable[[], LoadedFile]]] = []
    for file, path in files:
        data = file_bytes(file, path)
        if isinstance(data, YamlDocument):  # not read (too large, not a file): nothing to keep
            found.append(loaded(data, policy))
            continue
        found.append(None)
        read.append((path, data, functools.partial(_load_bytes, data, path, policy)))
    parsed = iter(cache.read_all(read))
    return [entry if entry is not None else next(parsed) for entry in found]


def _load_bytes(data: bytes, path: str, policy: RiskPolicy) -> LoadedFile:
    return loaded(parse_bytes(data, path), policy)


def _read_pack(file: Path) -> dict[str, tuple[bytes, bytes]]:
    """The entries of the cache file by path; none if it is absent, corrupt or foreign."""
    try:
        blob = file.read_bytes()
    except OSError:
        return {}
    start = len(MAGIC)
    payload = blob[start + _DIGEST :]
    if (
        not blob.startswith(MAGIC)
        or hashlib.blake2b(payload, digest_size=_DIGEST).digest() != blob[start : start + _DIGEST]
    ):
        return {}
    entries = _loaded_dict(payload)
    if entries is None:
        return {}
    return {
        path: entry
        for path, entry in entries.items()
        if isinstance(path, str)
        and isinstance(entry, tuple)
        and len(entry) == 2
        and all(isinstance(part, bytes) for part in entry)
    }


def _loaded_dict(payload: bytes) -> dict[Any, Any] | None:
    """The dict :mod:`marshal` wrote as ``payload``; None where it wrote something else, or nothing readable."""
    try:
        found = marshal.loads(payload)
    except (ValueError, TypeError, EOFError):
        return None
    return found if isinstance(found, dict) else None


#: qms's code and data that what is kept depends on: every module, the schemas and tables
_CODE = ("**/*.py", "data/*.yaml", "schemas/*.json")


@functools.cache
def code_digest() -> bytes:
    """Fingerprint of qms's own code and data (:data:`_CODE`), read once per process: what anything
    qms keeps between runs depends on besides its inputs (the parse cache, the site's fragments)."""
    code = hashlib.blake2b(digest_size=_DIGEST)
    package = Path(qms.__file__).parent
    for pattern in _CODE:
        for module in sorted(package.glob(pattern)):
            code.update(module.relative_to(package).as_posix().encode() + b"\0" + module.read_bytes() + b"\0")
    return code.digest()


@functools.cache
def _environment() -> bytes:
    """What everything kept depends on besides its files: qms's version, code and data, Python,
    PyYAML, docutils."""
    code = hashlib.blake2b(code_digest(), digest_size=_DIGEST)
    docutils = importlib.util.find_spec("docutils")  # parses item text for the Q009 answers kept
    if docutils is not None and docutils.origin is not None:
        code.update(Path(docutils.origin).read_bytes())
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


# ------------------------------------------------------------------------------ entries as plain data


def _encode(result: LoadedFile) -> tuple[Any, ...]:
    items = []
    paths: dict[Any, Any] = {}  # one object per field path, which marshal then writes once
    for item in result.items:
        fields = dict(item.fields)
        tagged = tuple(name for name, value in fields.items() if type(value) is not str and _has_proxy(value))
        for name in tagged:
            fields[name] = _tagged(fields[name])
        positions = {paths.setdefault(path, path): place for path, place in item.positions.items()}
        items.append((item.id, item.kind, fields, positions, tagged))
    return result.title, items, findings_data(result.findings)


def _has_proxy(value: Any) -> bool:
    """Whether a read-only mapping is in ``value`` (text, most values, is passed over at once)."""
    kind = type(value)
    if kind is MappingProxyType:
        return True
    if kind is dict:
        value = value.values()
    elif kind is not tuple and kind is not list:
        return False
    for entry in value:  # noqa: SIM110 - a loop, not any() over a generator: the links of every item pass here
        if type(entry) is not str and _has_proxy(entry):
            return True
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
    return LoadedFile(title, tuple(items), findings_from(findings))


def findings_data(findings: Iterable[Finding]) -> list[tuple[Any, ...]]:
    """Findings as plain data for a cache entry."""
    return [
        (f.rule, f.severity.value, f.message, f.location.file, f.location.line, f.location.column, f.item)
        for f in findings
    ]


def findings_from(data: Iterable[Sequence[Any]]) -> tuple[Finding, ...]:
    """The findings :func:`findings_data` made plain data of."""
    return tuple(
        Finding(rule, Severity(severity), message, Location(file, line, column), item)
        for rule, severity, message, file, line, column, item in data
    )
