"""Every interface string has a Vietnamese translation, and the shipped catalogue is compiled from it."""
from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "pos" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    found = set()
    method_map = [("pos/**.py", "python"), ("sync/**.py", "python"),
                  ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_is_translated_to_vietnamese():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="vi")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_source_messages() - translated)
    assert not missing, f"untranslated (run pybabel extract/update, see README): {missing}"


def test_compiled_catalogue_matches_the_po_file():
    with PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f, locale="vi") if m.id and not m.fuzzy}
    with MO.open("rb") as f:
        mo = {m.id: m.string for m in read_mo(BytesIO(f.read())) if m.id}
    assert mo == po, "messages.mo is stale: run pybabel compile -d pos/translations"
