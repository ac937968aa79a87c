"""The ``cstracker`` command line: a thin layer over the library.

Each command lives in ``cstracker/commands/<name>.py``: it parses options, makes
one library call and prints a summary. Library errors (``CstrackerError``)
become one clear line and an exit code here, in one place; no traceback ever
reaches a coordinator for a bad file.
"""

from __future__ import annotations

import importlib
import sys

import click

from cstracker.version import __version__

#: command name -> module under cstracker.commands (imported lazily so --help is fast)
COMMANDS = {
    "init": "init",
    "validate": "validate",
    "form": "form",
    "ingest": "ingest",
    "import": "import_",
    "report": "report",
    "history": "history",
    "export": "export",
    "retention": "retention",
    "encrypt": "encrypt",
    "decrypt": "decrypt",
    "demo": "demo",
}


class UserError(click.ClickException):
    """A library error, shown as one line with its own exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


#: commands that never open a tracker (so take no password)
NO_TRACKER = {"demo"}


def _use_password_file(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    from cstracker.xlsx import encryption

    encryption.forget_passwords()
    encryption.use_password_file(value)
    encryption.set_prompt(_prompt if sys.stdin.isatty() else None)


def _prompt(path, new: bool) -> str:
    if new:
        return click.prompt(f"New password for {path}", hide_input=True, confirmation_prompt=True, err=True)
    return click.prompt(f"Password for {path}", hide_input=True, err=True)


def _add_password_option(command: click.Command) -> None:
    """Every command that opens a tracker takes its password from a file, the environment or a prompt.

    Never as a plain argument: other users of the machine can read a command line.
    """
    if any(p.name == "password_file" for p in command.params):
        return
    command.params.append(
        click.Option(
            ["--password-file"],
            type=click.Path(dir_okay=False),
            expose_value=False,
            is_eager=True,
            callback=_use_password_file,
            help="For an encrypted tracker: a file holding its password (else CSTRACKER_PASSWORD, "
            "else you are asked).",
        )
    )


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context):
        from cstracker.boundary import safe_streams
        from cstracker.core.errors import CstrackerError

        safe_streams()  # also when called without main(), e.g. by click's test runner
        try:
            return super().invoke(ctx)
        except CstrackerError as e:
            raise UserError(str(e), e.exit_code) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (KeyboardInterrupt, BrokenPipeError, SystemExit, GeneratorExit):
            raise
        except BaseException as e:  # also a Rust library's panic: pyo3's PanicException is no Exception
            from cstracker.boundary import describe_failure

            message, code = describe_failure(e)
            raise UserError(message, code) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._module(name) is not None]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = self._module(name)
        command = getattr(module, "command", None) if module else None
        if command is not None and name not in NO_TRACKER:
            _add_password_option(command)
        return command

    @staticmethod
    def _module(name: str):
        if name not in COMMANDS:
            return None
        try:
            return importlib.import_module(f"cstracker.commands.{COMMANDS[name]}")
        except ModuleNotFoundError as e:
            if e.name == f"cstracker.commands.{COMMANDS[name]}":
                return None
            raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cstracker")
def cli() -> None:
    """Keep a Contextual Safeguarding Referral Tracker workbook right.

    Example: cstracker init "Referral Tracker.xlsx"
    """


def main() -> None:
    """Entry point of the console script.

    Exit 0 all good, 1 rejected or invalid, 2 used wrongly, 3 a bug in cstracker (one line naming
    the log file that holds the details).
    """
    from cstracker.boundary import install

    install()
    try:
        cli.main(prog_name="cstracker")
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
        sys.exit(1)
    except BrokenPipeError:
        # the reader of our output went away (e.g. `| head`): nothing more to say, and no one to say it to
        sys.stderr = None  # type: ignore[assignment]
        sys.exit(1)
