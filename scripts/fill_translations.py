"""Fills empty entries of locale/nl/LC_MESSAGES/messages.po from a Python file that defines
NL = {msgid: msgstr} (and PLURALS = {singular: (one, many)}). Used once per batch of new texts;
the .po file stays the source of the translations."""

import runpy
import sys

from babel.messages.pofile import read_po, write_po

PO = "locale/nl/LC_MESSAGES/messages.po"
source = runpy.run_path(sys.argv[1])
catalog = read_po(open(PO, "rb"))
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, tuple):
        if not any(message.string) and message.id[0] in source.get("PLURALS", {}):
            message.string = source["PLURALS"][message.id[0]]
    elif not message.string and message.id in source["NL"]:
        message.string = source["NL"][message.id]
with open(PO, "wb") as handle:
    write_po(handle, catalog, sort_output=True, width=100)
missing = [m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.id, tuple) else m.string)]
print("still untranslated:", missing)
