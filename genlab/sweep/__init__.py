"""A sweep: plan -> run directories -> records -> rates -> figure and tables."""
