"""`python -m posekit` runs the posekit command line (Ctrl-C during start-up included: one line)."""

from posekit.cli.entry import main

raise SystemExit(main())
