"""The local web UI (optional extra `posekit[ui]`)."""
