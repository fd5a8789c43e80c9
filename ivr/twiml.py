"""Menu actions → TwiML, built with the twilio library.

Prompts and sentences are `<Play>` of our own 8 kHz audio nested in a `<Gather>`, so any key
interrupts them at once; if our audio cannot be made, `<Say language="cmn-CN">` of the spoken
form stands in, so a caller never hears silence or an error.
"""

from __future__ import annotations

from collections.abc import Callable

from twilio.twiml.voice_response import Gather, VoiceResponse

from content.menu import Action, End, Listen, Play, Say

SAY_LANGUAGE = "cmn-CN"


def gather(action_url: str, timeout: int) -> Gather:
    # finishOnKey="" so that # reaches us as a key instead of ending the input
    return Gather(
        input="dtmf",
        num_digits=1,
        action=action_url,
        method="POST",
        timeout=timeout,
        action_on_empty_result=True,
        finish_on_key="",
    )


def build(
    actions: list[Action],
    audio_urls: Callable[[str], list[str] | None],
    spoken: Callable[[str], str],
    action_url: str,
    timeout: int,
) -> str:
    """`audio_urls(text)` gives the URLs of the text's audio chunks, or None when it cannot."""
    response = VoiceResponse()
    listening: Gather | None = None
    for action in actions:
        if isinstance(action, (Say, Play)):
            interruptible = action.interruptible if isinstance(action, Say) else True
            if interruptible and listening is None:
                listening = gather(action_url, timeout)
                response.append(listening)
            _speak(listening if interruptible else response, action.text, audio_urls, spoken)
        elif isinstance(action, Listen) and listening is None:
            listening = gather(action_url, timeout)
            response.append(listening)
        elif isinstance(action, End):
            response.hangup()
    return str(response)


def _speak(target, text: str, audio_urls, spoken) -> None:
    urls = audio_urls(text)
    if urls:
        for url in urls:
            target.play(url)
    else:
        target.say(spoken(text), language=SAY_LANGUAGE)
