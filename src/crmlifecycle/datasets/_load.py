"""Loaders for the data files under ``crmlifecycle/datasets/data``."""

from __future__ import annotations

import io
from importlib import resources

import pandas as pd

__all__ = [
    "load_cdnow_summary",
    "load_cdnow_transactions",
    "load_donations",
    "load_retention_cohorts",
]


def _read(name: str) -> bytes:
    return resources.files("crmlifecycle.datasets").joinpath("data", name).read_bytes()


def load_cdnow_summary() -> pd.DataFrame:
    """
    Return the CDNOW sample summarised for the 39-week calibration period.

    2,357 customers who made their first purchase at CDNOW in the first quarter
    of 1997 (a 1/10 sample of that cohort), summarised in weeks at the end of
    the calibration period (1997-09-30): ``frequency`` (repeat purchases),
    ``recency`` (week of the last repeat purchase, counted from the first
    purchase), ``T`` (weeks between the first purchase and the end of the
    period) and ``monetary_value`` (mean value of the repeat purchases, in USD;
    0 for customers without one). Indexed by ``customer_id``.

    Source: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way:
    An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), and
    "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", *Journal
    of Marketing Research* 42(4); the data as distributed with Bruce Hardie's
    notes (brucehardie.com) and redistributed by the R package BTYD and the
    Python package ``lifetimes``.

    Examples:
        >>> from crmlifecycle.datasets import load_cdnow_summary
        >>> summary = load_cdnow_summary()
        >>> summary.loc["1"].tolist()
        [2.0, 30.43, 38.86, 22.35]
    """
    frame = pd.read_csv(io.BytesIO(_read("cdnow_summary.csv")), dtype={"customer_id": str})
    frame = frame.set_index("customer_id")
    frame["frequency"] = frame["frequency"].astype("int64")
    return frame


def load_cdnow_transactions() -> pd.DataFrame:
    """
    Return the CDNOW sample's purchases, one row per customer and day.

    6,919 rows for the 2,357 customers of :func:`load_cdnow_summary`, from
    1997-01-01 to 1998-06-30 (78 weeks): ``customer_id`` (string), ``at``
    (the purchase day, UTC), ``cds`` (number of CDs bought) and ``amount``
    (USD). The first 39 weeks (up to 1997-09-30) are the calibration period
    of the papers, the next 39 weeks their holdout period.

    Source: the CDNOW sample of Fader, Hardie & Lee (2005), *Marketing Science*
    24(2), as distributed with Bruce Hardie's notes (brucehardie.com) and
    redistributed by the R package BTYD and the Python package ``lifetimes``.

    Examples:
        >>> from crmlifecycle.datasets import load_cdnow_transactions
        >>> orders = load_cdnow_transactions()
        >>> len(orders), orders["customer_id"].nunique()
        (6919, 2357)
        >>> str(orders["at"].dtype)
        'datetime64[ns, UTC]'
    """
    frame = pd.read_csv(
        io.BytesIO(_read("cdnow_transactions.csv.gz")),
        compression="gzip",
        dtype={"customer_id": str},
    )
    frame["at"] = pd.to_datetime(frame.pop("date"), format="%Y-%m-%d").dt.tz_localize("UTC")
    frame["at"] = frame["at"].astype("datetime64[ns, UTC]")
    return frame[["customer_id", "at", "cds", "amount"]]


def load_donations() -> pd.DataFrame:
    """
    Return the donation histories of the 1995 cohort of a nonprofit (BG/BB data).

    11,104 first-time supporters in 1995, followed over the six annual donation
    opportunities 1996–2001, collapsed into 22 distinct histories:
    ``frequency`` (years with a donation), ``recency`` (the last such year,
    1 = 1996; 0 if none), ``T`` (opportunities, 6) and ``weight`` (donors with
    that history).

    Source: Fader, Hardie & Shang (2010), "Customer-Base Analysis in a
    Discrete-Time Noncontractual Setting", *Marketing Science* 29(6); the data
    as distributed with Bruce Hardie's BG/BB note (brucehardie.com, note 010)
    and redistributed by the Python package ``lifetimes``.

    Examples:
        >>> from crmlifecycle.datasets import load_donations
        >>> donations = load_donations()
        >>> len(donations), int(donations["weight"].sum())
        (22, 11104)
    """
    return pd.read_csv(io.BytesIO(_read("donations.csv")))


def load_retention_cohorts() -> pd.DataFrame:
    """
    Return the survivor counts of two cohorts of 1,000 contract customers.

    One row per segment (``regular``, ``high_end``), one column per year
    0–12: the number of the 1,000 customers who signed up in year 0 and are
    still customers at the end of each year.

    Source: Fader & Hardie (2007), "How to Project Customer Retention",
    *Journal of Interactive Marketing* 21(1), Table 1 (data originally from
    Berry & Linoff, 2004, *Data Mining Techniques*).

    Examples:
        >>> from crmlifecycle.datasets import load_retention_cohorts
        >>> cohorts = load_retention_cohorts()
        >>> cohorts.loc["high_end"].tolist()[:4]
        [1000, 869, 743, 653]
    """
    frame = pd.read_csv(io.BytesIO(_read("retention_cohorts.csv")), index_col="cohort")
    frame.columns = pd.Index([int(c) for c in frame.columns], name="year")
    return frame
