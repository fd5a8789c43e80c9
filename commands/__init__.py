"""The `tingwen` command line's commands, one module per subject; server.py adds them to its group
(which turns what goes wrong outside our control into one line). They read the Config the group
loaded (`ctx.obj`) and never import server.py."""

from commands.bulletin import bulletin, subscribers
from commands.models import listen, models
from commands.notices import ingest_command, notices, restore, search, show, withdraw
from commands.operations import backup_command, calls, restore_backup_command, staff_accounts
from commands.settings import settings_command
from commands.speech import normalize_command, prerender, say, voices
from commands.watch import watch

COMMANDS = [
    ingest_command, notices, show, search, withdraw, restore,
    normalize_command, say, voices, prerender,
    models, listen,
    calls, backup_command, restore_backup_command, staff_accounts,
    subscribers, bulletin,
    watch,
    settings_command,
]
