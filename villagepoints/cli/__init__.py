"""The `flask --app villagepoints …` commands: thin wrappers over the domain functions."""
from flask import Flask


def register_cli(app: Flask) -> None:
    """Add every command module's commands to the app's CLI."""
    from . import core, demo, entries, exports, imports, quarters, store
    from . import backup, cards, maintenance, townships

    for module in (core, imports, entries, demo, exports, quarters, store, backup, cards, townships, maintenance):
        for command in module.commands:
            app.cli.add_command(command)
