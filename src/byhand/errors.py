"""The one kind of error byhand raises for bad input: it always says what is wrong."""


class ByhandError(ValueError):
    """Bad input to byhand: a wrong shape, an unknown name, a non-finite number, a malformed file.

    The message is one sentence meant for the user; the CLI prints it as it is and the
    server returns it as a 4xx answer.
    """


class ModelFileError(ByhandError):
    """A model file that cannot be read: the message names the file's field that is wrong."""
