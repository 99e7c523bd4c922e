"""The dashboard's words, in Hindi (first) and English; chat replies are in bot/i18n.py."""

from __future__ import annotations

from bot.i18n import TEXTS as CHAT_TEXTS

TEXTS: dict[str, dict[str, str]] = {
    "title": {"hi": "फील्डबॉट डैशबोर्ड", "en": "Fieldbot dashboard"},
    "how_head": {"hi": "डैशबोर्ड खोलने के लिए लिंक चाहिए", "en": "You need a link to open the dashboard"},
    "how_body": {
        "hi": "टेलीग्राम या व्हाट्सऐप पर फील्डबॉट को निजी चैट में /web (डैशबोर्ड) भेजें। "
        "आपको एक लिंक मिलेगा जो कुछ मिनट तक एक बार चलता है। लिंक खोलकर «साइन इन» दबाएँ। "
        "डैशबोर्ड सुपरवाइज़र, BMO, ज़िला अधिकारियों और एडमिन के लिए है।",
        "en": "Send /web (डैशबोर्ड) to Fieldbot in a private chat on Telegram or WhatsApp. You get "
        "a link that works once, for a few minutes. Open it and press «Sign in». The dashboard is "
        "for supervisors, BMOs, district officers and admins.",
    },
    "login_head": {"hi": "डैशबोर्ड में साइन इन करें", "en": "Sign in to the dashboard"},
    "login_body": {
        "hi": "यह लिंक एक बार चलता है। साइन इन दबाने पर यह इस्तेमाल हो जाएगा।",
        "en": "This link works once. Pressing Sign in uses it up.",
    },
    "sign_in": {"hi": "साइन इन", "en": "Sign in"},
    "link_unknown": {
        "hi": "यह लिंक सही नहीं है। बॉट को /web भेजकर नया लिंक लें।",
        "en": "This link is not valid. Send /web to the bot for a new one.",
    },
    "link_used": {
        "hi": "यह लिंक पहले ही इस्तेमाल हो चुका है। बॉट को /web भेजकर नया लिंक लें।",
        "en": "This link has already been used. Send /web to the bot for a new one.",
    },
    "link_expired": {
        "hi": "इस लिंक का समय निकल गया। बॉट को /web भेजकर नया लिंक लें।",
        "en": "This link has expired. Send /web to the bot for a new one.",
    },
    "link_refused": {
        "hi": "डैशबोर्ड सिर्फ़ सक्रिय सुपरवाइज़र, BMO, ज़िला अधिकारियों और एडमिन के लिए है।",
        "en": "The dashboard is only for active supervisors, BMOs, district officers and admins.",
    },
    "form_expired": {
        "hi": "फ़ॉर्म पुराना हो गया। पेज दोबारा खोलकर फिर से कोशिश करें।",
        "en": "The form has expired. Open the page again and try once more.",
    },
    "log_out": {"hi": "लॉग आउट", "en": "Log out"},
    "logged_out": {"hi": "आप लॉग आउट हो गए।", "en": "You are logged out."},
    "not_found": {"hi": "यह पेज नहीं मिला।", "en": "This page was not found."},
    "your_units": {"hi": "आपकी इकाइयाँ", "en": "Your units"},
    "p_today": {"hi": "आज", "en": "Today"},
    "p_week": {"hi": "पिछले 7 दिन", "en": "Last 7 days"},
    "p_campaign": {"hi": "अभियान", "en": "Campaign"},
    "from": {"hi": "से", "en": "From"},
    "to": {"hi": "तक", "en": "To"},
    "show": {"hi": "दिखाएँ", "en": "Show"},
    "bad_range": {
        "hi": "तारीखें सही नहीं थीं; आज की स्थिति दिखाई गई है।",
        "en": "Those dates were not valid; today is shown.",
    },
    "reported": {"hi": "रिपोर्ट भेजी", "en": "Reported"},
    "of_workers": {"hi": "{reported} / {workers} कार्यकर्ता", "en": "{reported} of {workers} workers"},
    "target": {"hi": "लक्ष्य", "en": "Target"},
    "achievement": {"hi": "उपलब्धि", "en": "Achievement"},
    "no_target": {"hi": "लक्ष्य तय नहीं", "en": "no target set"},
    "campaign_so_far": {"hi": "अभियान में अब तक", "en": "Campaign so far"},
    "required_daily": {"hi": "रोज़ चाहिए", "en": "Needed per day"},
    "projected_finish": {"hi": "अनुमानित पूरा", "en": "Projected finish"},
    "coverage": {"hi": "पात्र आबादी का कवरेज", "en": "Coverage of the eligible"},
    "place": {"hi": "स्थान", "en": "Place"},
    "chart_metric": {"hi": "रोज़ {metric}, लक्ष्य के सामने", "en": "{metric} per day, against the target"},
    "chart_reported": {"hi": "रोज़ रिपोर्ट भेजने वाले", "en": "Workers reporting per day"},
    "daily_target": {"hi": "रोज़ का लक्ष्य {target}", "en": "daily target {target}"},
    "below": {"hi": "नीचे की इकाइयाँ", "en": "Units below"},
    "workers_head": {"hi": "कार्यकर्ता", "en": "Workers"},
    "rank": {"hi": "क्रम", "en": "Rank"},
    "name": {"hi": "नाम", "en": "Name"},
    "pct": {"hi": "लक्ष्य का %", "en": "% of target"},
    "last_report": {"hi": "आख़िरी रिपोर्ट", "en": "Last report"},
    "days_reported": {"hi": "रिपोर्ट के दिन", "en": "Days reported"},
    "never": {"hi": "कभी नहीं", "en": "never"},
    "sort_by": {"hi": "क्रम बदलें", "en": "Sort by"},
    "missing_head": {"hi": "आज रिपोर्ट नहीं भेजी", "en": "Not reported today"},
    "missing_none": {"hi": "आज सबने रिपोर्ट भेज दी ✅", "en": "Everyone has reported today ✅"},
    "missing_counts": {
        "hi": "ज़िला स्तर पर नाम नहीं, हर इकाई में बाकी की गिनती; नाम देखने के लिए इकाई खोलें।",
        "en": "At this level: how many are missing in each unit; open a unit to see the names.",
    },
    "phones_hidden": {
        "hi": "प्रोजेक्टर दृश्य में फ़ोन नंबर नहीं दिखाए जाते।",
        "en": "Phone numbers are not shown in the projector view.",
    },
    "proofs_head": {"hi": "आज की फ़ील्ड फ़ोटो", "en": "Today's field photos"},
    "proofs_counts": {
        "hi": "{verified} सत्यापित · {review} जाँच बाकी",
        "en": "{verified} verified · {review} need review",
    },
    "proofs_none": {"hi": "आज कोई फ़ील्ड फ़ोटो नहीं आई।", "en": "No field photos today."},
    "verified": {"hi": "सत्यापित", "en": "verified"},
    "needs_review": {"hi": "जाँच बाकी", "en": "needs review"},
    "accepted": {"hi": "स्वीकार", "en": "accepted"},
    "rejected": {"hi": "अस्वीकार", "en": "rejected"},
    "accept": {"hi": "स्वीकार करें", "en": "Accept"},
    "reject": {"hi": "अस्वीकार करें", "en": "Reject"},
    "note": {"hi": "टिप्पणी", "en": "Note"},
    "reviewed_by": {"hi": "{decision} — {name}", "en": "{decision} by {name}"},
    "review_done": {
        "hi": "फ़ोटो की जाँच दर्ज हुई; कार्यकर्ता को बता दिया जाएगा।",
        "en": "The review is saved; the worker will be told.",
    },
    "review_already": {
        "hi": "इस फ़ोटो की जाँच पहले ही हो चुकी है।",
        "en": "This photo has already been reviewed.",
    },
    "map_no_points": {
        "hi": "नक्शे पर दिखाने के लिए कोई लोकेशन नहीं।",
        "en": "No locations to show on the map.",
    },
    "distance": {"hi": "दूरी", "en": "Distance"},
    "downloads": {"hi": "डाउनलोड", "en": "Downloads"},
    "download_excel": {"hi": "एक्सेल शीट (इस अवधि की)", "en": "Excel sheet (this period)"},
    "download_proofs": {"hi": "फ़ील्ड फ़ोटो की CSV (इस अवधि की)", "en": "Field photos CSV (this period)"},
    "uploads": {"hi": "फ़ाइल अपलोड", "en": "Upload files"},
    "upload_roster": {"hi": "रोस्टर (CSV या XLSX)", "en": "Roster (CSV or XLSX)"},
    "upload_targets": {"hi": "लक्ष्य (CSV या XLSX)", "en": "Targets (CSV or XLSX)"},
    "check": {"hi": "सिर्फ़ जाँचें", "en": "Check only"},
    "import": {"hi": "जाँचकर दर्ज करें", "en": "Check and import"},
    "upload_none": {"hi": "कोई फ़ाइल नहीं चुनी गई।", "en": "No file was chosen."},
    "upload_too_large": {
        "hi": "फ़ाइल बहुत बड़ी है ({mb} MB तक)।",
        "en": "The file is too large (up to {mb} MB).",
    },
    "upload_type": {
        "hi": "सिर्फ़ .csv या .xlsx फ़ाइल चलेगी।",
        "en": "Only a .csv or .xlsx file can be read.",
    },
    "upload_errors": {
        "hi": "कुछ भी दर्ज नहीं हुआ: {file} में {count} दिक्कतें",
        "en": "Nothing imported: {count} problem(s) in {file}",
    },
    "roster_checked": {
        "hi": "{file}: {people} लोग, हर पंक्ति सही है (सिर्फ़ जाँच: कुछ दर्ज नहीं हुआ)",
        "en": "{file}: {people} people, every row is valid (check only: nothing written)",
    },
    "roster_imported": {
        "hi": "{people} लोग दर्ज: {created} नए, {updated} बदले",
        "en": "Imported {people} people: {created} new, {updated} updated",
    },
    "targets_checked": {
        "hi": "{file}: {rows} पंक्तियाँ, हर पंक्ति सही है ({created} नई, {updated} बदलीं; "
        "सिर्फ़ जाँच: कुछ दर्ज नहीं हुआ)",
        "en": "{file}: {rows} rows, every row is valid ({created} new, {updated} updated; "
        "check only: nothing written)",
    },
    "targets_imported": {
        "hi": "{rows} लक्ष्य पंक्तियाँ दर्ज: {created} नई, {updated} बदलीं, {cleared} हटाईं",
        "en": "Imported {rows} target rows: {created} new, {updated} updated, {cleared} cleared",
    },
    "outside_district": {
        "hi": "{place} आपके क्षेत्र ({unit}) से बाहर है",
        "en": "{place} is outside your area ({unit})",
    },
    "projector": {"hi": "प्रोजेक्टर दृश्य", "en": "Projector view"},
    "updated_at": {"hi": "{time} पर", "en": "as of {time}"},
}


def t(lang: str, key: str, **values: object) -> str:
    """A dashboard text (or, failing that, a chat text) in `lang`, Hindi when unknown."""
    variants = TEXTS.get(key) or CHAT_TEXTS[key]
    template = variants.get(lang) or variants["hi"]
    return template.format(**values) if values else template
