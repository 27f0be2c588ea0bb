"""The one exception type the command-line tools turn into `error: ...`."""


class MagicPigError(Exception):
    """A problem the user can fix (bad file, bad option, unsupported model).

    The message is one line that names the problem; `magicpig.cli.run_main`
    prints it as `error: <message>` and exits with status 2, without a
    traceback.
    """
