"""Closing the loop with Anki: what students found hard (``report``) and sending decks to a running Anki (``push``).

The layer above ``build``: it reads the source through the pipeline's
``check`` to name each note's item and ``file:line``.  Only
:mod:`generator.connect.exports` imports the ``anki`` package (an optional
dependency), and only when a report is asked for.
"""
