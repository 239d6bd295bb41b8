"""attnviz: an explorer for self-attention that shows every number live."""

__version__ = "0.1.0"
