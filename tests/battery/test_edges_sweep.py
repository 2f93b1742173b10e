# mypy: disable-error-code="arg-type, operator, call-overload, list-item"
"""
The second sweep over the first round's classes of bad input: new members of each class.

Each battery is parametrised by case (readable ids) and states the rule it checks, so the next
member of the class is one more row:

- numeric text is plain ASCII decimal notation with a bounded exponent, a zero amount has no
  sign, and ``Money`` refuses a non-``Money`` operand or a float factor with a typed error;
- an event holds what its JSON reads back (fixed offsets, microseconds, ``[old, new]`` pairs,
  canonical ``$decimal`` text), whatever zone, fold or ``Timestamp`` it was built from;
- a JSON document names each key once, and YAML gives JSON's data model;
- a record's number fields hold Python numbers (so every record makes an event);
- the command line answers every bad file or option with one line and exit status 2;
- every public constructor and function of the packages' ``__all__`` answers a wrong-typed
  required argument (keyword-only ones too) with a ``CrmError``.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import importlib
import inspect
import pickle
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlifecycle import Account, Feedback, Lead, Money, Opportunity, Period, Product
from crmlifecycle._config import load_json, load_text
from crmlifecycle.cli import EXIT_USER_ERROR, main
from crmlifecycle.errors import CrmError, DataError, SpecError, ValidationError, did_you_mean
from crmlifecycle.events import (
    Created,
    FieldsChanged,
    Transitioned,
    event_from_dict,
    event_from_json,
    event_to_json,
)
from crmlifecycle.sla import SlaPolicy, SlaTarget, case_sla, sla_status
from crmlifecycle.synth import Dataset, WorldParams, generate, read_dataset
from crmlifecycle.values import to_decimal

T0 = datetime(2026, 1, 2, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


# -- numeric text ---------------------------------------------------------------------------------
BAD_NUMBER_TEXT = [
    ("underscore", "1_000"),
    ("arabic-indic", "١٢٣"),
    ("full-width", "１２３"),
    ("arabic-decimal-sep", "٫5"),
    ("no-break-space", "\u00a012"),
    ("thousands-comma", "1,000"),
    ("hex", "0x10"),
    ("exponent-huge", "1e999999999"),
    ("exponent-tiny", "1e-999999999"),
    ("zero-exponent-huge", "0E+999999999"),
    ("nan", "NaN"),
    ("signs", "+-1"),
]


@pytest.mark.parametrize(
    "text", [c[1] for c in BAD_NUMBER_TEXT], ids=[c[0] for c in BAD_NUMBER_TEXT]
)
def test_numeric_text_is_plain_ascii_decimal_notation(text: str) -> None:
    with pytest.raises(ValidationError, match="'amount'"):
        Money(text, "EUR")
    with pytest.raises(ValidationError):
        to_decimal(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 12.50 ", Decimal("12.50")),
        ("1.", Decimal(1)),
        (".5", Decimal("0.5")),
        ("-3e2", Decimal(-300)),
    ],
    ids=["blanks", "trailing-point", "leading-point", "exponent"],
)
def test_plain_numeric_text_still_reads(text: str, expected: Decimal) -> None:
    assert to_decimal(text) == expected


@pytest.mark.parametrize(
    "make",
    [
        lambda: Money("-0", "EUR"),
        lambda: Money(-0.0, "EUR"),
        lambda: Money(Decimal("-0.00"), "EUR"),
        lambda: Money("-0.001", "EUR").rounded(),
        lambda: -Money(0, "EUR"),
        lambda: Money("1", "EUR") - Money("1", "EUR"),
        lambda: Money("-1", "EUR") * 0,
    ],
    ids=["text", "float", "decimal", "rounded", "negated", "difference", "product"],
)
def test_a_zero_amount_has_no_sign(make: Callable[[], Money]) -> None:
    money = make()
    assert money.amount == 0
    assert not money.amount.is_signed()
    assert not str(money).startswith("-")


MONEY_MISUSE: list[tuple[str, Callable[[], object], str]] = [
    ("add-int", lambda: Money(1, "EUR") + 1, "other"),
    ("sub-text", lambda: Money(1, "EUR") - "1", "other"),
    ("less-than-int", lambda: Money(1, "EUR") < 1, "other"),
    ("times-float", lambda: Money(1, "EUR") * 0.1, "factor"),
    ("times-np-float", lambda: Money(1, "EUR") * np.float64(2), "factor"),
    ("times-money", lambda: Money(1, "EUR") * Money(1, "EUR"), "factor"),
    ("divide-by-float", lambda: Money(1, "EUR") / 0.5, "divisor"),
    ("divide-by-np-zero", lambda: Money(1, "EUR") / np.int64(0), "divisor"),
    ("sum-of-ints", lambda: Money.sum([1], currency="EUR"), "amounts[0]"),
    ("sum-of-none", lambda: Money.sum(None, currency="EUR"), "amounts"),
    ("sum-of-text", lambda: Money.sum("12", currency="EUR"), "amounts"),
]


@pytest.mark.parametrize(
    ("make", "field"), [c[1:] for c in MONEY_MISUSE], ids=[c[0] for c in MONEY_MISUSE]
)
def test_money_operations_refuse_other_operands_typed(
    make: Callable[[], object], field: str
) -> None:
    with pytest.raises(ValidationError, match=f"'{field}'".replace("[", r"\[").replace("]", r"\]")):
        make()


def test_money_scales_by_exact_numbers_of_any_kind() -> None:
    price = Money("1.5", "EUR")
    assert price * np.int64(2) == price * Decimal(2) == price * "2" == Money(3, "EUR")


# -- records hold Python numbers ------------------------------------------------------------------
def _lead(**fields: Any) -> Lead:
    return Lead(id="L-1", created_at=T0, **fields)


def _deal(**fields: Any) -> Opportunity:
    return Opportunity(id="O-1", name="Acme", amount=Money(1, "EUR"), created_at=T0, **fields)


NUMPY_FIELDS: list[tuple[str, Callable[[Any], Any], str, object]] = [
    ("lead-score-int64", lambda v: _lead(score=v), "score", np.int64(7)),
    ("lead-score-int8", lambda v: _lead(score=v), "score", np.int8(100)),
    ("lead-score-float32", lambda v: _lead(score=v), "score", np.float32(0.5)),
    ("lead-score-float16", lambda v: _lead(score=v), "score", np.float16(3)),
    ("lead-company-size", lambda v: _lead(company_size=v), "company_size", np.int32(40)),
    ("lead-version", lambda v: _lead(version=v), "version", np.uint16(3)),
    ("deal-probability", lambda v: _deal(probability=v), "probability", np.int64(50)),
    (
        "account-employees",
        lambda v: Account(id="A-1", name="Acme", created_at=T0, employees=v),
        "employees",
        np.int64(12),
    ),
    (
        "feedback-score",
        lambda v: Feedback(id="F-1", customer_id="K-1", kind="nps", score=v, at=T0),
        "score",
        np.int64(9),
    ),
]


@pytest.mark.parametrize(
    ("build", "field", "value"), [c[1:] for c in NUMPY_FIELDS], ids=[c[0] for c in NUMPY_FIELDS]
)
def test_number_fields_store_the_python_number(
    build: Callable[[Any], Any], field: str, value: Any
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from comparing a float16 bound
        record = build(value)
    stored = getattr(record, field)
    assert type(stored) in (int, float)
    assert stored == value.item()
    if hasattr(record, "kind") and isinstance(type(record).kind, str):  # an entity: makes an event
        event = Created.of(record)
        assert event_from_json(event_to_json(event)) == event


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: _lead(score=Fraction(1, 2)), "score"),
        (
            lambda: Product(id="P-1", name="x", price=Money(1, "EUR"), description=b"x"),
            "description",
        ),
        (
            lambda: Product(id="P-1", name="x", price=Money(1, "EUR"), description=float("nan")),
            "description",
        ),
        (
            lambda: Feedback(id="F-1", customer_id="K", kind="nps", score=5, at=T0, comment=["x"]),
            "comment",
        ),
    ],
    ids=["fraction-score", "bytes-description", "nan-description", "list-comment"],
)
def test_fields_refuse_what_no_event_can_hold(build: Callable[[], object], field: str) -> None:
    with pytest.raises(ValidationError, match=f"'{field}'"):
        build()


# -- events hold what their JSON reads back -------------------------------------------------------
@pytest.mark.parametrize(
    "envelope",
    [{"sequence": np.int64(3)}, {"sequence": np.uint8(3)}, {"schema_version": np.int64(2)}],
    ids=["sequence-int64", "sequence-uint8", "schema-version-int64"],
)
def test_envelope_numbers_are_stored_as_python_ints(envelope: dict[str, Any]) -> None:
    event = Created(kind="lead", entity_id="L-1", at=T0, **envelope)
    for field, value in envelope.items():
        assert type(getattr(event, field)) is int
        assert getattr(event, field) == value
    assert event_from_json(event_to_json(event)) == event


@pytest.mark.parametrize(
    "envelope",
    [{"sequence": np.float64(3)}, {"sequence": np.True_}, {"schema_version": 2.0}],
    ids=["sequence-float", "sequence-bool", "schema-version-float"],
)
def test_envelope_numbers_that_are_not_integers_are_refused(envelope: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=f"'{next(iter(envelope))}'"):
        Created(kind="lead", entity_id="L-1", at=T0, **envelope)


INSTANTS = [
    ("berlin-fold-0", datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)),
    ("berlin-fold-1", datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)),
    ("berlin-gap", datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN)),
    ("berlin-winter", datetime(2026, 1, 5, 9, tzinfo=BERLIN)),
    ("timestamp-nanoseconds", pd.Timestamp("2026-01-01T00:00:00.000000001", tz="UTC")),
    (
        "timestamp-ambiguous",
        pd.Timestamp("2026-10-25 02:30").tz_localize("Europe/Berlin", ambiguous=True),
    ),
    ("offset-seconds", datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=3601)))),
    ("offset-nepal", datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=45)))),
]


@pytest.mark.parametrize("at", [c[1] for c in INSTANTS], ids=[c[0] for c in INSTANTS])
def test_an_event_equals_itself_read_back_whatever_its_zone(at: datetime) -> None:
    event = Transitioned(
        kind="lead",
        entity_id="L-1",
        trigger="contact",
        source="open",
        dest="contacted",
        at=at,
        context={"due": at, "seen": [at]},
    )
    back = event_from_json(event_to_json(event))
    assert back == event
    assert pickle.loads(pickle.dumps(event)) == event == copy.deepcopy(event)  # noqa: S301
    # the same instant, at microsecond precision, with the offset it had
    assert event.at.utcoffset() == at.utcoffset()
    assert abs(event.at - at) < timedelta(microseconds=1)
    assert type(event.at) is datetime
    lead = Lead(id="L-1", created_at=at)
    created = Created.of(lead)
    assert event_from_json(event_to_json(created)) == created


@pytest.mark.parametrize(
    "pair",
    [1, [1], [None, 5, 6], "ab", None],
    ids=["scalar", "one-item", "three-items", "text", "none"],
)
def test_fields_changed_holds_old_new_pairs(pair: object) -> None:
    with pytest.raises(ValidationError, match=r"'changes\.score'"):
        FieldsChanged(kind="lead", entity_id="L-1", at=T0, changes={"score": pair})
    data = FieldsChanged(kind="lead", entity_id="L-1", at=T0, changes={"score": [1, 2]}).to_dict()
    data["changes"] = {"score": pair}
    with pytest.raises(ValidationError, match=r"'changes\.score'"):
        event_from_dict(data)


@pytest.mark.parametrize(
    "body",
    ["1_000", " 1 ", "١٢٣", "1e999999999", "1" * 101, "0x1"],
    ids=["underscore", "blanks", "arabic-indic", "huge-exponent", "too-long", "hex"],
)
def test_decimal_and_money_tags_read_only_canonical_text(body: str) -> None:
    data = Created(kind="lead", entity_id="L-1", at=T0).to_dict()
    for value in ({"$decimal": body}, {"$money": {"amount": body, "currency": "EUR"}}):
        data["context"] = {"x": value}
        with pytest.raises(ValidationError, match=r"'context\.x'"):
            event_from_dict(data)


def test_a_decimal_no_event_can_read_back_is_refused_when_written() -> None:
    with pytest.raises(ValidationError, match=r"'context\.x'"):
        Created(kind="lead", entity_id="L-1", at=T0, context={"x": Decimal("1E+5000")})


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe"), UTC]
        ),
        allow_imaginary=True,
    )
)
def test_property_any_zoned_instant_round_trips(at: datetime) -> None:
    event = Created(kind="lead", entity_id="L-1", at=at, context={"at": at})
    assert event_from_json(event_to_json(event)) == event


def test_created_of_refuses_what_is_not_an_entity() -> None:
    for thing in (object(), {"id": "L-1"}, "L-1", T0):
        with pytest.raises(ValidationError, match="'entity'"):
            Created.of(thing)


# -- documents ------------------------------------------------------------------------------------
DUPLICATE_KEYS = [
    ("top", '{"a": 1, "a": 2}'),
    ("nested", '{"a": {"b": 1, "b": 2}}'),
    ("in-list", '[{"x": 1}, {"y": 1, "y": 1}]'),
    ("event-tag", '{"event": "created", "event": "transitioned"}'),
]


@pytest.mark.parametrize("text", [c[1] for c in DUPLICATE_KEYS], ids=[c[0] for c in DUPLICATE_KEYS])
def test_a_json_document_names_each_key_once(text: str) -> None:
    with pytest.raises(SpecError, match="appears twice"):
        load_json(text)
    with pytest.raises(SpecError, match="appears twice"):
        load_text(text)


def test_an_event_whose_json_repeats_a_key_is_refused() -> None:
    text = event_to_json(Created(kind="lead", entity_id="L-1", at=T0))
    with pytest.raises(ValidationError, match="appears twice"):
        event_from_json(text[:-1] + ', "kind": "case"}')
    with pytest.raises(SpecError, match="appears twice"):
        SlaPolicy.from_text('{"targets": {"high": {}}, "targets": {"low": {}}}')


YAML_NOT_JSON = [
    ("binary", "a: !!binary aGVsbG8=", "a"),
    ("set", "a: !!set {x, y}", "a"),
    ("omap", "a: !!omap [x: 1]", r"a\[0\]"),
    ("pairs", "a: !!pairs [x: 1]", r"a\[0\]"),
    ("null-key", "~: a", "not text"),
    ("bool-key", "true: a", "not text"),
]


@pytest.mark.parametrize(
    ("text", "words"), [c[1:] for c in YAML_NOT_JSON], ids=[c[0] for c in YAML_NOT_JSON]
)
def test_yaml_values_json_cannot_hold_are_refused(text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        load_text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 2026-01-01", {"a": "2026-01-01"}),
        ("a: 2026-01-01 10:00:00", {"a": "2026-01-01T10:00:00"}),
        ("a: 2026-01-01T10:00:00+02:00", {"a": "2026-01-01T10:00:00+02:00"}),
        ("2026-12-25: closed", {"2026-12-25": "closed"}),
        ("a: [2026-12-25]", {"a": ["2026-12-25"]}),
        ("1: one", {1: "one"}),
    ],
    ids=["date", "naive-timestamp", "aware-timestamp", "date-key", "date-in-list", "int-key"],
)
def test_yaml_dates_read_as_their_iso_text(text: str, expected: object) -> None:
    assert load_text(text) == expected


# -- SLA policies ---------------------------------------------------------------------------------
def test_a_policy_cannot_open_cases_in_a_stop_state() -> None:
    with pytest.raises(ValidationError, match="'initial_state'"):
        SlaPolicy(targets={"high": {"resolution": "1h"}}, initial_state="closed")
    with pytest.raises(SpecError, match="initial_state"):
        SlaPolicy.from_dict(
            {"targets": {"high": {"resolution": "1h"}}, "initial_state": "resolved"}
        )


# -- synth ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world() -> Dataset:
    return generate(seed=1, n_leads=20)


@pytest.mark.parametrize(
    "value", ["garbage", object(), True, 5, pd.NaT], ids=["text", "object", "bool", "int", "nat"]
)
def test_dataset_window_is_an_instant(value: object, world: Dataset) -> None:
    with pytest.raises(DataError, match="start"):
        Dataset(**world.frames(), start=value, end=world.end)


def test_read_dataset_refuses_names_the_system_cannot_take(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"dataset\.json"):
        read_dataset("x" * 5000)
    (tmp_path / "dataset.json").write_text('{"file_format": "csv", "file_format": "csv"}')
    with pytest.raises(DataError, match="appears twice"):
        read_dataset(tmp_path)
    (tmp_path / "dataset.json").write_text(
        '{"file_format": "csv", "frames": {"campaigns": "../campaigns.csv"}, '
        '"start": "2026-01-01", "end": "2026-02-01"}'
    )
    with pytest.raises(DataError, match="file name in the folder"):
        read_dataset(tmp_path)


# -- message helpers never raise ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "candidates"),
    [(None, ["a"]), ("a", None), ("a", 5), ("a", "abc"), ("a", [1, None, "a"])],
    ids=["none-name", "none-candidates", "int-candidates", "text-candidates", "mixed"],
)
def test_did_you_mean_never_raises(name: Any, candidates: Any) -> None:
    assert isinstance(did_you_mean(name, candidates), str)


# -- the command line -----------------------------------------------------------------------------
def _files(folder: Path) -> dict[str, Path]:
    folder.mkdir(exist_ok=True)
    made = {
        "not-gzip.csv.gz": b"not gzip at all",
        "truncated.csv.gz": gzip.compress(b"customer_id,acquired_at\n" + b"a,2026-01-01\n" * 500)[
            :60
        ],
        "twice.csv": b"customer_id,customer_id,acquired_at\na,b,2026-01-01\n",
        "utf16.csv": "customer_id,acquired_at\na,2026-01-01\n".encode("utf-16"),
        "binary.csv": b"\x00\xff\xfe\x89PNG",
        "empty.csv": b"",
    }
    for name, data in made.items():
        (folder / name).write_bytes(data)
    (folder / "a-folder.csv").mkdir(exist_ok=True)
    return {name: folder / name for name in [*made, "a-folder.csv"]}


BAD_FILES = [
    "not-gzip.csv.gz",
    "truncated.csv.gz",
    "twice.csv",
    "utf16.csv",
    "binary.csv",
    "empty.csv",
    "a-folder.csv",
]


@pytest.mark.parametrize("name", BAD_FILES)
def test_report_refuses_every_bad_file_in_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _files(tmp_path)[name]
    assert main(["report", "--customers", str(path)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("crmlifecycle: error: ")
    assert "None" not in err


BAD_OPTIONS = [
    ("tz-empty", ["--tz", ""], "--tz"),
    ("tz-unknown", ["--tz", "Mars/Olympus"], "--tz"),
    ("tz-path", ["--tz", "../../etc/passwd"], "--tz"),
    ("tz-too-long", ["--tz", "x" * 5000], "--tz"),
    ("tz-localtime", ["--tz", "localtime"], "--tz"),
    ("tz-posixrules", ["--tz", "posixrules"], "--tz"),
    ("margin-nan", ["--gross-margin", "nan"], "--gross-margin"),
    ("margin-inf", ["--gross-margin", "1e999"], "--gross-margin"),
    ("margin-arabic-indic", ["--gross-margin", "١"], "--gross-margin"),
    ("start-long", ["--start", "x" * 5000], "characters)"),
    ("unknown-option", ["--nope"], "unrecognized"),
]


@pytest.mark.parametrize(
    ("extra", "words"), [c[1:] for c in BAD_OPTIONS], ids=[c[0] for c in BAD_OPTIONS]
)
def test_report_refuses_bad_options_in_one_short_line(
    extra: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,acquired_at,churned_at\na,2026-01-01,\n")
    assert main(["report", "--customers", str(customers), *extra]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert words in err
    assert len(err) < 400


@pytest.mark.parametrize(
    "argv",
    [["demo", "--seed", "1e3"], ["demo", "--leads", "many"], ["lint"], ["report", "--kpi"]],
    ids=["seed-float", "leads-word", "lint-no-file", "kpi-no-name"],
)
def test_usage_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "error:" in err


# -- every public callable, keyword-only arguments too --------------------------------------------
_PACKAGES = (
    "crmlifecycle",
    "crmlifecycle.events",
    "crmlifecycle.values",
    "crmlifecycle.entities",
    "crmlifecycle.errors",
    "crmlifecycle.sla",
    "crmlifecycle.synth",
    "crmlifecycle.datasets",
)
#: Callables another engineer's part of the hardening answers for (see the notes): the calendar.
_ELSEWHERE = frozenset({"BusinessCalendar"})
_BAD: tuple[object, ...] = (
    object(),
    float("nan"),
    "",
    "x" * 5000,
    pd.DataFrame(),
    -1,
    True,
    2**100,
)


def _public_callables() -> list[tuple[str, Callable[..., Any]]]:
    found: list[tuple[str, Callable[..., Any]]] = []
    for package in _PACKAGES:
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if name in _ELSEWHERE or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                found.append((f"{package}.{name}", obj))
            if inspect.isclass(obj):
                found.extend(
                    (f"{package}.{name}.{method}", getattr(obj, method))
                    for method in ("from_dict", "from_text", "of", "sum", "zero")
                    if callable(getattr(obj, method, None))
                )
    return found


_CALLS = [(label, func, bad) for label, func in _public_callables() for bad in _BAD]


@pytest.mark.parametrize(
    ("func", "bad"),
    [c[1:] for c in _CALLS],
    ids=[f"{c[0]}-{type(c[2]).__name__}" for c in _CALLS],
)
def test_every_public_callable_answers_wrong_types_with_a_crm_error(
    func: Callable[..., Any], bad: object
) -> None:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return
    required = [
        p
        for p in params
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    args = [bad for p in required if p.kind != p.KEYWORD_ONLY]
    kwargs = {p.name: bad for p in required if p.kind == p.KEYWORD_ONLY}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(CrmError):
            func(*args, **kwargs)


# -- one wrong-typed argument at a time, the others valid -----------------------------------------
_POLICY = SlaPolicy(targets={"high": {"resolution": "8h"}})
_CASES = pd.DataFrame(
    {
        "case_id": ["c-1"],
        "priority": ["high"],
        "opened_at": ["2026-11-23T09:00Z"],
        "first_response_at": [None],
        "resolved_at": [None],
    }
)
_VALID_CALLS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "case_sla": (
        case_sla,
        {
            "policy": _POLICY,
            "opened_at": "2026-11-23T09:00Z",
            "priority": "high",
            "as_of": "2026-11-24T00:00Z",
        },
    ),
    "sla_status": (sla_status, {"cases": _CASES, "policy": _POLICY, "as_of": "2026-11-24T00:00Z"}),
    "SlaTarget": (SlaTarget, {}),
    "WorldParams": (WorldParams, {}),
}
_ONE_BAD: tuple[object, ...] = (object(), "x" * 5000, pd.DataFrame(), [1], {"a": 1}, 2**100)
_ONE_AT_A_TIME = [
    (f"{label}-{name}-{type(bad).__name__}", func, {**base, name: bad})
    for label, (func, base) in _VALID_CALLS.items()
    for name, param in inspect.signature(func).parameters.items()
    if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
    for bad in _ONE_BAD
]


@pytest.mark.parametrize(
    ("func", "kwargs"), [c[1:] for c in _ONE_AT_A_TIME], ids=[c[0] for c in _ONE_AT_A_TIME]
)
def test_one_wrong_argument_among_valid_ones_is_a_crm_error(
    func: Callable[..., Any], kwargs: dict[str, Any]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(CrmError):
            func(**kwargs)


def test_generate_refuses_a_progress_that_is_not_a_flag() -> None:
    with pytest.raises(ValidationError, match="'progress'"):
        generate(seed=1, n_leads=10, progress=pd.DataFrame())


# -- periods go by instants -----------------------------------------------------------------------
FOLD_0 = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)  # 00:30 UTC
FOLD_1 = FOLD_0.replace(fold=1)  # 01:30 UTC


@pytest.mark.parametrize(
    ("start", "end", "duration"),
    [
        (FOLD_0, FOLD_1, timedelta(hours=1)),
        (
            datetime(2026, 10, 25, tzinfo=BERLIN),
            datetime(2026, 10, 26, tzinfo=BERLIN),
            timedelta(hours=25),
        ),
        (
            datetime(2026, 3, 29, tzinfo=BERLIN),
            datetime(2026, 3, 30, tzinfo=BERLIN),
            timedelta(hours=23),
        ),
    ],
    ids=["fold", "autumn-day", "spring-day"],
)
def test_a_period_across_a_dst_change_has_its_elapsed_length(
    start: datetime, end: datetime, duration: timedelta
) -> None:
    period = Period(start, end)
    assert period.duration == duration
    assert period.contains(start)
    assert not period.contains(end)


def test_a_period_whose_end_is_before_its_start_in_a_fold_is_refused() -> None:
    start = datetime(2026, 10, 25, 2, 0, fold=1, tzinfo=BERLIN)  # 01:00 UTC
    end = datetime(2026, 10, 25, 2, 45, tzinfo=BERLIN)  # 00:45 UTC
    with pytest.raises(ValidationError, match="'end'"):
        Period(start, end)


def test_period_contains_refuses_a_naive_time() -> None:
    period = Period(FOLD_0, FOLD_1)
    with pytest.raises(ValidationError, match="'at'"):
        period.contains(datetime(2026, 10, 25, 2, 45))


@pytest.mark.parametrize(
    "build",
    [
        lambda: Lead(id="L-1", created_at=FOLD_1, state_since=FOLD_0),
        lambda: Lead(id="L-1", created_at=FOLD_1, updated_at=FOLD_0),
        lambda: _deal_at(FOLD_1, closed_at=FOLD_0),
    ],
    ids=["state-since", "updated-at", "closed-at"],
)
def test_a_record_time_before_its_creation_in_a_fold_is_refused(
    build: Callable[[], object],
) -> None:
    with pytest.raises(ValidationError, match="created_at"):
        build()


def _deal_at(created_at: datetime, **fields: Any) -> Opportunity:
    return Opportunity(
        id="O-1", name="Acme", amount=Money(1, "EUR"), created_at=created_at, **fields
    )


def test_a_record_time_after_its_creation_in_a_fold_is_accepted() -> None:
    lead = Lead(id="L-1", created_at=FOLD_0, state_since=FOLD_1, updated_at=FOLD_1)
    assert lead.state_since == FOLD_1


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs a device that never ends")
@pytest.mark.parametrize(
    "argv",
    [["lint", "/dev/zero"], ["report", "--sla-policy", "/dev/zero", "--kpi", "new_customers"]],
    ids=["lint", "sla-policy"],
)
def test_a_document_that_never_ends_is_refused_as_too_large(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "report":
        customers = tmp_path / "customers.csv"
        customers.write_text("customer_id,acquired_at,churned_at\na,2026-01-01,\n")
        argv = [*argv, "--customers", str(customers)]
    assert main(argv) in (1, EXIT_USER_ERROR)  # lint: a finding; report: a user error
    captured = capsys.readouterr()
    assert "more than 1,000,000 characters" in captured.out + captured.err


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"currency": pd.DataFrame()}, "currency"),
        ({"currency": "xx"}, "currency"),
        ({"min_value": "a"}, "min_value"),
        ({"max_value": 1.5}, "max_value"),
    ],
    ids=["currency-frame", "currency-unknown", "min-text", "max-float"],
)
def test_the_money_strategy_checks_its_arguments_when_built(
    kwargs: dict[str, Any], field: str
) -> None:
    from crmlifecycle.testing import money

    with pytest.raises(ValidationError, match=f"'{field}'"):
        money(**kwargs)
