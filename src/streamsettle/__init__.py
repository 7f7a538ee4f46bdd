"""streamsettle: trustworthy watch logs, views and daily creator settlement."""

__version__ = "0.1.0"
