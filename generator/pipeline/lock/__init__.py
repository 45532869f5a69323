"""The build lock: what each note looked like when it was last built, and when.

Anki updates an imported note only if its modification time is newer than the
one in the collection.  So an unchanged note must keep the time it was first
built with (or a re-import would overwrite notes a student edited), and an
edited note must get a newer one (or the edit would never arrive).  The lock,
committed beside the sources, records for every note its GUID, a hash of its
content and that time, and for every note type its contract (its fields' and
templates' names and ids) and a hash of its templates and CSS.

It is JSON with one note per line, sorted, so that a diff of the lock reads as
a list of the notes a change touched.

A module a job, each importing only those above it in this list:

- ``model``: the lock's records (:class:`~.model.LockedNote`, :class:`~.model.Lock`) and limits;
- ``located``: its bytes read and parsed as JSON, and a value's line found once a problem needs one;
- ``checks``: what every field may hold, checked in one pass that collects every problem;
- ``notelines``: where each note's line is in the lock a build read, read from there when asked;
- ``write``: the lock's text, one note a line, and the key → line lookup that relies on that layout;
- ``places``: where each line of a lock is, as the build that wrote it leaves them for the next one;
- ``lines``: the lock the last build wrote, kept as where its lines are, a note decoded only when read;
- ``read``: :func:`~.read.read_lock`, trusting the lock the last build wrote and checking any other;
- ``guard``: the note type contract a build may not change under the same id;
- ``times``: each note's time and change kind against the lock, tombstones, releases.
"""
