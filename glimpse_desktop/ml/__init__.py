"""Models and the compute devices they run on."""
