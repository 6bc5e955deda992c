"""The `flask --app villagepoints …` commands: thin wrappers over the domain functions."""
from flask import Flask


def register_cli(app: Flask) -> None:
    """Add every command module's commands to the app's CLI."""
    from . import core, demo, imports

    for module in (core, imports, demo):
        for command in module.commands:
            app.cli.add_command(command)
