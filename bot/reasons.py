"""A roster, villages or targets file's row problems in the reader's language, for chat.

The imports (bot/roster/, bot/villages.py, bot/targets.py) say what is wrong with a row in
English, as the command line prints it. A file sent in chat is answered in the sender's language:
each problem the imports give is matched here to its text in the catalogs (`reason_<key>`), its
parts (the value written, the row it clashes with) filled in. A problem not in this table is shown
as the imports wrote it.
"""

from __future__ import annotations

import re

from bot.i18n import t

_Q = r"'(?P<value>.*)'"  # a value as the imports quote it ('...', Python's repr)
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (key, re.compile(pattern))
    for key, pattern in (
        ("name_empty", r"name is empty"),
        ("phone_empty", r"phone is empty"),
        ("phone_not_digits", rf"(?:phone|alt_phones:) {_Q} has characters that are not digits"),
        ("phone_not_indian", rf"(?:phone|alt_phones:) {_Q} is not an Indian \(\+91\) number"),
        (
            "phone_not_ten",
            rf"(?:phone|alt_phones:) {_Q} does not have 10 digits after the country code",
        ),
        (
            "phone_not_mobile",
            rf"(?:phone|alt_phones:) {_Q} is not a mobile number \(must start with 6, 7, 8 or 9\)",
        ),
        ("role_unknown", rf"role {_Q} is not one of .*"),
        (
            "needs",
            r"(?P<column>district|block|sector|village) is empty \(a (?P<role>\w+) needs .*\)",
        ),
        ("active_unknown", rf"active {_Q} is not true or false"),
        ("language_unknown", rf"language {_Q} is not hi or en"),
        (
            "outside_india_swapped",
            r"lat (?P<lat>\S+), lon (?P<lon>\S+) is outside India \(lat and lon look swapped\)",
        ),
        ("outside_india", r"lat (?P<lat>\S+), lon (?P<lon>\S+) is outside India"),
        ("lat_lon_together", r"lat and lon go together: give both or neither"),
        ("not_decimal", rf"(?P<column>lat|lon) {_Q} is not a (?:decimal )?number"),
        ("worker_id_twice", r"worker_id (?P<id>.+) is already used on row (?P<other>\d+)"),
        (
            "phone_twice",
            r"phone (?P<phone>\S+) is already on row (?P<other>\d+); a field worker's phone may "
            r"appear only once",
        ),
        (
            "phone_other_person",
            r"phone (?P<phone>\S+) is on row (?P<other>\d+) for (?P<name>.+) \((?P<role>\w+)\); "
            r"one phone, one person",
        ),
        (
            "phone_taken",
            r"phone (?P<phone>\S+) already belongs to (?P<name>.+) on row (?P<other>\d+)",
        ),
        (
            "phone_in_database",
            r"phone (?P<phone>\S+) belongs to (?P<name>.+) in the database, who is not in this file",
        ),
        (
            "same_person_twice",
            r"this row and row (?P<other>\d+) would both update (?P<name>.+) \(matched by "
            r"worker_id, else phone\); give each their own worker_id",
        ),
        (
            "village_far",
            r"village (?P<village>.+) is (?P<km>[\d.]+) km from where row (?P<other>\d+) puts it",
        ),
        ("no_district", rf"no district {_Q} on the roster"),
        ("no_block", rf"no block {_Q} in district (?P<district>.+) on the roster"),
        ("no_sector", rf"no sector {_Q} in block (?P<block>.+) on the roster"),
        (
            "village_twice",
            r"village (?P<village>.+) of (?P<block>.+) is already on row (?P<other>\d+)",
        ),
        ("extra_cells", r"more cells than header columns \(a comma inside a name needs quotes\)"),
        ("no_people", r"the file has a header but no people"),
        ("no_villages", r"the file has a header but no villages"),
        ("no_rows", r"the file has no rows below the header"),
        ("header_lacks", r"header lacks column\(s\): (?P<columns>.*)"),
        ("metric_unknown", rf"metric {_Q} is not a configured metric \((?P<known>.*)\)"),
        ("level_unknown", rf"level {_Q} is not one of (?P<known>.*)"),
        ("negative", rf"(?P<column>\w+) {_Q} is negative"),
        ("not_whole", rf"(?P<column>\w+) {_Q} is not a whole number"),
        ("too_large", rf"(?P<column>\w+) {_Q} is far too large"),
        ("baseline_over", r"baseline (?P<baseline>\d+) is more than eligible (?P<eligible>\d+)"),
        ("target_twice", r"(?P<unit>.+) (?P<metric>\w+) is already given in row (?P<other>\d+)"),
        ("lgd_not_code", rf"(?P<column>\w+_lgd) {_Q} is not an LGD code \(a whole number\)"),
        ("empty", r"(?P<column>district|block|village|lat|lon) is empty"),
    )
]
_LEVELS = ("district", "block", "sector")


def reason(message: str, lang: str) -> str:
    """The import's problem in `lang`; as written when it is English or not in the table."""
    if lang == "en":
        return message
    for key, pattern in PATTERNS:
        found = pattern.fullmatch(message)
        if found is None:
            continue
        values = {k: v for k, v in found.groupdict().items() if v is not None}
        if "column" in values:
            column = values["column"]
            values["column"] = (
                t(lang, f"level_{column}")
                if column in _LEVELS
                else t(lang, "reason_village")
                if column == "village"
                else column
            )
        if "role" in values:
            values["role"] = t(lang, f"role_{values['role']}")
        return t(lang, f"reason_{key}", **values)
    return message
