"""Every interface string has a Vietnamese translation in its program's catalogue, and each
shipped catalogue is compiled from its .po file.

Three catalogues: the stall's (pos/, templates/pos), the server's (sync/server,
templates/server) and the shared core's (sync/*.py), which both programs load after their own.
"""
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "pgettext": ((1, "c"), 2)}   # pgettext("paper", ...): pos/paper_language.py
CATALOGUES = {   # folder: the sources whose strings it translates (babel/*.cfg say the same)
    "pos/translations": [("pos/**.py", "python"), ("templates/pos/**.html", "jinja2")],
    "sync/server/translations": [("sync/server/**.py", "python"),
                                 ("templates/server/**.html", "jinja2")],
    "sync/translations": [("sync/*.py", "python")],
}


def _po(folder: str) -> Path:
    return ROOT / folder / "vi" / "LC_MESSAGES" / "messages.po"


def _source_messages(method_map: list[tuple[str, str]]) -> set[tuple[str | None, str]]:
    """(context, msgid) of every string the sources mark: printed paper's have context "paper"."""
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=KEYWORDS):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def test_the_babel_configs_name_the_same_sources():
    for folder, config in (("pos/translations", "stall"), ("sync/server/translations", "server"),
                           ("sync/translations", "core")):
        text = (ROOT / "babel" / f"{config}.cfg").read_text()
        assert all(f"[{method}: {pattern}]" in text for pattern, method in CATALOGUES[folder])


@pytest.mark.parametrize("folder", sorted(CATALOGUES))
def test_every_string_is_translated_to_vietnamese(folder: str) -> None:
    with _po(folder).open("rb") as f:
        catalog = read_po(f, locale="vi")
    translated = {(m.context, m.id) for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_source_messages(CATALOGUES[folder]) - translated)
    assert not missing, f"untranslated in {folder} (see README, Translations): {missing}"


@pytest.mark.parametrize("folder", sorted(CATALOGUES))
def test_compiled_catalogue_matches_the_po_file(folder: str) -> None:
    with _po(folder).open("rb") as f:
        po = {(m.context, m.id): m.string for m in read_po(f, locale="vi")
              if m.id and not m.fuzzy}
    with _po(folder).with_suffix(".mo").open("rb") as f:
        mo = {(m.context, m.id): m.string for m in read_mo(BytesIO(f.read())) if m.id}
    assert mo == po, f"messages.mo is stale: run pybabel compile -d {folder}"
