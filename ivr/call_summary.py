"""The phone line's figures for staff (`tingwen calls`, the console's 来电统计): calls per day in
the hall's days, their length, what was listened to and where callers cancel, commands not
understood, requests for a person and text messages; and the calls under way, for /metrics."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ivr.callstore import CallStore

log = logging.getLogger(__name__)


def summary(
    store: CallStore,
    titles: dict[int, str] | None = None,
    timezone: str = "UTC",
    since: date | None = None,
    until: date | None = None,
) -> dict:
    """Calls per day (days as the hall counts them, in `timezone`), average duration,
    most-listened notices and parts, where callers cancel, spoken commands not understood;
    over the calls begun from `since` to `until` (whole days, both included)."""
    titles = titles or {}
    zone = ZoneInfo(timezone)
    calls = {}
    for row in store.conn.query("SELECT sid, started_at, duration_s FROM calls"):
        day = datetime.fromisoformat(row["started_at"]).astimezone(zone).date()
        if (since is None or day >= since) and (until is None or day <= until):
            calls[row["sid"]] = (day.isoformat(), row["duration_s"])
    days = Counter(day for day, _ in calls.values())
    per_day = [{"day": day, "calls": days[day]} for day in sorted(days)]
    durations = [d for _, d in calls.values() if d is not None]
    events = [
        (r["sid"], r["kind"], r["notice_id"], r["path"], r["detail"])
        for r in store.conn.query("SELECT sid, kind, notice_id, path, detail FROM call_events")
        if r["sid"] in calls
    ]
    listened = Counter(nid for nid, _ in {(nid, sid) for sid, kind, nid, _, _ in events if kind == "play"})
    parts = Counter((nid, path) for nid, path, _ in {(nid, path, sid) for sid, kind, nid, path, _ in events if kind == "play"})
    cancels = Counter((nid, path) for _, kind, nid, path, _ in events if kind == "cancel")
    unclear = Counter(json.loads(detail or "{}").get("heard") or "（无声）" for _, kind, _, _, detail in events if kind == "unclear")
    outcomes = {"transfer": [], "text": []}  # (day, outcome) of each request for a person or a text message
    for sid, kind, _, _, detail in events:
        if kind in outcomes:
            outcomes[kind].append((calls[sid][0], json.loads(detail or "{}").get("outcome", "")))
    return {
        "calls": len(calls),
        "calls_per_day": per_day,
        "average_duration_s": round(sum(durations) / len(durations), 1) if durations else None,
        "most_listened": [{"notice_id": nid, "title": titles.get(nid), "calls": n} for nid, n in listened.most_common(10)],
        "parts_listened": [
            {"notice_id": nid, "title": titles.get(nid), "path": path, "calls": n} for (nid, path), n in parts.most_common(10)
        ],
        "cancels": [
            {"notice_id": nid, "title": titles.get(nid) if nid is not None else None, "path": path, "count": n}
            for (nid, path), n in cancels.most_common(10)
        ],
        "not_understood": [{"heard": text, "count": n} for text, n in unclear.most_common(10)],
        "remembered_callers": store.remembered_callers(),
        "transfers": _transfers(outcomes["transfer"]),
        "texts": dict(sorted(Counter(outcome for _, outcome in outcomes["text"]).items())),
    }


# How a request for a person ended, as counted for staff: the outcomes ivr/operator.py and the
# <Dial> action log, grouped.
TRANSFER_GROUPS = {"answered": ("answered",), "unanswered": ("unanswered", "failed"), "closed": ("closed",)}


def _transfers(found: list[tuple[str, str]]) -> dict:
    """Requests for a person: put through (and then answered or not), outside office hours; in
    all and per day."""
    def counts(outcomes: list[str]) -> dict[str, int]:
        return {group: sum(o in members for o in outcomes) for group, members in TRANSFER_GROUPS.items()}

    days = sorted({day for day, _ in found})
    return {
        "asked": sum(o in ("dialled", "closed", "failed") for _, o in found),
        **counts([o for _, o in found]),
        "per_day": [{"day": day, **counts([o for d, o in found if d == day])} for day in days],
    }


class OpenCalls:
    """A Prometheus collector read when /metrics is scraped: the calls not over yet, by every
    worker and server (the call store knows them all)."""

    def __init__(self, open_store) -> None:
        self.open_store = open_store

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("tingwen_calls_open", "Phone calls under way (not over, heard from in the last two hours)")
        try:
            with self.open_store() as calls:
                family.add_metric([], calls.open_calls())
        except Exception as error:  # /metrics still answers; the figure is missing
            log.error("metrics: the call log cannot be read: %s", error)
            return
        yield family
