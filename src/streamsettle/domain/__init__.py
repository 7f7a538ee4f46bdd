"""The pure domain core: the money rules of docs/rules.md as plain functions.

Standard library only, no clock, no time zone and no I/O read from globals, so every rule can
be tested exactly and mirrored elsewhere (SQL in the batch, Lua in Redis).
"""
