"""The pieces of the config loader; :mod:`pager.config.load` is the public entry point.

One module per job: ``issues`` (the error type), ``yamltree`` (YAML text -> a tree that
remembers lines), ``fields`` (typed readers that report issues instead of raising),
``values`` (durations, times, weekdays, dates: pure text parsers), ``settings``,
``people``, ``rotations``, ``ladders`` (one file format each) and ``crossref`` (checks
that need several files at once).
"""
