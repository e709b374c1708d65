from __future__ import annotations

from migdoctor.cli import main

main()
