"""Kedro-free lensing and imaging physics: Sersic light, SIE + shear ray tracing, PSF, noise.

Conventions used throughout the package:

* Angles on the sky are in arcsec, measured from the stamp centre, the pixel
  ``(H // 2, W // 2)``. ``x`` runs along columns (axis -1), ``y`` along rows (axis -2).
* Position angles ``phi`` are in radians, counter-clockwise from the +x axis.
* Surface brightness is in nanomaggies per arcsec^2; rendered pixels are in
  nanomaggies per pixel (surface brightness averaged over the pixel times its area).
"""
