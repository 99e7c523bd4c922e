"""Numbers as Indian users read and write them: 1,00,000 and Hindi number words."""

from __future__ import annotations

import unicodedata

from babel.numbers import format_decimal

DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")


def indian(n: int | float) -> str:
    """Indian digit grouping: 100000 -> 1,00,000."""
    if not isinstance(n, int):
        return str(format_decimal(n, locale="en_IN", decimal_quantization=False))
    digits = str(abs(n))
    head, tail = digits[:-3], digits[-3:]
    groups = [head[max(i - 2, 0) : i] for i in range(len(head), 0, -2)][::-1]
    return ("-" if n < 0 else "") + ",".join([*groups, tail])


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def match_key(text: str) -> str:
    """A form of a word for loose matching: NFC, casefolded, without nukta, chandrabindu as anusvara."""
    text = unicodedata.normalize("NFD", text.casefold())
    text = text.replace("\u093c", "").replace("\u0901", "\u0902")
    return unicodedata.normalize("NFC", text)


_HINDI_WORDS = """
0 शून्य zero
1 एक ek one
2 दो do two
3 तीन teen three
4 चार char chaar four
5 पांच पाँच पंच panch paanch five
6 छह छः छे chhah chhe six
7 सात saat seven
8 आठ aath eight
9 नौ nau nine
10 दस das ten
11 ग्यारह gyarah eleven
12 बारह barah twelve
13 तेरह terah thirteen
14 चौदह chaudah fourteen
15 पंद्रह पन्द्रह pandrah fifteen
16 सोलह solah sixteen
17 सत्रह satrah seventeen
18 अठारह atharah eighteen
19 उन्नीस unnis nineteen
20 बीस bees bis twenty
21 इक्कीस ikkis
22 बाईस बाइस bais
23 तेईस तेइस teis
24 चौबीस chaubis
25 पच्चीस पचीस pachchis pachis pachees
26 छब्बीस chhabbis
27 सत्ताईस सताईस sattais
28 अट्ठाईस अठाईस atthais
29 उनतीस untis
30 तीस tees thirty
31 इकतीस इकत्तीस
32 बत्तीस
33 तैंतीस तेतीस तैतीस
34 चौंतीस चौतीस
35 पैंतीस पैतीस
36 छत्तीस
37 सैंतीस सैतीस
38 अड़तीस
39 उनतालीस उन्तालीस
40 चालीस chalis forty
41 इकतालीस
42 बयालीस बियालीस
43 तैंतालीस तैतालीस
44 चवालीस चौवालीस
45 पैंतालीस पैतालीस
46 छियालीस
47 सैंतालीस सैतालीस
48 अड़तालीस
49 उनचास
50 पचास pachas fifty
51 इक्यावन इकावन
52 बावन
53 तिरपन तिरेपन
54 चौवन चव्वन
55 पचपन
56 छप्पन
57 सत्तावन सतावन
58 अट्ठावन अठावन
59 उनसठ
60 साठ saath sixty
61 इकसठ
62 बासठ
63 तिरसठ
64 चौंसठ चौसठ
65 पैंसठ पैसठ
66 छियासठ
67 सड़सठ सरसठ
68 अड़सठ
69 उनहत्तर
70 सत्तर sattar seventy
71 इकहत्तर
72 बहत्तर
73 तिहत्तर
74 चौहत्तर
75 पचहत्तर
76 छिहत्तर
77 सतहत्तर
78 अठहत्तर
79 उनासी उन्यासी
80 अस्सी assi eighty
81 इक्यासी
82 बयासी बियासी
83 तिरासी
84 चौरासी
85 पचासी
86 छियासी
87 सत्तासी
88 अट्ठासी अठासी
89 नवासी
90 नब्बे nabbe ninety
91 इक्यानवे इक्यानबे
92 बानवे बानबे
93 तिरानवे तिरानबे
94 चौरानवे चौरानबे
95 पंचानवे पचानवे पंचानबे
96 छियानवे छियानबे
97 सत्तानवे सत्तानबे
98 अट्ठानवे अट्ठानबे
99 निन्यानवे निन्यानबे
100 सौ sau hundred
"""


def _word_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for line in _HINDI_WORDS.strip().splitlines():
        value, *words = line.split()
        for word in words:
            table[match_key(word)] = int(value)
    # "do" is also an English word; in a report it is only ever a number next to a metric.
    return table


NUMBER_WORDS: dict[str, int] = _word_table()
