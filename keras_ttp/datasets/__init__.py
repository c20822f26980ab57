"""Point-cloud data sets, readers and input pipelines."""
