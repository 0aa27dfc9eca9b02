"""Every picture genlab draws: a run's samples over the truth (`samples`), a sweep's rate figure (`rates`),
a training curve (`training`), an in-context-learning run's error against k (`icl`), metric names (`labels`)."""
