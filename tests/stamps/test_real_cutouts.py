"""Cutouts as the Legacy Surveys service writes them: band order from the header, gzip and
fpack files, ``&invvar`` and ``&subimage`` answers, files found by the position they hold,
and headers that must agree with their object."""

from __future__ import annotations

import numpy as np
import pytest

from stronglens_calibration.stamps.cutout_index import CutoutIndex, position_from_name
from stronglens_calibration.stamps.formats import StampDecodeError, decode_stamp
from stronglens_calibration.stamps.statistics import stamp_statistics, zero_runs
from stronglens_calibration.stamps.store import StampChecks, decode_cutout
from tests.producers import fpacked, galaxy_planes, gzipped, service_fits

RA, DEC = 150.1234, 2.2583
CHECKS = StampChecks(centre_tolerance_arcsec=1.0, pixel_scale=0.262, pixel_scale_tolerance=0.01)


@pytest.fixture
def grz():
    return galaxy_planes(seed=1)


@pytest.mark.parametrize("order", ["grz", "zrg", "rzg"])
@pytest.mark.parametrize("bands_card", [True, False])
def test_the_stored_planes_are_g_r_z_whatever_the_file_order(grz, order, bands_card):
    """A stamp is the file's planes in g, r, z order, named by BANDS or by BAND0..n."""
    planes = np.stack([grz["grz".index(b)] for b in order])
    data = service_fits(planes, RA, DEC, bands=order, bands_card=bands_card)
    pixels, info = decode_cutout(data, "x.fits", 101, (RA, DEC, CHECKS))
    assert info["cutout_error"] == ""
    assert np.array_equal(pixels, grz)


def test_a_cube_without_band_names_is_refused_not_guessed(grz):
    from astropy.io import fits

    hdul = fits.open(__import__("io").BytesIO(service_fits(grz, RA, DEC)))
    for key in ("BANDS", "BAND0", "BAND1", "BAND2"):
        del hdul[0].header[key]
    buf = __import__("io").BytesIO()
    hdul.writeto(buf)
    with pytest.raises(StampDecodeError, match="unknown bands"):
        decode_stamp(buf.getvalue(), "x.fits")


def test_griz_cutouts_keep_g_r_z(grz):
    i_plane = np.full((1, 101, 101), 7.0, np.float32)
    planes = np.concatenate([grz[:2], i_plane, grz[2:]])
    stamp = decode_stamp(service_fits(planes, RA, DEC, bands="griz"), "x.fits")
    assert np.array_equal(stamp.pixels, grz)
    assert stamp.bands_present == "grz"


def test_gzip_and_fpack_cutouts_decode(grz):
    gz = decode_stamp(gzipped(service_fits(grz, RA, DEC)), "cutout_150.1234_2.2583.fits.gz")
    assert np.array_equal(gz.pixels, grz)
    fz = decode_stamp(fpacked(grz, RA, DEC), "cutout_150.1234_2.2583.fits.fz")
    # RICE with subtractive dither quantises to a fraction of the noise
    assert np.abs(fz.pixels - grz).max() < 0.0026
    assert fz.meta["pixel_scale"] == pytest.approx(0.262)


def test_invvar_and_subimage_answers(grz):
    stamp = decode_stamp(service_fits(grz, RA, DEC, variant="invvar"), "x.fits")
    assert np.array_equal(stamp.pixels, grz)
    pixels, info = decode_cutout(service_fits(grz, RA, DEC, variant="subimage"), "x.fits", 101)
    assert pixels is None
    assert info["cutout_error"] == "subimage cutout"


def test_the_header_must_agree_with_the_object(grz):
    ok, info = decode_cutout(service_fits(grz, RA, DEC), "x.fits", 101, (RA, DEC, CHECKS))
    assert ok is not None and info["cutout_error"] == ""
    coarse = service_fits(grz, RA, DEC, pixscale=0.524)
    _, info = decode_cutout(coarse, "x.fits", 101, (RA, DEC, CHECKS))
    assert info["cutout_error"].startswith('pixel scale 0.524"/px')
    away = service_fits(grz, RA, DEC + 1.0)
    _, info = decode_cutout(away, "x.fits", 101, (RA, DEC, CHECKS))
    assert info["cutout_error"] == 'centre 3600.0" from the object (tolerance 1.0")'


def test_npz_meta_is_checked_too(grz):
    from stronglens_calibration.stamps.formats import encode_npz_cutout

    data = encode_npz_cutout(grz, "grz", {"ra": RA, "dec": DEC + 0.01, "pixscale": 0.262})
    _, info = decode_cutout(data, "x.npz", 101, (RA, DEC, CHECKS))
    assert info["cutout_error"].startswith('centre 36.0"')


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("cutout_150.1234_2.2583", (150.1234, 2.2583)),  # what browsers save (%.4f)
        ("cutout_150.12340_02.25830", (150.1234, 2.2583)),  # the project's own names
        ("cutout_5.0000_-12.5000", (5.0, -12.5)),
        ("cand 150.1234, 2.2583", (150.1234, 2.2583)),
        ("DESI J100029.62+021529.9", (150.12342, 2.25831)),
    ],
)
def test_positions_are_parsed_from_common_names(stem, expected):
    ra, dec = position_from_name(stem)
    assert ra == pytest.approx(expected[0], abs=2e-4)
    assert dec == pytest.approx(expected[1], abs=2e-4)


def test_cutouts_are_found_by_position_within_the_tolerance(grz):
    """Four of six real cutouts were lost when names had to match to 1e-5 deg: now a file
    named at 4 decimals, one named at the Tractor position 0.3" away, and one whose name
    holds no position (read from its WCS) are all found; a file of another object is
    unmatched; two files of one object are reported as ambiguous."""
    objects = [(RA, DEC), (RA + 0.01, DEC), (RA + 0.02, DEC), (RA + 0.03, DEC)]
    files = {
        f"cutout_{objects[0][0]:.4f}_{objects[0][1]:.4f}.fits": service_fits(grz, *objects[0]),
        # 0.3" east of the object (a Tractor position)
        f"cutout_{objects[1][0] + 0.3 / 3600:.6f}_{objects[1][1]:.6f}.fits": b"",
        "candidate_three.fits": service_fits(grz, *objects[2]),
        f"cutout_{objects[3][0]:.5f}_{objects[3][1]:.5f}.fits": b"",
        f"cutout_{objects[3][0]:.4f}_{objects[3][1]:.4f}.npz": b"",
        "cutout_10.0000_-5.0000.fits": b"",
    }
    index = CutoutIndex.from_partitions({k: (lambda v=v: v) for k, v in files.items()}, "npz")
    ra = np.array([o[0] for o in objects])
    dec = np.array([o[1] for o in objects])
    located, report = index.locate(ra, dec, tolerance_arcsec=1.0)
    assert (located["cutout_file"] != "").all()
    assert located.at[2, "cutout_file"] == "candidate_three.fits"
    assert report["located_by"] == {"name": 5, "header": 1}
    assert report["ambiguous"] == 1 and report["ambiguous_examples"] == [3]
    assert report["unmatched_files"] == 2  # the far file, and the second copy of object 3
    tight, _ = index.locate(ra, dec, tolerance_arcsec=0.1)
    assert tight.at[1, "cutout_file"] == ""  # 0.3" is beyond a 0.1" tolerance


def test_a_file_without_a_position_is_reported():
    index = CutoutIndex.from_partitions({"mystery.fits": lambda: b"not a fits file"}, "npz")
    _, report = index.locate(np.array([RA]), np.array([DEC]), 1.0)
    assert report["unlocated"] == 1
    assert report["unlocated_examples"][0]["key"] == "mystery.fits"


def test_no_coverage_is_found_in_runs_of_exact_zeros(grz):
    """The service writes 0 where there is no exposure: 40 zero columns, or an 11-row
    gap through the core, are found; an isolated exact zero is not."""
    stamps = np.stack([grz, grz.copy(), grz.copy(), grz.copy()])
    stamps[1, :, :, :40] = 0.0  # 40 columns without coverage, away from the core
    stamps[2, :, 45:56, :] = 0.0  # an 11-row gap through the core
    stamps[3, 1, 3, 7] = 0.0  # one isolated exact zero
    assert zero_runs(stamps, 3)[3].sum() == 0
    stats = stamp_statistics(stamps, 1.5, (32.0, 45.0), coverage_core_radius_px=5.0)
    assert stats["zero_frac_g"][1] == pytest.approx(40 / 101)
    assert list(stats["zero_in_core"]) == [False, False, True, False]
    assert stats["zero_frac_r"][3] == 0.0
