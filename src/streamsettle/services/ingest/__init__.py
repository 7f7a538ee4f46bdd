"""Ingest: how watching becomes watch logs.

Live playback sessions and their heartbeats (``playback``, behind the per-second limits of
``services.rate_limit``), the flusher that closes idle sessions into watch logs
(``flusher``), and the bulk import of watch-log lines (``watch_log_lines``, ``importer``,
``resume``).
"""
