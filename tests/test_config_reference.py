"""The README's table of config keys is the schema's: every key, its default as typed, its meaning."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from genlab.config import reference as ref
from genlab.config import RunConfig

README = Path(__file__).resolve().parents[1] / "README.md"


def _flat(tree, prefix: str = "") -> dict:
    """Leaf key -> value of a nested container (lists are leaves)."""
    out = {}
    for k, v in tree.items():
        key = f"{prefix}.{k}" if prefix else k
        out.update(_flat(v, key) if isinstance(v, dict) else {key: v})
    return out


def _schema_defaults() -> dict:
    """Every leaf key of RunConfig with its default, as OmegaConf sees the schema (no interpolation resolved)."""
    return _flat(OmegaConf.to_container(OmegaConf.structured(RunConfig), resolve=False))


def _rows() -> dict:
    return {k.key: k for s in ref.sections() for k in s.keys}


def test_every_schema_key_has_a_row_and_a_meaning():
    schema, rows = _schema_defaults(), _rows()
    assert sorted(rows) == sorted(schema) and len(rows) == len(schema)
    for key, row in rows.items():
        assert row.meaning.strip(), key
    assert [s.prefix for s in ref.sections()] == ["", "truth", "eval", "rates", "kde", "diffusion", "gan", "icl",
                                                  "regression"]


def test_rendered_defaults_are_the_schemas():
    rows, parser = _rows(), OverridesParser.create()
    for key, value in _schema_defaults().items():
        typed = rows[key].default
        if isinstance(value, str):  # shown as it stands (a path with ~ is no Hydra bare word, so not parsed)
            assert typed == value, key
            continue
        parsed = parser.parse_override(f"{key}={typed}").value()
        assert parsed == value and type(parsed) is type(value), (key, typed, value)
        if isinstance(value, list):
            assert [type(v) for v in parsed] == [type(v) for v in value], key
    assert rows["eval.m"].default == "2000"
    assert rows["rates.seeds"].default == "5"
    assert rows["eval.floor_cache"].default == "~/.cache/genlab/floors"
    assert rows["eval.metrics"].default == "[w1,sliced_w1]"
    assert rows["rates.n"].default == "[250,500,1000,2000,4000]"
    assert rows["truth.dim"].default == "null"
    assert rows["progress"].default == "true"
    assert rows["diffusion.t0"].default == "0.0001"
    assert rows["out_dir"].default == "runs/${name}/${now:%Y-%m-%d_%H-%M-%S-%f}"


def test_readme_section_is_the_generated_text(capsys):
    text = README.read_text(encoding="utf-8")
    # the markers sit in the section "Configuration keys", the one just before "Errors"
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[headings.index("## Configuration keys") + 1] == "## Errors"
    assert text.index("## Configuration keys") < text.index(ref.START) < text.index(ref.END) \
        < text.index("## Errors")
    assert ref.main(["--check", str(README)]) == 0
    out = capsys.readouterr()
    assert out.out == out.err == ""
    between = text[text.index(ref.START) + len(ref.START):text.index(ref.END)]
    assert between == "\n\n" + ref.render() + "\n"


def test_print(capsys):
    assert ref.main([]) == 0
    assert capsys.readouterr().out == ref.render()


def test_check_refuses_an_edited_row_in_one_line_and_write_restores_it(tmp_path, capsys):
    text = README.read_text(encoding="utf-8")
    row = "| `eval.m` | `2000` |"
    assert text.count(row) == 1
    edited = tmp_path / "README.md"
    edited.write_text(text.replace(row, "| `eval.m` | `4000` |"), encoding="utf-8")
    assert ref.main(["--check", str(edited)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert len(out.err.splitlines()) == 1 and out.err.endswith("\n")
    assert "eval.m" in out.err and "--write" in out.err
    assert edited.read_text(encoding="utf-8") != text  # --check writes nothing
    assert ref.main(["--write", str(edited)]) == 0
    assert edited.read_text(encoding="utf-8") == text
    assert ref.main(["--check", str(edited)]) == 0


def test_check_without_markers_is_one_line(tmp_path, capsys):
    bare = tmp_path / "README.md"
    bare.write_text("# nothing here\n", encoding="utf-8")
    for mode in ("--check", "--write"):
        assert ref.main([mode, str(bare)]) == 1
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and ref.START in err
    assert bare.read_text(encoding="utf-8") == "# nothing here\n"


# -- the parser and the renderer on small schemas of their own -------------------------------------

@dataclass
class _Inner:
    #: documented
    a: int = 1
    b: int = 2


@dataclass
class _Outer:
    #: a number
    x: float = 0.5
    #: the inner group
    inner: _Inner = field(default_factory=_Inner)


@dataclass
class _Doc:
    # a group heading, not a meaning
    #: first line
    #:   second line
    a: List[str] = field(default_factory=lambda: ["p", "q"])
    #: a | in a table, a <tag>, a `code | span`
    b: Optional[str] = None
    #: separated from its field by a blank line: no meaning

    c: bool = False


def test_a_field_without_meaning_is_an_error_naming_its_key():
    with pytest.raises(ValueError, match=r"^inner\.b: no '#:' comment above the field b of .*_Inner"):
        ref.sections(_Outer)
    with pytest.raises(ValueError, match=r"^c: "):
        ref.sections(_Doc)


@dataclass
class _Cells:
    #: joined
    #: over two lines
    a: List[str] = field(default_factory=lambda: ["p", "q"])
    #: a | in a table, a <tag>, an s* and a `code | <span>`
    b: Optional[str] = None


def test_field_comments_take_only_the_lines_right_above():
    assert ref.field_comments(_Doc) == {"a": "first line second line",
                                        "b": "a | in a table, a <tag>, a `code | span`"}


def test_rows_are_safe_markdown():
    lines = ref.render(_Cells).splitlines()
    assert "| `a` | `[p,q]` | joined over two lines |" in lines
    # | escaped everywhere (it ends a cell even in a code span), < and * only outside code spans
    assert "| `b` | `null` | a \\| in a table, a \\<tag>, an s\\* and a `code \\| <span>` |" in lines


@pytest.mark.parametrize("value, typed", [
    (None, "null"), (True, "true"), (3, "3"), (1e-4, "0.0001"), (1.0e4, "10000.0"), ([], "[]"),
    (["w1", "sliced_w1"], "[w1,sliced_w1]"), ([0.01, 1.0], "[0.01,1.0]"), ("cuda:0", "cuda:0"),
    ("", "''"), ("null", "'null'"), ("1.5", "'1.5'"), ("a b", "'a b'"),
])
def test_format_default(value, typed):
    assert ref.format_default(value) == typed
    if isinstance(value, str) and typed.startswith("'"):  # quoted strings read back as the string
        assert OverridesParser.create().parse_override(f"k={typed}").value() == value
