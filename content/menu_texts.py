"""What the voice menu says: every sentence of the conversation, made from prompts.toml.

The machine (content/menu.py) decides what comes next; this says it. A menu's page, a notice's
introduction, a part's end, the daily bulletin: each is built here and nowhere else, so the
phone, the kiosk and the podcast feed say a notice's introduction in the same words.
`prompt_texts` walks a menu through every key and silence to list what it can say, so its audio
is made before anyone waits for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from content.keys import ALL_KEYS, IntentKind, key_of
from content.menu_state import Event, MenuState, Mode, Say, SendText, Subscribe, Transfer
from content.model import Notice
from content.office_hours import OfficeHours
from content.prompts import Prompts, load_prompts
from content.reading import all_sentences, segments, spoken_date

if TYPE_CHECKING:
    from content.menu import Menu

BULLETIN_NOTICES = 5  # new notices whose titles and gists one daily bulletin call reads


class MenuTexts:
    """The menu's sentences, from one set of prompts."""

    def __init__(self, prompts: Prompts | None = None) -> None:
        self.prompts = prompts or load_prompts()

    # A notice

    def notice_intro(self, notice: Notice) -> str:
        """Its spoken title, issuing organ and date: how every front end introduces a notice."""
        p = self.prompts
        issuer = p.notice_issuer.format(issuer=notice.issuer) if notice.issuer else ""
        day = notice.published_date or notice.signed_date
        dated = p.notice_date.format(date=spoken_date(day)) if day else ""
        return p.notice_intro.format(title=notice.spoken_title, issuer=issuer, date=dated)

    def notice_gist(self, notice: Notice) -> str:
        """要点：…, said after the introduction ("" when the notice has no gist)."""
        return self.prompts.notice_gist.format(gist=notice.gist) if notice.gist else ""

    def whole_notice(self, notice: Notice) -> list[str]:
        """The whole notice read aloud from its introduction, sentence by sentence: the kiosk's
        hands-free reading and the podcast feed's episode say the same as a caller hears."""
        return [self.notice_intro(notice)] + [sentence for segment in segments(notice) for sentence in segment.sentences]

    # The latest notices

    def bulletin_offer(self, subscription: bool, subscribed: bool) -> str:
        """Key 8 on the phone's top menu: 订阅 for a caller who is not subscribed, else 退订."""
        if not subscription:
            return ""
        return self.prompts.unsubscribe_item if subscribed else self.prompts.subscribe_item

    def top_menu(self, titles: Sequence[str], total: int, page: int, pages: int, offer: str, help_: bool) -> list[str]:
        """A page of the latest notices: how many, each with its key, the bulletin, hands-free
        reading, paging, and the help when asked for (or the first time)."""
        p = self.prompts
        heading = p.top_heading.format(count=total) + (p.top_page_heading.format(page=page + 1) if pages > 1 else "")
        items = "".join(p.top_item.format(key=i, title=title) for i, title in enumerate(titles, 1))
        return [heading, items, offer, p.read_all_item, self._paging(page, pages), p.top_help if help_ else ""]

    def top_short(self, count: int) -> str:
        return self.prompts.top_short.format(last=count)

    # A notice's parts

    def section_menu(self, labels: Sequence[str], total: int, page: int, pages: int, whole: bool, help_: bool) -> list[str]:
        p = self.prompts
        spoken = "".join(p.section_item.format(key=i, label=label) for i, label in enumerate(labels, 1))
        read_item = p.read_whole_item if whole else p.read_section_item
        heading = p.section_menu_heading.format(count=total)
        return [heading, spoken, read_item, self._paging(page, pages), p.section_help if help_ else ""]

    def section_short(self, count: int) -> str:
        return self.prompts.section_short.format(last=count)

    def part_end(self, next_label: str | None, texting: bool = False) -> list[str]:
        """After a part: what the next part is, or that the notice is over (and, on a phone
        that sends text messages, the key that sends the notice)."""
        hint = self.prompts.text_hint if texting else ""
        if next_label is None:
            return [self.prompts.notice_end, hint]
        return [self.prompts.part_end, self.prompts.next_part_hint.format(label=next_label), hint]

    def read_all_notice(self, number: int, notice: Notice) -> str:
        return self.prompts.read_all_notice.format(number=number, title=notice.spoken_title)

    def _paging(self, page: int, pages: int) -> str:
        if pages <= 1:
            return ""
        return self.prompts.next_page_hint if page + 1 < pages else self.prompts.first_page_hint

    # The daily bulletin

    def subscription(self, on: bool) -> Subscribe:
        p = self.prompts
        return Subscribe(on, p.subscribed if on else p.unsubscribed, p.subscribe_failed, p.no_number)

    def bulletin_intro(self, count: int) -> str:
        return self.prompts.bulletin_intro.format(count=count) if count else self.prompts.bulletin_nothing

    def bulletin_number(self, number: int) -> str:
        return self.prompts.bulletin_number.format(number=number)

    def bulletin_item(self, notice: Notice) -> str:
        """A notice as the bulletin reads it: its title and gist (the same words for every
        subscriber, so its audio is made once, ahead)."""
        return self.prompts.bulletin_item.format(title=notice.spoken_title, gist=self.notice_gist(notice))

    def voicemail_item(self, notice: Notice) -> str:
        return self.prompts.voicemail_item.format(title=notice.spoken_title)

    # A person, and the notice by text message (the phone)

    def operator_offer(self, hours: OfficeHours | None) -> str:
        return self.prompts.operator_item if hours is not None else ""

    def transfer(self, hours: OfficeHours) -> Transfer:
        p = self.prompts
        return Transfer(p.operator_connecting, p.operator_closed.format(hours=hours.spoken()))

    def send_text(self, notice: Notice) -> SendText:
        p = self.prompts
        return SendText(notice.id, self.sms_body(notice), p.text_sent, p.text_no_number, p.text_cannot_receive, p.text_limit,
                        p.text_failed)

    def sms_body(self, notice: Notice) -> str:
        """The text message of a notice: its title as written, 文号, date and web address (each
        line only when the notice has it)."""
        p = self.prompts
        day = notice.published_date or notice.signed_date
        address = notice.source if notice.source and notice.source.startswith(("https://", "http://")) else None
        return p.sms.format(
            title=notice.title or notice.spoken_title,
            doc_number=p.sms_doc_number.format(doc_number=notice.doc_number) if notice.doc_number else "",
            date=p.sms_date.format(date=f"{day.year}年{day.month}月{day.day}日") if day else "",
            address=p.sms_address.format(address=address) if address else "",
        )

    def goodbye(self, subscribed: bool) -> str:
        """The last words of a call: a subscriber also hears how to stop the daily bulletin."""
        return self.prompts.goodbye_subscribed if subscribed else self.prompts.goodbye


def prompt_texts(menu: Menu, limit: int = 20_000) -> list[str]:
    """Every prompt `menu` can say to its notices, so its audio can be made ahead.

    Walks the menus with every key and silence, and adds each part's end and each hands-free
    title, which are reached only by reading to them."""
    texts: dict[str, None] = {}

    def said(actions) -> None:
        for action in actions:
            if isinstance(action, Say):
                texts[action.text] = None
            elif isinstance(action, (Subscribe, Transfer, SendText)):
                texts.update(dict.fromkeys(action.texts))

    events = [Event.press(k) for k in ALL_KEYS] + [Event.timeout(), Event.finished()]
    starts = [menu.start()] + ([menu.start(subscribed=True)] if menu.subscription else [])  # a subscriber's menu says 退订
    pending, seen = list(starts), {state for state, _ in starts}
    start = starts[0][0]
    while pending and len(seen) < limit:
        state, actions = pending.pop()
        said(actions)
        if state.mode not in (Mode.TOP, Mode.NOTICE, Mode.ENDED) and state is not start:
            continue  # reading is sentences (rendered from the notices), not prompts
        for event in events:
            following = menu.step(state, event)
            said(following[1])  # what a step says counts even where it leads to a state already seen
            if following[0] not in seen:
                seen.add(following[0])
                pending.append(following)
    for notice in menu.notices:
        for index in range(len(menu.parts(notice))):
            state = MenuState(mode=Mode.PART_END, notice_id=notice.id, cursor=index, stop_at=index)
            said(menu.step(state, Event.press(key_of(IntentKind.REPEAT)))[1])  # a part's end, said again
    said_texts = menu.texts
    for number, notice in enumerate(menu.notices, 1):
        texts[said_texts.read_all_notice(number, notice)] = None
    if menu.subscription:  # what a bulletin call says before its menu
        for n in range(1, BULLETIN_NOTICES + 1):
            texts.update({said_texts.bulletin_intro(n): None, said_texts.bulletin_number(n): None})
        for notice in menu.notices[: 4 * BULLETIN_NOTICES]:
            texts.update({said_texts.bulletin_item(notice): None, said_texts.voicemail_item(notice): None})
    texts.update((t, None) for t in menu.prompts.fixed_texts())
    return list(texts)


def spoken_texts(menu: Menu) -> list[str]:
    """Everything the menu can say or play: its prompts, then every sentence of its notices."""
    return prompt_texts(menu) + all_sentences(menu.notices)
