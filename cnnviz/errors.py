"""The one error users see."""


class ConfigError(ValueError):
    """A configuration PyTorch would reject; the message names the field and the rule."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")
