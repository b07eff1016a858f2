"""Held-out evaluation: operating points, calibration, injection-recovery, realism."""
