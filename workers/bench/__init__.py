"""`kurator bench` (`make bench`): Kurator against bare Temporal, measured in the same run."""
