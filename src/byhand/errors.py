"""The one kind of error byhand raises for bad input: it always says what is wrong."""


class ByhandError(ValueError):
    """Bad input to byhand: a wrong shape, an unknown name, a non-finite number, a malformed file.

    The message is one sentence meant for the user; the CLI prints it as it is and the
    server returns it as a 4xx answer.
    """


class ModelFileError(ByhandError):
    """A model file that cannot be read: the message names the file's field that is wrong."""


def unknown(what: str, value, choices, where: str = "") -> ByhandError:
    """The error for a name that is not one of `choices`: "unknown loss 'l1'; choose one of: …".

    `where` (a field, e.g. "layers[0].activation") goes first when the name came from a file
    or a request; a long or odd value is shown shortened, as Python would write it.
    """
    shown = repr(value)
    if len(shown) > 62:
        shown = shown[:60] + "…"
    head = f"{where}: " if where else ""
    noun = f" {what}" if what else ""
    return ByhandError(
        f"{head}unknown{noun} {shown}; choose one of: {', '.join(map(str, choices))}"
    )
