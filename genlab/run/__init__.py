"""One run: validated config -> truth -> n training points -> fitted estimator -> estimates -> files."""
