"""The one exception type a user can cause: its text is the one line we print."""


class TracerError(Exception):
    """A mistake or a missing feature the user can act on.

    The message names what was wrong and what to do; callers print it as a single
    line on stderr and exit non-zero, after releasing everything they attached.
    """

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(" ".join(message.split()))
        if exit_code is not None:
            self.exit_code = exit_code
