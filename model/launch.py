"""Start the app with the project's privacy, safety and speed options, from any folder: ``pcb-app``.

Depending on its version, Streamlit reads ``.streamlit/config.toml`` from the working directory only,
or also beside the script, and a working directory's file or an environment variable can turn usage
statistics and full tracebacks back on. This launcher (the ``pcb-app`` console script) passes
`OPTIONS` on Streamlit's command line, which takes precedence over every file and variable.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
OPTIONS = {
    "browser.gatherUsageStats": "false",  # no usage statistics leave the machine
    "client.showErrorDetails": "none",  # no traceback (server paths, code) in the page
    "server.headless": "true",
    "server.runOnSave": "false",
    "server.maxUploadSize": "1",  # megabytes: a case file is a few hundred bytes
    "client.toolbarMode": "minimal",
    "logger.level": "warning",
    # Nothing to watch in use, and watching costs every rerun a scan of the imported modules (those of
    # a virtual environment inside the project folder count as the app's own): 0.2 s per answer here.
    "server.fileWatcherType": "none",
    # Streamlit collects garbage over the whole process after every rerun, holding the interpreter
    # while the page's last messages wait to be sent: 45 ms of every answer here. Python's own
    # collector still runs as objects accumulate.
    "runner.postScriptGC": "false",
    # Red is kept for red flags and serious causes: a chosen answer, a tab or a switch is blue.
    "theme.primaryColor": "#1f5f99",
}


def option_flags() -> list[str]:
    """Return `OPTIONS` as Streamlit command-line flags.

    Examples
    --------
    >>> option_flags()[0]
    '--browser.gatherUsageStats=false'
    """
    return [f"--{name}={value}" for name, value in OPTIONS.items()]


def streamlit_argv(arguments: Sequence[str]) -> list[str]:
    """Return the ``streamlit run`` command line for the app.

    Streamlit options (``--server.port=8502``) pass through; anything after ``--`` goes to the app,
    e.g. ``pcb-app -- --priors DIR`` for a tuned priors folder.

    Examples
    --------
    >>> streamlit_argv(["--server.port=8502", "--", "--priors", "tuned"])[-5:]
    ['--theme.primaryColor=#1f5f99', '--server.port=8502', '--', '--priors', 'tuned']
    """
    return ["streamlit", "run", str(APP), *option_flags(), *arguments]


def main(arguments: Sequence[str] | None = None) -> int:
    """Run the app (the ``pcb-app`` console script); returns Streamlit's exit status."""
    if not APP.is_file():
        print(
            f"error: {APP} not found; install the project from its folder with pip install -e .",
            file=sys.stderr,
        )
        return 2
    from streamlit.web import cli  # imported here: Streamlit is slow to import, and only the app needs it

    sys.argv = streamlit_argv(sys.argv[1:] if arguments is None else arguments)
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
