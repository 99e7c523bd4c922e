"""WhatsApp through Twilio: webhook form -> Inbound, Reply -> TwiML, scheduled messages by REST.

No business rules live here. What is WhatsApp's own lives here: the signature Twilio puts on every
request, the 24-hour window (free text inside it, an approved template outside it), media that must
be fetched with the account's credentials, files that Twilio fetches from a signed link, and a
1,500-character limit per message.
"""
