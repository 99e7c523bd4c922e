"""What the bot says, in Hindi (the default) and English."""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("hi", "en")

TEXTS: dict[str, dict[str, str]] = {
    "unknown_phone": {
        "hi": "नमस्ते 🙏 यह नंबर ({phone}) फील्डबॉट की सूची में नहीं है। "
        "कृपया अपने सुपरवाइजर से यह नंबर सूची में जुड़वाएँ, फिर दोबारा संदेश भेजें।",
        "en": "Hello 🙏 This number ({phone}) is not on the Fieldbot roster. "
        "Please ask your supervisor to add it, then send your message again.",
    },
    "inactive": {
        "hi": "नमस्ते {name} जी। आपका नाम अभी सक्रिय सूची में नहीं है, इसलिए यह संदेश दर्ज नहीं हुआ। "
        "कोई गलती हो तो अपने सुपरवाइजर से बात करें।",
        "en": "Hello {name}. Your name is not on the active roster now, so this message was not "
        "recorded. If this is a mistake, please speak to your supervisor.",
    },
    "share_contact": {
        "hi": "नमस्ते 🙏 फील्डबॉट में आपका स्वागत है।\n"
        "अपना मोबाइल नंबर जोड़ने के लिए नीचे «📱 मेरा नंबर भेजें» बटन दबाएँ।",
        "en": "Hello 🙏 Welcome to Fieldbot.\n"
        "Press the «📱 Share my number» button below to link your mobile number.",
    },
    "share_contact_button": {"hi": "📱 मेरा नंबर भेजें", "en": "📱 Share my number"},
    "contact_not_own": {
        "hi": "कृपया किसी और का नहीं, अपना ही नंबर भेजें — नीचे वाला बटन दबाकर।",
        "en": "Please share your own number, not someone else's — press the button below.",
    },
    "linked": {
        "hi": "धन्यवाद {name} जी, आपका नंबर जुड़ गया ✅\n{place}\n\n{help}",
        "en": "Thank you {name}, your number is linked ✅\n{place}\n\n{help}",
    },
    "help_worker": {
        "hi": "रोज़ की रिपोर्ट एक संदेश में भेजें, जैसे:\n"
        "आवेदन 25 कार्ड 20 घर 40\n"
        "या सिर्फ़ संख्याएँ इसी क्रम में: {order_example}\n"
        "(क्रम: {order})\n\n"
        "कल की रिपोर्ट: कल आवेदन 10 कार्ड 8\n"
        "किसी तारीख की: 21/11 कार्ड 8\n"
        "पहले वाली संख्या में जोड़ना हो: कार्ड +5\n"
        "गलती वापस लें: /undo\n"
        "फ़ील्ड फ़ोटो: फ़ोटो भेजें और लोकेशन शेयर करें (📎 → लोकेशन)\n"
        "अपनी स्थिति: /status   भाषा बदलें: /lang en",
        "en": "Send your daily report in one message, like:\n"
        "applications 25 cards 20 households 40\n"
        "or just the numbers in this order: {order_example}\n"
        "(order: {order})\n\n"
        "Yesterday's report: yesterday applications 10 cards 8\n"
        "For a date: 21/11 cards 8\n"
        "To add to what you sent: cards +5\n"
        "Take back the last change: /undo\n"
        "Field photo: send a photo and share your location (📎 → Location)\n"
        "Your figures: /status   Hindi: /lang hi",
    },
    "help_officer": {
        "hi": "आप पूछ सकते हैं:\n"
        "/status — आज की स्थिति (स्थिति)\n"
        "/status सप्ताह या /status अभियान — पूरे सप्ताह/अभियान की\n"
        "/status <इकाई> — किसी सेक्टर या ब्लॉक की, जैसे /status {example_unit}\n"
        "/missing — किसने आज रिपोर्ट नहीं भेजी, फ़ोन नंबर के साथ (बाकी)\n"
        "/top — रैंकिंग (रैंक); /top % — लक्ष्य के प्रतिशत से\n"
        "/export — एक्सेल फ़ाइल\n"
        "/photos — आज की फ़ील्ड फ़ोटो, जाँच वाली पहले (फ़ोटो)\n"
        "/web — डैशबोर्ड खोलने का लिंक (डैशबोर्ड)\n"
        "/lang en — English",
        "en": "You can ask:\n"
        "/status — today's figures\n"
        "/status week or /status campaign — for the week or the whole campaign\n"
        "/status <unit> — a sector or block, e.g. /status {example_unit}\n"
        "/missing — who has not reported today, with phone numbers\n"
        "/top — ranking; /top % — by % of target\n"
        "/export — Excel file\n"
        "/photos — today's field photos, those needing review first\n"
        "/web — a link to open the dashboard\n"
        "/lang hi — हिंदी",
    },
    "sorry_prefix": {
        "hi": "माफ़ कीजिए, रिपोर्ट समझ नहीं आई।",
        "en": "Sorry, I could not read that report.",
    },
    "format_example": {
        "hi": "ऐसे लिखें:\nआवेदन 25 कार्ड 20\nया सिर्फ़ संख्याएँ: {order_example} ({order})\nमदद: /help",
        "en": "Write it like:\napplications 25 cards 20\nor just numbers: {order_example} ({order})\n"
        "Help: /help",
    },
    "why_ambiguous": {
        "hi": "«{detail}» किस चीज़ की संख्या है, यह साफ़ नहीं हुआ।",
        "en": "It is not clear what «{detail}» is the number of.",
    },
    "why_no_numbers": {"hi": "इसमें कोई संख्या नहीं मिली।", "en": "I found no number in it."},
    "why_decimal": {
        "hi": "«{detail}» — पूरी संख्या लिखें, दशमलव नहीं।",
        "en": "«{detail}» — please send whole numbers, not decimals.",
    },
    "why_negative": {
        "hi": "«{detail}» जैसी घटाने वाली संख्या नहीं चलती; सही कुल संख्या भेजें, जैसे कार्ड 18।",
        "en": "Minus numbers like «{detail}» are not taken; send the correct total, e.g. cards 18.",
    },
    "why_duplicate_metric": {
        "hi": "«{detail}» दो बार लिखा है; हर चीज़ एक ही बार लिखें।",
        "en": "«{detail}» appears twice; write each item once.",
    },
    "why_too_many_numbers": {
        "hi": "संख्याएँ ज़्यादा हैं: बिना नाम के अधिकतम {max} संख्याएँ ({order})।",
        "en": "Too many numbers: at most {max} without names ({order}).",
    },
    "why_bad_date": {
        "hi": "तारीख समझ नहीं आई; ऐसे लिखें: 21/11 आवेदन 25, या: कल आवेदन 25।",
        "en": "I could not read the date; write e.g. 21/11 applications 25, or: yesterday "
        "applications 25.",
    },
    "why_negation": {
        "hi": "«{detail}» वाली रिपोर्ट नहीं ली जाती। शून्य हो तो ऐसे लिखें: कार्ड 0।",
        "en": "Reports with «{detail}» are not taken. If it was zero, write: cards 0.",
    },
    "why_too_big": {
        "hi": "«{detail}» बहुत बड़ी संख्या है।",
        "en": "«{detail}» is far too large a number.",
    },
    "why_empty": {"hi": "संदेश खाली है।", "en": "The message is empty."},
    "why_not_understood": {"hi": "", "en": ""},
    "unsupported": {
        "hi": "आवाज़, स्टिकर या फ़ाइल वाला संदेश मैं पढ़ नहीं सकता। कृपया रिपोर्ट लिखकर भेजें, जैसे:\nआवेदन 25 कार्ड 20",
        "en": "I cannot read voice notes, stickers or files. Please type your report, like:\n"
        "applications 25 cards 20",
    },
    "too_long": {
        "hi": "संदेश बहुत लंबा है ({length} अक्षर, अधिकतम {max})। रिपोर्ट छोटे संदेश में भेजें, जैसे: आवेदन 25 कार्ड 20",
        "en": "The message is too long ({length} characters, at most {max}). Send the report "
        "briefly, like: applications 25 cards 20",
    },
    "future_day": {
        "hi": "{date} अभी आई नहीं है — आगे की तारीख की रिपोर्ट नहीं ली जाती। कुछ दर्ज नहीं हुआ।",
        "en": "{date} has not come yet — reports for future days are not taken. Nothing was saved.",
    },
    "too_old": {
        "hi": "{date} की रिपोर्ट अब नहीं ली जा सकती: सिर्फ़ पिछले {days} दिन तक की रिपोर्ट भेज सकते हैं। "
        "कुछ दर्ज नहीं हुआ; अपने सुपरवाइजर को बताएँ।",
        "en": "A report for {date} can no longer be taken: only the last {days} days are open. "
        "Nothing was saved; please tell your supervisor.",
    },
    "over_ceiling": {
        "hi": "{metric} {value} बहुत ज़्यादा है: एक दिन में अधिकतम {max} हो सकते हैं। "
        "कुछ दर्ज नहीं हुआ — संख्या जाँचकर दोबारा भेजें।",
        "en": "{metric} {value} is too many: at most {max} in one day. "
        "Nothing was saved — please check the number and send again.",
    },
    "officer_no_report": {
        "hi": "रोज़ की रिपोर्ट आशा और एएनएम भेजती हैं। आप पूछ सकते हैं: /status, /missing, /top।",
        "en": "Daily reports are sent by ASHAs and ANMs. You can ask: /status, /missing, /top.",
    },
    "saved": {
        "hi": "✅ {day} की रिपोर्ट दर्ज हुई:\n{lines}",
        "en": "✅ Report saved for {day}:\n{lines}",
    },
    "day_totals": {"hi": "{day} का कुल: {totals}", "en": "Total for {day}: {totals}"},
    "campaign_totals": {"hi": "अभियान में अब तक: {totals}", "en": "Campaign so far: {totals}"},
    "unchanged": {"hi": "(पहले जैसा)", "en": "(unchanged)"},
    "undone": {
        "hi": "↩️ पिछला बदलाव वापस लिया ({day}):\n{lines}",
        "en": "↩️ Took back the last change ({day}):\n{lines}",
    },
    "nothing_to_undo": {
        "hi": "वापस लेने के लिए कोई बदलाव नहीं है।",
        "en": "There is no change to take back.",
    },
    "lang_set": {"hi": "ठीक है, अब से हिंदी में बात होगी।", "en": "OK, I will reply in English from now on."},
    "lang_usage": {
        "hi": "भाषा बदलने के लिए: /lang hi या /lang en",
        "en": "To change language: /lang hi or /lang en",
    },
    "today": {"hi": "आज", "en": "today"},
    "yesterday": {"hi": "कल", "en": "yesterday"},
    "not_reported": {"hi": "अभी रिपोर्ट नहीं आई", "en": "not reported yet"},
    "worker_status": {
        "hi": "📊 {name} — {day}\n{today}\n{campaign}",
        "en": "📊 {name} — {day}\n{today}\n{campaign}",
    },
    "unit_status": {
        "hi": "📊 {unit} — {period}\nरिपोर्ट भेजी: {reported}/{workers} कार्यकर्ता\nकुल: {totals}",
        "en": "📊 {unit} — {period}\nReported: {reported}/{workers} workers\nTotals: {totals}",
    },
    "target_line": {
        "hi": "लक्ष्य ({metric}): {done}/{target} = {pct}",
        "en": "Target ({metric}): {done}/{target} = {pct}",
    },
    "breakdown_head": {"hi": "{level} वार:", "en": "By {level}:"},
    "missing_none": {
        "hi": "✅ {unit} — {day}: सबने रिपोर्ट भेज दी ({reported}/{workers})।",
        "en": "✅ {unit} — {day}: everyone has reported ({reported}/{workers}).",
    },
    "missing_head": {
        "hi": "⏳ {unit} — {day}: {count} कार्यकर्ताओं की रिपोर्ट बाकी है ({reported}/{workers} ने भेजी)",
        "en": "⏳ {unit} — {day}: {count} workers have not reported ({reported}/{workers} have)",
    },
    "missing_worker": {
        "hi": "{day} की आपकी रिपोर्ट अभी नहीं आई। भेजें, जैसे: आवेदन 25 कार्ड 20",
        "en": "Your report for {day} has not come yet. Send it like: applications 25 cards 20",
    },
    "missing_worker_done": {
        "hi": "✅ {day} की आपकी रिपोर्ट आ चुकी है।",
        "en": "✅ Your report for {day} is in.",
    },
    "top_head": {
        "hi": "🏆 {unit} — {period}, {metric} के हिसाब से:",
        "en": "🏆 {unit} — {period}, by {metric}:",
    },
    "you": {"hi": "◀ आप", "en": "◀ you"},
    "yours": {"hi": "◀ आपका", "en": "◀ yours"},
    "top_nothing": {"hi": "अभी रैंकिंग के लिए कुछ नहीं है।", "en": "Nothing to rank yet."},
    "out_of_scope": {
        "hi": "आप सिर्फ़ अपने क्षेत्र ({unit}) की जानकारी देख सकते हैं।",
        "en": "You can only see figures for your own area ({unit}).",
    },
    "unit_not_found": {
        "hi": "«{name}» नाम की कोई इकाई नहीं मिली। जैसे लिखें: /status {example_unit}",
        "en": "No unit named «{name}». Write it like: /status {example_unit}",
    },
    "unit_ambiguous": {
        "hi": "«{name}» नाम कई जगह है; पूरा नाम लिखें:\n{options}",
        "en": "«{name}» matches several units; write the full path:\n{options}",
    },
    "private_only": {
        "hi": "फ़ोन नंबर और कार्यकर्ताओं के नाम वाली सूची सिर्फ़ निजी चैट में भेजी जाती है।",
        "en": "Lists with workers' names and phone numbers are sent only in a private chat.",
    },
    # ---- the officers' dashboard (/web)
    "web_link": {
        "hi": "🖥️ डैशबोर्ड खोलने के लिए यह लिंक {minutes} मिनट तक एक बार चलेगा:\n{url}\n\n"
        "लिंक खोलकर «साइन इन» दबाएँ। यह लिंक किसी को आगे न भेजें।",
        "en": "🖥️ This link opens the dashboard once, within {minutes} minutes:\n{url}\n\n"
        "Open it and press «Sign in». Do not forward it to anyone.",
    },
    "web_for_officers": {
        "hi": "डैशबोर्ड सुपरवाइज़र, BMO और ज़िला अधिकारियों के लिए है। अपनी स्थिति जानने के लिए /status भेजें।",
        "en": "The dashboard is for supervisors, BMOs and district officers. "
        "Send /status to see your own figures.",
    },
    "web_private_only": {
        "hi": "डैशबोर्ड का लिंक सिर्फ़ निजी चैट में भेजा जाता है। मुझे सीधे /web भेजें।",
        "en": "The dashboard link is sent only in a private chat. Send /web to me directly.",
    },
    "web_too_many": {
        "hi": "पिछले एक घंटे में {count} लिंक भेजे जा चुके हैं। कृपया थोड़ी देर बाद फिर से /web भेजें।",
        "en": "{count} links were sent in the last hour. Please send /web again a little later.",
    },
    "proof_reviewed_accepted": {
        "hi": "✅ आपकी {date} {time} की फ़ील्ड फ़ोटो जाँच में स्वीकार हो गई।{note}",
        "en": "✅ Your field photo of {date} {time} was accepted on review.{note}",
    },
    "proof_reviewed_rejected": {
        "hi": "❌ आपकी {date} {time} की फ़ील्ड फ़ोटो जाँच में अस्वीकार हुई।{note}",
        "en": "❌ Your field photo of {date} {time} was rejected on review.{note}",
    },
    "proof_review_note": {"hi": " टिप्पणी: {note}", "en": " Note: {note}"},
    "unknown_command": {
        "hi": "«/{name}» मैं नहीं समझा। मदद के लिए /help भेजें।",
        "en": "I do not know «/{name}». Send /help for what I can do.",
    },
    "internal_error": {
        "hi": "माफ़ कीजिए, अभी तकनीकी दिक्कत है। यह संदेश दर्ज नहीं हुआ — कृपया थोड़ी देर बाद दोबारा भेजें।",
        "en": "Sorry, something went wrong on our side. This message was not saved — please send "
        "it again in a little while.",
    },
    "export_ready": {
        "hi": "📎 {unit} — {period} की एक्सेल फ़ाइल।",
        "en": "📎 Excel file for {unit} — {period}.",
    },
    "period_today": {"hi": "आज ({date})", "en": "today ({date})"},
    "period_week": {"hi": "पिछले 7 दिन ({start}–{end})", "en": "last 7 days ({start}–{end})"},
    "period_campaign": {"hi": "अभियान ({start}–{end})", "en": "campaign ({start}–{end})"},
    "period_range": {"hi": "{start}–{end}", "en": "{start}–{end}"},
    "level_sector": {"hi": "सेक्टर", "en": "sector"},
    "level_block": {"hi": "ब्लॉक", "en": "block"},
    "level_district": {"hi": "जिला", "en": "district"},
    "level_worker": {"hi": "कार्यकर्ता", "en": "worker"},
    "role_asha": {"hi": "आशा", "en": "ASHA"},
    "role_anm": {"hi": "एएनएम", "en": "ANM"},
    "role_supervisor": {"hi": "सुपरवाइजर", "en": "supervisor"},
    "role_bmo": {"hi": "बीएमओ", "en": "BMO"},
    "role_district_officer": {"hi": "जिला अधिकारी", "en": "district officer"},
    "role_admin": {"hi": "एडमिन", "en": "admin"},
    "start_message": {
        "hi": "🌅 सुप्रभात {name} जी!\nआज ({date}) का लक्ष्य: {target}\n"
        "शाम को एक संदेश में रिपोर्ट भेजें, जैसे: आवेदन 25 कार्ड 20",
        "en": "🌅 Good morning {name}!\nToday's ({date}) target: {target}\n"
        "Send your report in one message this evening, like: applications 25 cards 20",
    },
    "start_message_no_target": {
        "hi": "🌅 सुप्रभात {name} जी!\nआज ({date}) शाम को एक संदेश में रिपोर्ट भेजें, जैसे: आवेदन 25 कार्ड 20",
        "en": "🌅 Good morning {name}!\nThis evening ({date}) send your report in one message, "
        "like: applications 25 cards 20",
    },
    "reminder": {
        "hi": "⏰ {name} जी, आज ({date}) की रिपोर्ट अभी नहीं आई है। कृपया भेजें, जैसे: आवेदन 25 कार्ड 20",
        "en": "⏰ {name}, your report for today ({date}) has not come yet. Please send it, like: "
        "applications 25 cards 20",
    },
    "digest_head": {
        "hi": "📋 {unit} — {date} की रिपोर्ट",
        "en": "📋 {unit} — report for {date}",
    },
    "digest_reported": {
        "hi": "रिपोर्ट भेजी: {reported}/{workers} कार्यकर्ता",
        "en": "Reported: {reported}/{workers} workers",
    },
    "digest_totals": {"hi": "कुल: {totals}", "en": "Totals: {totals}"},
    "digest_best": {"hi": "सबसे आगे: {names}", "en": "Best: {names}"},
    "digest_lowest": {"hi": "सबसे पीछे: {names}", "en": "Lowest: {names}"},
    "digest_missing": {"hi": "रिपोर्ट बाकी ({count}):", "en": "Not reported ({count}):"},
    "digest_all_in": {"hi": "✅ सबकी रिपोर्ट आ गई।", "en": "✅ Everyone has reported."},
    "digest_unreachable": {
        "hi": "संदेश नहीं पहुँचा ({count}): {names}",
        "en": "Could not be reached ({count}): {names}",
    },
    "digest_ranking": {"hi": "{level} रैंकिंग ({metric}):", "en": "{level} ranking ({metric}):"},
    "digest_campaign": {
        "hi": "अभियान में अब तक ({metric}): {done}",
        "en": "Campaign so far ({metric}): {done}",
    },
    "digest_required": {
        "hi": "लक्ष्य {total} पाने के लिए रोज़ {required} चाहिए",
        "en": "{required} a day needed to reach {total}",
    },
    "digest_projected": {
        "hi": "पिछले 7 दिन की रफ़्तार ({rate}/दिन) से पूरा होगा: {date}",
        "en": "At the last 7 days' pace ({rate}/day) it finishes on {date}",
    },
    "digest_pace": {
        "hi": "पिछले 7 दिन का औसत: {rate}/दिन",
        "en": "Last 7 days' average: {rate}/day",
    },
    "chart_title": {
        "hi": "{unit} — ब्लॉक वार {metric}, {date}",
        "en": "{unit} — {metric} by block, {date}",
    },
    "chart_target": {"hi": "लक्ष्य", "en": "target"},
    # ---- personal data
    "privacy_notice": {
        "hi": "🔒 सूचना: अभियान की निगरानी के लिए फील्डबॉट आपका नाम, फ़ोन नंबर, रोज़ की संख्याएँ और "
        "फ़ील्ड फ़ोटो व लोकेशन रखता है। इन्हें सिर्फ़ आपके सुपरवाइज़र, बीएमओ और ज़िला अधिकारी देखते हैं। "
        "फ़ोटो {photo_days} दिन और लाइव लोकेशन {track_days} दिन बाद मिटा दी जाती है। पूरी जानकारी: /privacy",
        "en": "🔒 Notice: for monitoring the campaign, Fieldbot keeps your name, phone number, daily "
        "figures, and field photos and locations. Only your supervisor, BMO and district officers see "
        "them. Photos are deleted after {photo_days} days and live locations after {track_days} days. "
        "Details: /privacy",
    },
    "privacy_full": {
        "hi": "🔒 फील्डबॉट और आपकी जानकारी\n\n"
        "क्या रखा जाता है: आपका नाम, मोबाइल नंबर (और टेलीग्राम/व्हाट्सऐप पहचान), पद और क्षेत्र; रोज़ की "
        "रिपोर्ट और उसमें हर बदलाव; फ़ील्ड फ़ोटो, उसकी लोकेशन और जाँच का नतीजा; बॉट को भेजे संदेशों का समय।\n"
        "क्यों: स्वास्थ्य विभाग के अभियान की प्रगति जानने और फ़ील्ड में उपस्थिति की पुष्टि के लिए।\n"
        "कौन देखता है: आपके सुपरवाइज़र, बीएमओ और ज़िला अधिकारी — सिर्फ़ अपने क्षेत्र की। आपका फ़ोन नंबर "
        "किसी ग्रुप में नहीं भेजा जाता।\n"
        "कितने दिन: फ़ोटो {photo_days} दिन, लाइव लोकेशन {track_days} दिन; उसके बाद सिर्फ़ जाँच का नतीजा "
        "रहता है। रोज़ की संख्याएँ विभाग के रिकॉर्ड के रूप में रहती हैं।\n"
        "आपके अधिकार: अपनी जानकारी देखने या मिटवाने के लिए {contact} से कहें। मिटाने पर आपकी संख्याएँ "
        "बिना नाम के इकाई के कुल में रहती हैं।",
        "en": "🔒 Fieldbot and your data\n\n"
        "What is kept: your name, mobile number (and Telegram/WhatsApp identity), role and area; your "
        "daily reports and every change to them; field photos, their location and the check's result; "
        "when you wrote to the bot.\n"
        "Why: for the health department to follow the campaign and confirm field presence.\n"
        "Who sees it: your supervisor, BMO and district officers — for their own area only. Your phone "
        "number is never posted in a group.\n"
        "How long: photos {photo_days} days, live locations {track_days} days; after that only the "
        "check's result stays. Daily figures stay as the department's records.\n"
        "Your rights: to see or erase what is held about you, ask {contact}. On erasure your figures "
        "stay in your unit's totals, without your name.",
    },
    # ---- field presence: photo + location
    "proof_verified": {
        "hi": "✅ फ़ील्ड फ़ोटो सत्यापित: {where}, {time} बजे। धन्यवाद!",
        "en": "✅ Field photo verified: {where}, at {time}. Thank you!",
    },
    "proof_review": {
        "hi": "⚠️ फ़ील्ड फ़ोटो दर्ज हुई, पर सुपरवाइज़र जाँचेंगे: {reasons}।",
        "en": "⚠️ Field photo saved, but your supervisor will review it: {reasons}.",
    },
    "proof_group_verified": {
        "hi": "✅ {name}: फ़ोटो सत्यापित ({where})",
        "en": "✅ {name}: photo verified ({where})",
    },
    "proof_group_review": {
        "hi": "⚠️ {name}: जाँच ज़रूरी — {reasons}",
        "en": "⚠️ {name}: needs review — {reasons}",
    },
    "proof_where": {"hi": "गाँव {village} से {distance}", "en": "{distance} from {village}"},
    "proof_where_unknown": {"hi": "लोकेशन दर्ज", "en": "location recorded"},
    "reason_no_village_location": {
        "hi": "रोस्टर में आपके गाँव की लोकेशन नहीं है",
        "en": "no village location on the roster",
    },
    "reason_far_from_village": {
        "hi": "गाँव {village} से {distance} दूर (सीमा {radius})",
        "en": "{distance} from {village} (limit {radius})",
    },
    "reason_outside_field_hours": {
        "hi": "फ़ील्ड समय {start}–{end} के बाहर ({time})",
        "en": "outside field hours {start}–{end} ({time})",
    },
    "reason_reused_photo": {
        "hi": "यह फ़ोटो पहले भी भेजी जा चुकी है ({date})",
        "en": "this photo was sent before ({date})",
    },
    "reason_exif_mismatch": {
        "hi": "फ़ोटो में दर्ज जगह या समय भेजी गई लोकेशन से मेल नहीं खाता",
        "en": "the place or time saved in the photo does not match the shared location",
    },
    "reason_low_accuracy": {
        "hi": "लोकेशन सटीक नहीं (±{accuracy})",
        "en": "the location is not precise (±{accuracy})",
    },
    "photo_waiting": {
        "hi": "📷 फ़ोटो मिल गई। अब {minutes} मिनट के अंदर अपनी लोकेशन भेजें: 📎 → लोकेशन → "
        "«लाइव लोकेशन शेयर करें» (या अभी की लोकेशन)।",
        "en": "📷 Photo received. Now share your location within {minutes} minutes: 📎 → Location → "
        "«Share live location» (or your current location).",
    },
    "photo_waiting_pin": {
        "hi": "📷 फ़ोटो मिल गई। अब {minutes} मिनट के अंदर अपनी लोकेशन भेजें: 📎 → लोकेशन → «अभी की लोकेशन भेजें»।",
        "en": "📷 Photo received. Now send your location within {minutes} minutes: 📎 → Location → "
        "«Send your current location».",
    },
    "location_waiting": {
        "hi": "📍 लोकेशन मिल गई। अब {minutes} मिनट के अंदर काम की जगह की फ़ोटो भेजें।",
        "en": "📍 Location received. Now send the photo of your field work within {minutes} minutes.",
    },
    "live_waiting": {
        "hi": "📍 लाइव लोकेशन चालू है। अब काम की जगह की फ़ोटो भेजें।",
        "en": "📍 Live location is on. Now send the photo of your field work.",
    },
    "photo_expired": {
        "hi": "📷 आपकी {time} बजे की फ़ोटो के साथ लोकेशन नहीं आई, इसलिए वह दर्ज नहीं हुई। "
        "फ़ोटो दोबारा भेजें और {minutes} मिनट के अंदर लोकेशन शेयर करें।",
        "en": "📷 Your photo of {time} came without a location, so it was not recorded. "
        "Send it again and share your location within {minutes} minutes.",
    },
    "location_expired": {
        "hi": "📍 आपकी {time} बजे की लोकेशन के साथ कोई फ़ोटो नहीं आई। "
        "फ़ील्ड फ़ोटो भेजें और {minutes} मिनट के अंदर लोकेशन दोबारा शेयर करें।",
        "en": "📍 No photo came with your location of {time}. "
        "Send the field photo and share your location again within {minutes} minutes.",
    },
    "photo_too_large": {
        "hi": "यह फ़ाइल बहुत बड़ी है (अधिकतम {max_mb} MB)। फ़ोटो सामान्य तरीके से (कैमरा/गैलरी से) भेजें। "
        "कुछ दर्ज नहीं हुआ।",
        "en": "This file is too large (at most {max_mb} MB). Send the photo the normal way "
        "(camera or gallery). Nothing was saved.",
    },
    "photo_not_image": {
        "hi": "यह फ़ाइल फ़ोटो (JPG/PNG) नहीं है, इसलिए दर्ज नहीं हुई। फ़ील्ड की फ़ोटो भेजें, "
        "या रिपोर्ट लिखकर भेजें, जैसे: आवेदन 25 कार्ड 20",
        "en": "This file is not a photo (JPG/PNG), so it was not saved. Send a photo of your field "
        "work, or type your report, like: applications 25 cards 20",
    },
    "photo_too_many_pixels": {
        "hi": "यह तस्वीर बहुत बड़ी है (अधिकतम {max_mp} मेगापिक्सल)। फ़ोटो सामान्य तरीके से भेजें। कुछ दर्ज नहीं हुआ।",
        "en": "This picture is too big (at most {max_mp} megapixels). Send the photo the normal "
        "way. Nothing was saved.",
    },
    "photo_unavailable": {
        "hi": "फ़ोटो मुझ तक पूरी नहीं पहुँची। कृपया दोबारा भेजें।",
        "en": "The photo did not reach me completely. Please send it again.",
    },
    "proof_not_for_role": {
        "hi": "फ़ील्ड फ़ोटो की जाँच आशा, एएनएम और सुपरवाइज़र के लिए है। आपकी फ़ोटो दर्ज नहीं हुई।",
        "en": "Field photo checks are for ASHAs, ANMs and supervisors. Your photo was not saved.",
    },
    "photos_head": {
        "hi": "📷 फ़ील्ड फ़ोटो — {units}, {date}\nजाँच ज़रूरी: {review} · सत्यापित: {verified}",
        "en": "📷 Field photos — {units}, {date}\nNeeds review: {review} · Verified: {verified}",
    },
    "photos_none": {
        "hi": "📷 {units}: {date} को अभी तक कोई फ़ील्ड फ़ोटो नहीं आई।",
        "en": "📷 {units}: no field photos yet on {date}.",
    },
    "photos_more": {"hi": "… और {count}", "en": "… and {count} more"},
    "digest_proofs": {
        "hi": "📷 फ़ील्ड फ़ोटो: {total}, जाँच ज़रूरी: {review} (देखें: /photos)",
        "en": "📷 Field photos: {total}, needing review: {review} (see /photos)",
    },
    # ---- WhatsApp
    "wa_live_location": {
        "hi": "📍 WhatsApp की लाइव लोकेशन हम तक नहीं पहुँचती। कृपया अभी की लोकेशन भेजें: "
        "📎 → लोकेशन → «अपनी वर्तमान लोकेशन भेजें», और साथ में काम की जगह की फ़ोटो।",
        "en": "📍 WhatsApp does not pass a live location on to us. Please send your current "
        "location instead: 📎 → Location → «Send your current location», with a photo of your "
        "field work.",
    },
    # ---- targets, pace, coverage and rankings
    "target_gap": {"hi": "— {gap} कम", "en": "— {gap} short"},
    "target_met": {"hi": "✅", "en": "✅"},
    "campaign_so_far": {
        "hi": "अभियान में अब तक ({metric}): {done} — {days} दिन का लक्ष्य {target} = {pct}",
        "en": "Campaign so far ({metric}): {done} — target for {days} days {target} = {pct}",
    },
    "campaign_so_far_plain": {
        "hi": "अभियान में अब तक ({metric}): {done}",
        "en": "Campaign so far ({metric}): {done}",
    },
    "campaign_needed": {
        "hi": "कुल लक्ष्य {total} में से {done} ({pct}) — बाकी {days} दिन में रोज़ {required} चाहिए",
        "en": "Campaign total {total}: {done} done ({pct}) — {required} a day needed over the "
        "{days} days left",
    },
    "campaign_days_over": {
        "hi": "कुल लक्ष्य {total} में से {done} ({pct}) — अभियान के दिन पूरे हो गए",
        "en": "Campaign total {total}: {done} done ({pct}) — the campaign's days are over",
    },
    "campaign_reached": {
        "hi": "✅ कुल लक्ष्य {total} {date} को पूरा हुआ",
        "en": "✅ Campaign total {total} reached on {date}",
    },
    "pace_projected": {
        "hi": "पिछले {days} दिन की रफ़्तार ({rate}/दिन) से कुल लक्ष्य पूरा होगा: {date}",
        "en": "At the last {days} days' pace ({rate}/day) the total is reached on {date}",
    },
    "pace_late": {
        "hi": " ⚠️ अभियान की आख़िरी तारीख़ ({end}) के बाद",
        "en": " ⚠️ after the campaign's last day ({end})",
    },
    "pace_stalled": {
        "hi": "पिछले {days} दिन में {metric} शून्य — इस रफ़्तार से कुल लक्ष्य पूरा नहीं होगा",
        "en": "No {metric} in the last {days} days — at this pace the total is never reached",
    },
    "coverage_line": {
        "hi": "कवरेज ({metric}): {eligible} पात्र में से {covered} = {pct}",
        "en": "Coverage ({metric}): {covered} of {eligible} eligible = {pct}",
    },
    "coverage_parts": {
        "hi": " (अभियान से पहले {baseline} + अभियान में {done})",
        "en": " ({baseline} before the campaign + {done} in it)",
    },
    "rank_district": {
        "hi": "प्रदेश के जिलों में स्थान: {rank}/{of}",
        "en": "Place among the state's districts: {rank} of {of}",
    },
    "rank_block": {
        "hi": "जिले के ब्लॉकों में स्थान: {rank}/{of}",
        "en": "Place among the district's blocks: {rank} of {of}",
    },
    "rank_sector": {
        "hi": "ब्लॉक के सेक्टरों में स्थान: {rank}/{of}",
        "en": "Place among the block's sectors: {rank} of {of}",
    },
    "top_head_pct": {
        "hi": "🏆 {unit} — {period}, {metric} लक्ष्य के प्रतिशत के हिसाब से:",
        "en": "🏆 {unit} — {period}, by % of the {metric} target:",
    },
    "top_no_target": {"hi": "लक्ष्य तय नहीं", "en": "no target"},
    "top_more": {"hi": "… {count} और …", "en": "… {count} more …"},
    "top_hint_pct": {
        "hi": "लक्ष्य के प्रतिशत से रैंक: /top %",
        "en": "Ranked by % of target: /top %",
    },
    # ---- floods (bot.floods)
    "slow_down": {
        "hi": "🙏 आप बहुत जल्दी-जल्दी संदेश भेज रहे हैं (एक मिनट में {limit} से ज़्यादा)। "
        "एक मिनट रुककर दोबारा भेजें — तब तक के संदेश दर्ज नहीं होंगे।",
        "en": "🙏 You are sending messages very fast (more than {limit} a minute). Please wait a "
        "minute and send again — messages until then are not saved.",
    },
}

_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def t(language: str, key: str, **values: object) -> str:
    """The text `key` in `language` (Hindi when unknown), with `values` filled in."""
    variants = TEXTS[key]
    template = variants.get(language) or variants["hi"]
    return template.format(**values) if values else template


def short_date(day: dt.date, language: str) -> str:
    return f"{day.day} {_MONTHS_EN[day.month - 1]}" if language == "en" else day.strftime("%d/%m")


def day_label(day: dt.date, today: dt.date, language: str) -> str:
    """आज (23/11), कल (22/11) or 21/11."""
    if day == today:
        return f"{t(language, 'today')} ({short_date(day, language)})"
    if day == today - dt.timedelta(days=1):
        return f"{t(language, 'yesterday')} ({short_date(day, language)})"
    return short_date(day, language)


def order_example(count: int) -> str:
    """Bare numbers in metric order, as an example: `25 20 40`."""
    return " ".join(["25", "20", "40", "5", "2", "10", "8"][: max(1, min(count, 3))])
