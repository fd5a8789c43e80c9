"""Notices arriving from the government website: a polite crawler over its list pages
(`client.py`, `pages.py`), what it has seen (`state.py`), and a pass over the lists that puts
new articles in front of staff as drafts, or publishes them (`run.py`)."""
