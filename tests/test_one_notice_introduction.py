"""A notice is introduced in one set of words everywhere: the phone menu when it is chosen, the
kiosk's card and hands-free reading, and the podcast episode all begin with what
content/menu_texts.py makes from prompts.toml (its title, issuing organ and date)."""

import pytest

from content.menu import Event, Menu, Say
from content.menu_texts import MenuTexts
from content.store import NoticeStore
from feed.episodes import episode_texts
from server import Config, create_app


@pytest.fixture(scope="module")
def app_and_notices(tmp_path_factory):
    app = create_app(Config(data_dir=tmp_path_factory.mktemp("intro") / "data", voice="espeak", prerender=False))
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        return app, store.latest()


def test_the_phone_menu_introduces_each_notice_in_the_shared_words(app_and_notices):
    _, notices = app_and_notices
    menu = Menu(notices)
    for key, notice in enumerate(notices[:7], 1):
        _, actions = menu.step(menu.start()[0], Event.press(str(key)))
        said = [a.text for a in actions if isinstance(a, Say)][0]
        intro = MenuTexts().notice_intro(notice)
        assert said == intro + MenuTexts().notice_gist(notice)
        assert notice.spoken_title in intro and (notice.issuer or "") in intro


@pytest.mark.parametrize("kind", ["card", "full"])
def test_the_kiosk_begins_a_notice_with_the_same_introduction(app_and_notices, kind):
    app, notices = app_and_notices
    client = app.test_client()
    for notice in notices:
        body = client.get(f"/kiosk/speech/{kind}/{notice.id}").get_json()
        intro = MenuTexts().notice_intro(notice)
        heard, i = "", 0
        while len(heard) < len(intro):
            heard += body["sentences"][i]["text"]
            i += 1
        assert heard == intro


def test_a_podcast_episode_begins_with_the_same_introduction(app_and_notices):
    _, notices = app_and_notices
    for notice in notices:
        assert episode_texts(notice)[0] == MenuTexts().notice_intro(notice)


def test_the_introduction_is_one_sentence(app_and_notices):
    """The kiosk marks the introduction as one sentence while it is read (data-i 0)."""
    from textrules.sentences import split_sentences

    _, notices = app_and_notices
    for notice in notices:
        assert len(split_sentences(MenuTexts().notice_intro(notice))) == 1
