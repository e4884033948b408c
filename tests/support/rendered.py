"""What a reader sees of a markdown string that cnnviz.io.text.md_text escaped: CommonMark drops the backslash
before ASCII punctuation. AppTest gives element sources, so assertions on error text go through this."""
import re


def shown(markdown: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
