"""Exception classes shared by the model package and mapped to HTTP errors by the service."""


class BerakhlakError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigurationError(BerakhlakError):
    """A setting has a value that cannot be used."""


class EncoderError(BerakhlakError):
    """The sentence encoder cannot be built or loaded."""


class ArtifactError(BerakhlakError):
    """A model artifact is missing, incomplete or fails its integrity check."""


class IntegrityError(ArtifactError):
    """A file's sha256 does not match the one recorded for it."""


class DataValidationError(BerakhlakError):
    """A dataset breaks the schema, the split hygiene or the balance rules.

    ``problems`` lists one human-readable line per offending record or rule.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        shown = "\n".join(f"- {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        suffix = f"\n... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} data problem(s):\n{shown}{suffix}")


class InputError(BerakhlakError):
    """A caller's input is malformed; ``index`` names the offending item when there is one."""

    def __init__(self, message, index=None, code="invalid_input"):
        self.index = index
        self.code = code
        super().__init__(message)


class PayloadTooLargeError(InputError):
    """A request or batch exceeds a configured limit."""

    def __init__(self, message, index=None):
        super().__init__(message, index=index, code="payload_too_large")


class ModelNotReadyError(BerakhlakError):
    """The model has not finished loading."""


class ResumeError(BerakhlakError):
    """Parts left by an interrupted batch run belong to a different input, model or options."""
