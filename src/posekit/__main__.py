"""`python -m posekit` runs the posekit command line."""

from posekit.cli.main import main

raise SystemExit(main())
