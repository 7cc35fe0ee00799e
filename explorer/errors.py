"""The one exception type for user mistakes.

A user's mistake (an unknown scenario, a value out of range, a back end this machine cannot run) raises
ExplorerError with a message that names what is wrong and what is allowed. The CLI prints it as one line
and exits with code 2; the apps show it as a notification. Programming errors stay ordinary tracebacks.
"""


class ExplorerError(ValueError):
    """A mistake the user can fix; the message says what and how."""
