"""The embedded demo study (SIMULATED data; see ``generate.py``)."""
