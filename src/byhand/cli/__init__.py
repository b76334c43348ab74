"""The `byhand` command. Each module in this package adds its own commands to `app`.

Every error a user can cause ends as one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click
import numpy as np

from byhand.cli.common import INTERRUPTED, app, fail
from byhand.errors import ByhandError

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "common":
        importlib.import_module(f"{__name__}.{_module.name}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    try:
        # without standalone mode click returns ctx.exit()'s status instead of raising Exit
        # overflow shows in the numbers themselves (inf, or a one-line error for JSON), so
        # NumPy's RuntimeWarning, with its source line, would only add noise for a user
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            status = app.main(args=argv, prog_name="byhand", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as err:
        click.echo(err.ctx.get_help() if err.ctx else str(err))
        return 0
    except click.UsageError as err:
        hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
        return fail(err.format_message() + hint)
    except click.exceptions.Exit as err:
        return err.exit_code
    except click.Abort:
        return fail("stopped by Ctrl-C", INTERRUPTED)
    except click.ClickException as err:
        return fail(err.format_message())
    except ByhandError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        return fail("stopped by Ctrl-C", INTERRUPTED)
    except BrokenPipeError:
        return 0
    return status if isinstance(status, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
