"""The README's reference of every config key, generated from the schema `genlab.config.schema.run_schema`.

Each field of the schema's dataclasses is one row: its key as typed on the
command line (``diffusion.steps``), its default as a user would type it
(``[w1,sliced_w1]``, ``null``), and its meaning, the ``#:`` comment above the
field.  A field without one is an error, so a new key cannot go undocumented.

    python -m genlab.config.reference                    # print the markdown
    python -m genlab.config.reference --check README.md  # exit 1 if README.md's section differs
    python -m genlab.config.reference --write README.md  # rewrite that section in place

The section is the text between `START` and `END` in the README.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import re
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

from genlab.config.schema import FIELD_MEANINGS, run_schema
from genlab.core.files import atomic_write_text
from genlab.core.validation import is_number

__all__ = ["Key", "Section", "field_comments", "format_default", "sections", "render", "replace_section",
           "START", "END", "main"]

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"


class Key(NamedTuple):
    """One row: dotted key, default as typed on the command line, meaning."""

    key: str
    default: str
    meaning: str


class Section(NamedTuple):
    """One table: ``prefix`` ("" for the top level, else e.g. "diffusion"), its schema and intro, its keys."""

    prefix: str
    schema: type
    intro: str
    keys: list


def field_comments(cls: type) -> dict[str, str]:
    """The ``#:`` comment above each field of the dataclass ``cls``, its lines joined by spaces.

    Read by hand from the class's source: the standard library has no reader
    for ``#:`` attribute comments (``ast`` drops comments, ``inspect.getcomments``
    reads only those above a class or function, and Sphinx's ``ModuleAnalyzer``,
    which does read them, is not a dependency).  Only the contiguous ``#:`` lines
    directly above a field count; a plain ``#`` comment there is a group heading.
    """
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    (node,) = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]
    out = {}
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            text, i = [], stmt.lineno - 2  # 0-based index of the line above the field
            while i >= 0 and lines[i].lstrip().startswith("#:"):
                text.append(lines[i].lstrip()[2:].strip())
                i -= 1
            if text:
                out[stmt.target.id] = " ".join(reversed(text))
    return out


def format_default(value) -> str:
    """``value`` as typed in a Hydra override: null, true/false, numbers, bare strings, ``[a,b]``.

    >>> format_default(["w1", "sliced_w1"]), format_default(None), format_default(1e-4)
    ('[w1,sliced_w1]', 'null', '0.0001')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # a string Hydra would read as another type or split (a list, a function call) is quoted;
        # a path or an interpolation ${...} is shown as it stands
        if not value or value.lower() in ("null", "true", "false") or is_number(value) \
                or re.search(r"[\s,\[\]()'\"=]", value):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return value
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_default(v) for v in value) + "]"
    raise TypeError(f"no command-line form for a default of type {type(value).__name__}: {value!r}")


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise ValueError(f"{f.name}: the field has no default")


def _comments(cls: type) -> dict[str, str]:
    """``field_comments`` over ``cls`` and its dataclass bases, the nearest definition winning; a class
    generated from a registry (`genlab.config.schema`) carries its meanings in ``__field_meanings__``."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if FIELD_MEANINGS in vars(klass):
            out.update(vars(klass)[FIELD_MEANINGS])
        elif dataclasses.is_dataclass(klass):
            out.update(field_comments(klass))
    return out


def sections(schema: type | None = None) -> list[Section]:
    """The tables of ``schema``: its own keys first, then one per nested dataclass field, recursively.

    The nested sections keep the schema's field order, except that sections
    whose dataclass is defined in the schema's own module (truth, kde, eval,
    rates) come before those of the estimator families' modules.

    Raises
    ------
    ValueError
        A field has no ``#:`` comment, naming the key and the class.
    """
    schema = run_schema() if schema is None else schema
    found: list[Section] = []

    def walk(cls: type, prefix: str, intro: str) -> None:
        meanings = _comments(cls)
        rows, nested = [], []
        for f in dataclasses.fields(cls):
            key = f"{prefix}.{f.name}" if prefix else f.name
            meaning = meanings.get(f.name)
            if not meaning:
                raise ValueError(f"{key}: no '#:' comment above the field {f.name} of "
                                 f"{cls.__module__}.{cls.__qualname__}; document it there")
            sub = _default(f)
            if dataclasses.is_dataclass(sub):
                nested.append((type(sub), key, meaning))
            else:
                rows.append(Key(key, format_default(sub), meaning))
        found.append(Section(prefix, cls, intro, rows))
        for sub_cls, key, meaning in nested:
            walk(sub_cls, key, meaning)

    walk(schema, "", "the keys of the run itself")
    top, rest = found[0], found[1:]
    rest.sort(key=lambda s: s.schema.__module__ != schema.__module__)  # stable: field order within each
    return [top] + rest


#: a code span, `x` or ``x``
_CODE = re.compile(r"(`+).+?\1")


def _cell(text: str) -> str:
    """``text`` safe in a markdown table cell.

    ``|`` would end the cell, even inside a code span (GitHub's tables split
    cells first); outside code spans ``<`` could open an HTML tag (``<run>``
    would vanish) and ``*``, ``~`` emphasis or strike-through, so they are
    backslash-escaped.
    """
    out, pos = [], 0
    for m in _CODE.finditer(text):
        out += [re.sub(r"([<*~])", r"\\\1", text[pos:m.start()]), m.group(0)]
        pos = m.end()
    out.append(re.sub(r"([<*~])", r"\\\1", text[pos:]))
    return "".join(out).replace("|", "\\|")


def render(schema: type | None = None) -> str:
    """The markdown of every section of ``schema`` (default: `run_schema`): a heading, a one-line intro and
    a table each."""
    out = []
    for s in sections(schema):
        title = f"`{s.prefix}`" if s.prefix else "Top level"
        out += [f"### {title}", "",
                f"`{s.schema.__module__}.{s.schema.__qualname__}`: {_cell(s.intro)}.", "",
                "| key | default | meaning |", "|---|---|---|"]
        for k in s.keys:
            default = k.default.replace("|", "\\|")  # a code span: only | needs escaping there
            out.append(f"| `{k.key}` | `{default}` | {_cell(k.meaning)} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _block(body: str) -> str:
    """What stands between the markers: a blank line, the tables, a blank line."""
    return "\n\n" + body + "\n"


def _split(text: str, where: str) -> tuple[str, str, str]:
    """(before and START, the section, END and after); ValueError unless each marker is there once, in order."""
    for marker in (START, END):
        if text.count(marker) != 1:
            raise ValueError(f"{where}: needs the marker {marker} exactly once, found it {text.count(marker)} times")
    i, j = text.index(START) + len(START), text.index(END)
    if j < i:
        raise ValueError(f"{where}: {END} comes before {START}")
    return text[:i], text[i:j], text[j:]


def replace_section(text: str, body: str, where: str = "README") -> str:
    """``text`` with the section between the markers replaced by ``body``."""
    head, _, tail = _split(text, where)
    return head + _block(body) + tail


def _first_difference(have: str, want: str, line0: int) -> str:
    """Where the section ``have`` first departs from ``want``; its first line is line ``line0`` of the file."""
    a, b = have.splitlines(), want.splitlines()
    for n, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"line {line0 + n} reads {x[:60]!r}, expected {y[:60]!r}"
    if len(a) > len(b):
        return f"{len(a) - len(b)} line(s) too many from line {line0 + len(b)}"
    if len(a) < len(b):
        return f"{len(b) - len(a)} line(s) missing after line {line0 + len(a) - 1}"
    return "its line endings differ"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genlab.config.reference",
                                     description="The markdown reference of every config key.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", metavar="README", help="exit 1 if README's section differs from the schema")
    group.add_argument("--write", metavar="README", help="replace README's section by the generated text")
    args = parser.parse_args(argv)
    path = args.check or args.write
    try:
        body = render()
        if path is None:
            sys.stdout.write(body)
            return 0
        text = Path(path).read_text(encoding="utf-8")
        head, have, tail = _split(text, path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    want = _block(body)
    if args.check:
        if have != want:
            where = _first_difference(have, want, line0=head.count("\n") + 1)
            print(f"error: {path}: the configuration reference differs from the schema ({where}); "
                  f"run python -m genlab.config.reference --write {path}", file=sys.stderr)
            return 1
        return 0
    if have != want:
        atomic_write_text(path, replace_section(text, body, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
