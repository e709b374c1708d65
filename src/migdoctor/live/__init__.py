"""Live answers built from the probes: `doctor` (the checklist), `status` (files against each
database), and `diagnose --live` (a pasted error confirmed and completed by the probes).

Every function here receives its I/O through `gather.Handles`; only the CLI creates real ones.
"""

from __future__ import annotations
