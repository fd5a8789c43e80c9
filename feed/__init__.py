"""The podcast feed: every latest notice read aloud as an MP3 episode (/feed.xml), made in the
background after publishing, for families to add to a phone's podcast app."""

from feed.views import blueprint

__all__ = ["blueprint"]
