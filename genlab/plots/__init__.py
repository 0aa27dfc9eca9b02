"""Pictures: a run's samples over the truth (`samples`), a sweep's rate figure (`rates`), metric names (`labels`)."""
