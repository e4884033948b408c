"""cnnviz: the engine behind the interactive CNN explorer. Importing it never imports streamlit."""
from cnnviz.errors import ConfigError

__all__ = ["ConfigError"]
