"""A stand-in for a terminal's stderr, shared by the progress-bar tests."""


class Terminal:
    """Records what is written and says it is a TTY, as a terminal's stderr does."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return True
