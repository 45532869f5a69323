"""genanki, imported without asyncio.

genanki 0.13 takes its ``cached_property`` decorator from the package of that
name, whose module imports asyncio (and with it ssl, socket, subprocess and
logging) for coroutine properties, which genanki never has.  That import made
a twentieth of a small build's instructions and 5.6 MB of every process that
writes a package (a 50,000-note build's workers, an edit rebuild's one).  So,
while genanki's modules bind the name, the package's module is stood in for by
one holding the standard library's ``functools.cached_property``, which does
what genanki asks of it: compute once, keep the value in the instance's
``__dict__``.  The stand-in is removed at once, so any other importer of
``cached_property`` gets the real package; where it or genanki was imported
before, nothing is stood in for.
"""

from __future__ import annotations

import functools
import sys
import types


def _stand_in() -> types.ModuleType:
    module = types.ModuleType("cached_property")
    module.__dict__["cached_property"] = functools.cached_property
    return module


if "genanki" in sys.modules or "cached_property" in sys.modules:
    import genanki as genanki
else:
    sys.modules["cached_property"] = _stand_in()
    try:
        import genanki as genanki
    finally:
        del sys.modules["cached_property"]
