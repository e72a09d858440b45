"""Python helpers shared by glassbox's tools and tests (numpy only; torch optional)."""
