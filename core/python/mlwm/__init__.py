"""mlwm: runs machine-learning weather models in operations.

`mlwm.paths` creates and parses the key layout of input and output datasets;
it is a binding of the C++ code the `mlwm` binary uses.
"""
