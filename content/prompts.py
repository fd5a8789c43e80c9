"""The menu's wording, read from one data file (content/data/prompts.toml) so staff can change
what listeners hear without touching code. A missing or unknown entry is refused by name. The
keys a prompt names ({cancel_key}) are said as the key map (content/keys.py) has them."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path

from content.keys import prompt_keys

_KEY_PLACEHOLDER = re.compile(r"\{(\w+_key)\}")


@dataclass(frozen=True)
class Prompts:
    greeting: str
    no_notices: str
    top_heading: str
    top_page_heading: str
    top_item: str
    read_all_item: str
    next_page_hint: str
    first_page_hint: str
    top_help: str
    top_short: str
    notice_intro: str
    notice_issuer: str
    notice_date: str
    notice_gist: str
    section_menu_heading: str
    section_item: str
    read_whole_item: str
    read_section_item: str
    section_help: str
    section_short: str
    reading_start: str
    reading_help: str  # the reading keys in full (help while reading)
    part_end: str
    next_part_hint: str
    notice_end: str
    no_previous: str
    no_next: str
    slower: str  # the listener's pace and loudness: each change confirmed, or the end of the range said
    faster: str
    louder: str
    softer: str
    slower_limit: str
    faster_limit: str
    louder_limit: str
    softer_limit: str
    resume_offer: str  # a remembered caller: where they stopped, and the keys to go on or be forgotten
    resume_part: str  # the part they stopped in, named after the title
    forgotten: str
    read_all_start: str
    read_all_notice: str
    read_all_end: str
    invalid: str
    silence: str
    unclear: str
    confirm: str
    goodbye: str
    goodbye_subscribed: str  # a subscriber's goodbye says how to stop the daily bulletin
    subscribe_item: str
    unsubscribe_item: str
    subscribed: str
    unsubscribed: str
    already_subscribed: str
    not_subscribed: str
    subscribe_failed: str  # the bulletin's list cannot be written right now
    no_number: str  # the caller's number is withheld or not one we can call back
    bulletin_intro: str
    bulletin_nothing: str
    bulletin_number: str
    bulletin_item: str
    bulletin_stop_hint: str
    voicemail_item: str  # a notice as the message left on an answering machine names it
    voicemail_end: str  # how to hear the rest, and how to stop the bulletin
    operator_item: str  # the phone's top menu, with a staff number set up: the key for a person
    operator_connecting: str
    operator_closed: str  # outside office hours: {hours} as content/office_hours.py says them
    operator_unanswered: str  # nobody picked up (or the line was busy): back to where the caller was
    text_hint: str  # the phone, with text messages set up: after a part, the key that sends the notice
    text_sent: str
    text_no_number: str  # withheld, or not a number we can write to
    text_cannot_receive: str  # a landline
    text_limit: str  # TINGWEN_TEXTS_PER_DAY reached for this caller today
    text_failed: str  # the message could not be sent (Twilio unreachable, refused)
    sms: str  # the text message itself (not spoken): {title}{doc_number}{date}{address}
    sms_doc_number: str  # each line only when the notice has it
    sms_date: str
    sms_address: str
    unavailable: str  # the phone line cannot go on (a full disk, a fault): said, then hang up
    cannot_read: str  # the kiosk cannot make audio: shown on the page

    def fixed_texts(self) -> list[str]:
        """Prompts that are said as they are (no placeholders): what can be rendered ahead."""
        return [getattr(self, f.name) for f in fields(self) if "{" not in getattr(self, f.name)]


def load_prompts(path: Path | None = None) -> Prompts:
    """The wording in `path`, else the bundled prompts.toml (read once per process)."""
    if path is None:
        return _bundled()
    return _parse(path.read_text("utf-8"), str(path))


@cache
def _bundled() -> Prompts:
    return _parse(resources.files("content").joinpath("data/prompts.toml").read_text("utf-8"), "prompts.toml")


def _parse(text: str, source: str) -> Prompts:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: {error}") from None
    wanted = {f.name for f in fields(Prompts)}
    missing = sorted(wanted - data.keys())
    unknown = sorted(data.keys() - wanted)
    if missing or unknown:
        raise ValueError(f"{source}: missing prompts {missing or '-'}; unknown prompts {unknown or '-'}")
    not_text = sorted(k for k, v in data.items() if not isinstance(v, str) or not v.strip())
    if not_text:
        raise ValueError(f"{source}: prompts must be non-empty text: {not_text}")
    return Prompts(**{name: _with_keys(name, text, source) for name, text in data.items()})


def _with_keys(name: str, text: str, source: str) -> str:
    """{cancel_key} and the like → how the key is said (星号键), from the one key map."""
    keys = prompt_keys()

    def spoken(match: re.Match) -> str:
        if match.group(1) not in keys:
            raise ValueError(f"{source}: prompt {name} names an unknown key {match.group(0)} (known: {', '.join(sorted(keys))})")
        return keys[match.group(1)]

    return _KEY_PLACEHOLDER.sub(spoken, text)
