"""The data contract in one place: every column of the object table, the quarantine, the
cutout log and the stamp statistics, with its dtype, unit and the pipeline that adds it.

The pandas and the Spark engines both build their tables (and Spark schemas) from these
lists, and ``docs/architecture.md`` documents them; a test keeps the three in step.
Kedro-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from stronglens_calibration import BANDS


@dataclass(frozen=True)
class Column:
    """One column of a project table.

    Attributes
    ----------
    name : str
        Column name.
    dtype : str
        numpy / pandas dtype as stored in parquet (``str`` for strings).
    unit : str
        Physical unit, ``""`` for none.
    stage : str
        The pipeline that adds it.
    doc : str
        One line on what it holds.
    """

    name: str
    dtype: str
    unit: str
    stage: str
    doc: str


#: numpy dtype -> Spark SQL type, for the schemas of per-batch functions on executors.
SPARK_TYPES: dict[str, str] = {
    "float32": "float",
    "float64": "double",
    "int16": "short",
    "int32": "int",
    "int64": "long",
    "int8": "byte",
    "bool": "boolean",
    "str": "string",
}


def _per_band(template: str, dtype: str, unit: str, stage: str, doc: str) -> list[Column]:
    return [Column(template.format(b=b), dtype, unit, stage, doc.format(b=b)) for b in BANDS]


#: Columns of ``objects_ingested`` (ingest).
# fmt: off
INGEST_COLUMNS: tuple[Column, ...] = (
    Column("object_id", "str", "", "ingest", "unique id: lenscat:<name> or dr10:<release>_<brickid>_<objid>"),
    Column("ra", "float64", "deg", "ingest", "right ascension of the stamp centre, ICRS (Tractor position where a sweep row matched)"),
    Column("dec", "float64", "deg", "ingest", "declination of the stamp centre, ICRS"),
    Column("label", "int8", "", "ingest", "1 lens candidate, 0 non-lens"),
    Column("tier", "str", "", "ingest", "tier of a lens candidate from its lenscat grading ('' for non-lenses)"),
    Column("origin", "str", "", "ingest", "lenscat reference or sweep file the object comes from"),
    Column("lenscat_name", "str", "", "ingest", "lenscat name of a lens candidate"),
    Column("type", "str", "", "ingest", "Tractor morphological TYPE (PSF, REX, DEV, EXP, SER)"),
    *_per_band("mag_{b}", "float64", "AB mag", "ingest", "{b}-band magnitude from the sweep flux (NaN for flux <= 0)"),
    *_per_band("nobs_{b}", "int16", "", "ingest", "number of {b}-band exposures"),
    Column("maskbits", "int64", "", "ingest", "Tractor MASKBITS"),
    Column("shape_r", "float32", "arcsec", "ingest", "half-light radius of the Tractor model"),
    Column("axis_ratio", "float32", "", "ingest", "axis ratio b/a from SHAPE_E1, SHAPE_E2"),
    Column("sersic", "float32", "", "ingest", "Sersic index of the Tractor model"),
    Column("psfsize_r", "float32", "arcsec", "ingest", "r-band PSF FWHM at the object"),
    Column("psfdepth_r", "float32", "1/nanomaggy^2", "ingest", "r-band PSF depth (inverse variance of a point-source flux)"),
    Column("brickname", "str", "", "ingest", "brick the object is primary in"),
    Column("photsys", "str", "", "ingest", "photometric system: S (DECam) or N (DR9 BASS/MzLS north imaging)"),
    Column("photometry_sep_arcsec", "float64", "arcsec", "ingest", "separation of a lens candidate from the sweep row giving its photometry"),
    Column("has_photometry", "bool", "", "ingest", "a sweep row gave the object its photometry"),
    Column("lenscat_ra", "float64", "deg", "ingest", "lenscat position of a lens candidate (NaN for non-lenses)"),
    Column("lenscat_dec", "float64", "deg", "ingest", "lenscat position of a lens candidate (NaN for non-lenses)"),
    Column("centre_offset_arcsec", "float64", "arcsec", "ingest", "how far the stamp centre moved from the catalogue position"),
    Column("position_source", "str", "", "ingest", "tractor (a sweep row's position) or lenscat"),
    Column("confuser_category", "str", "", "ingest", "hard-confuser category of a sampled non-lens ('' if none)"),
    Column("stratum", "str", "", "ingest", "sampling stratum '<nobs_z bin>|<TYPE>' (and '|<photsys>')"),
    Column("cutout_file", "str", "", "ingest", "partition key, URI or 'brick:<name>' of the cutout"),
    Column("cutout_row", "int64", "", "ingest", "row in a parquet table of NPZ bytes (-1 for a file)"),
    Column("cutout_sep_arcsec", "float64", "arcsec", "ingest", "separation of the object from the position its cutout holds"),
    Column("cutout_origin", "str", "", "ingest", "file, table, brick or service ('' when none was found)"),
    Column("cutout_error", "str", "", "ingest", "why the cutout could not be used ('' when it could)"),
    Column("shard", "int32", "", "ingest", "stamp-store shard of the stamp (-1: no stamp)"),
    Column("offset", "int32", "", "ingest", "row of the stamp in its shard (-1: no stamp)"),
    Column("stamp_store", "str", "", "ingest", "stamp-store generation that shard and offset point into"),
    Column("reader", "str", "", "ingest", "decoder of the cutout (fits, npz_cutout, npz_bands, brick)"),
    Column("bands_present", "str", "", "ingest", "bands found in the cutout, e.g. 'grz'"),
)
# fmt: on

#: Per-stamp statistics that ``quality`` measures (one streaming pass over the store).
STATISTICS_COLUMNS: tuple[Column, ...] = (
    Column("nan_frac", "float32", "", "quality", "fraction of non-finite pixels over all bands"),
    Column("inf_count", "int32", "", "quality", "number of infinite pixels"),
    Column("nan_in_core", "bool", "", "quality", "a non-finite pixel inside the core aperture"),
    Column(
        "zero_in_core", "bool", "", "quality", "no coverage (a run of exact zeros) near the centre"
    ),
    *[
        col
        for b in BANDS
        for col in (
            Column(f"nan_count_{b}", "int32", "", "quality", f"non-finite pixels in {b}"),
            Column(f"empty_{b}", "bool", "", "quality", f"{b} all zero or all non-finite"),
            Column(f"constant_{b}", "bool", "", "quality", f"{b} constant (and not empty)"),
            Column(
                f"core_flux_{b}",
                "float32",
                "nanomaggy",
                "quality",
                f"{b} flux summed over the core aperture",
            ),
            Column(
                f"annulus_median_{b}",
                "float32",
                "nanomaggy/pixel",
                "quality",
                f"{b} median in the normalisation annulus",
            ),
            Column(
                f"annulus_mad_{b}",
                "float32",
                "nanomaggy/pixel",
                "quality",
                f"{b} median absolute deviation in the annulus",
            ),
            Column(f"zero_frac_{b}", "float32", "", "quality", f"fraction of {b} without coverage"),
        )
    ],
)

#: Columns ``quality`` adds besides the statistics.
QUALITY_COLUMNS: tuple[Column, ...] = (
    *STATISTICS_COLUMNS,
    Column(
        "quality_flags",
        "str",
        "",
        "quality",
        "'|'-joined reasons why the object is unusable ('' when usable)",
    ),
    Column("cutout_ok", "bool", "", "quality", "the stamp is usable"),
)

#: Columns ``split`` adds.
SPLIT_COLUMNS: tuple[Column, ...] = (
    Column("healpix", "int64", "", "split", "HEALPix pixel, NESTED, nside from split.nside"),
    Column(
        "region_holdout",
        "bool",
        "",
        "split",
        "in a coarse region (split.region_holdout.nside) held out whole for test",
    ),
    Column("split", "str", "", "split", "train, val, test, or '' (dropped by the overlap rule)"),
    Column(
        "sample_weight", "float32", "", "split", "matching weight (1 for lenses, 0 when unusable)"
    ),
)

#: Every column of ``objects_split``, in table order.
OBJECT_COLUMNS: tuple[Column, ...] = INGEST_COLUMNS + QUALITY_COLUMNS + SPLIT_COLUMNS

#: Columns of the quarantine tables (ingest's and the final one): every input row that
#: did not become a usable object, with the stage that stopped it and why.
QUARANTINE_COLUMNS: tuple[Column, ...] = (
    Column("object_id", "str", "", "ingest", "id of the input row"),
    Column("ra", "float64", "deg", "ingest", "right ascension (NaN when unreadable)"),
    Column("dec", "float64", "deg", "ingest", "declination (NaN when unreadable)"),
    Column("label", "int8", "", "ingest", "1 lens candidate, 0 non-lens"),
    Column("tier", "str", "", "ingest", "tier of a lens candidate"),
    Column("stage", "str", "", "ingest", "ingest:lenscat, ingest:cuts, ingest:sweeps or quality"),
    Column("reason", "str", "", "ingest", "why the row is not usable"),
)

#: Columns of the cutout log (one row per stamp-store slot, written with each shard).
CUTOUT_LOG_COLUMNS: tuple[Column, ...] = (
    Column("object_id", "str", "", "ingest", "object in the slot"),
    Column("reader", "str", "", "ingest", "decoder used"),
    Column("bands_present", "str", "", "ingest", "bands found"),
    Column("cutout_error", "str", "", "ingest", "why the slot is empty ('' when read)"),
)


def names(columns: tuple[Column, ...]) -> list[str]:
    """The column names, in order."""
    return [c.name for c in columns]


def spark_schema(columns: tuple[Column, ...], prefix: str = "") -> str:
    """A Spark DDL schema of ``columns`` (after ``prefix``, e.g. ``"_row long, "``)."""
    return prefix + ", ".join(f"{c.name} {SPARK_TYPES[c.dtype]}" for c in columns)


def numpy_dtypes(columns: tuple[Column, ...]) -> dict[str, str]:
    """Column name to numpy dtype (strings as ``object``)."""
    return {c.name: ("object" if c.dtype == "str" else c.dtype) for c in columns}


def quarantine_table(*frames: object) -> object:
    """Quarantine rows from several sources in the one schema (missing ``tier`` is ``""``).

    Parameters
    ----------
    *frames : pandas.DataFrame
        Rows with at least ``object_id``, ``ra``, ``dec``, ``label``, ``stage``, ``reason``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`QUARANTINE_COLUMNS`, ``label`` int8, strings never NaN.
    """
    import pandas as pd

    parts = [f for f in frames if len(f.columns)]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    table = table.reindex(columns=names(QUARANTINE_COLUMNS))
    for col in QUARANTINE_COLUMNS:
        if col.dtype == "str":
            table[col.name] = table[col.name].astype(object).fillna("").astype(str)
    table["label"] = table["label"].astype("int8")
    return table


def reason_kind(reason: str) -> str:
    """The kind of a quarantine reason: its text up to the first comma outside brackets
    (``"duplicate position, kept dr10:1_2_3"`` -> ``"duplicate position"``;
    ``"wrong shape (64, 64)"`` stays whole), for counting reasons in reports."""
    depth = 0
    for i, ch in enumerate(reason):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            return reason[:i].strip()
    return reason.strip()
