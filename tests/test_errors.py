from __future__ import annotations

import pytest

from crmlifecycle import errors
from crmlifecycle.errors import (
    CrmError,
    DataError,
    FitError,
    GuardRejected,
    InvalidTransition,
    MissingColumnError,
    PluginError,
    RuleSyntaxError,
    RuleTypeError,
    SpecError,
    UnknownFieldError,
    UnsafeRule,
    ValidationError,
)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (ValidationError, ValueError),
        (InvalidTransition, ValueError),
        (GuardRejected, ValueError),
        (SpecError, ValueError),
        (RuleSyntaxError, ValueError),
        (UnsafeRule, ValueError),
        (RuleTypeError, TypeError),
        (UnknownFieldError, KeyError),
        (DataError, ValueError),
        (MissingColumnError, KeyError),
        (FitError, RuntimeError),
        (PluginError, TypeError),
    ],
)
def test_every_error_is_a_crm_error_and_its_builtin(
    cls: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(cls, CrmError)
    assert issubclass(cls, builtin)


def test_all_is_sorted_and_complete() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    for name in errors.__all__:
        assert hasattr(errors, name)


def test_invalid_transition_carries_its_data_and_hints() -> None:
    err = InvalidTransition(
        trigger="qualfy", state="contacted", allowed=["qualify", "disqualify"], kind="lead"
    )
    assert err.trigger == "qualfy"
    assert err.state == "contacted"
    assert err.allowed == ("qualify", "disqualify")
    assert "did you mean 'qualify'" in str(err)
    assert "Hint:" in str(err)


def test_invalid_transition_from_final_state() -> None:
    err = InvalidTransition(trigger="reopen", state="closed", allowed=[])
    assert "none (a final state)" in str(err)


def test_guard_rejected_names_the_guard() -> None:
    err = GuardRejected(trigger="qualify", state="contacted", guard="score >= 50")
    assert err.guard == "score >= 50"
    assert "'score >= 50'" in str(err)


def test_spec_error_prefixes_its_path() -> None:
    err = SpecError("unknown state 'wonn'", path="transitions[3].dest")
    assert str(err) == "transitions[3].dest: unknown state 'wonn'"
    assert err.path == "transitions[3].dest"


def test_rule_error_points_at_the_position() -> None:
    err = RuleSyntaxError("unexpected token", text="score >= ", position=9)
    assert err.position == 9
    assert str(err).splitlines()[-1] == "  " + " " * 9 + "^"


def test_unknown_field_is_readable_key_error() -> None:
    err = UnknownFieldError("scroe", ["score", "source"], text="scroe > 1", position=0)
    assert str(err).startswith("unknown field 'scroe' (did you mean 'score'?)")
    assert err.available == ("score", "source")


def test_missing_column_error_lists_what_exists() -> None:
    err = MissingColumnError(["customer_id"], ["customerid", "amount"], frame="orders")
    assert err.missing == ("customer_id",)
    assert err.column == "customer_id"
    message = str(err)
    assert "orders frame is missing column(s) ['customer_id']" in message
    assert "did you mean 'customerid'" in message
    assert not message.startswith('"')  # a KeyError, but not repr-quoted


def test_data_error_malformed_shows_a_few_rows() -> None:
    err = DataError.malformed("amount", "has NaN", rows=list(range(8)), value=None, hint="fill it.")
    assert "rows [0, 1, 2, 3, 4] (and 3 more)" in str(err)
    assert err.rows == tuple(range(8))


def test_fit_error_keeps_diagnostics() -> None:
    err = FitError("did not converge", diagnostics={"iterations": 200})
    assert err.diagnostics == {"iterations": 200}


def test_plugin_error_names_the_plugin() -> None:
    err = PluginError("has no score() method", plugin="acme")
    assert err.plugin == "acme"
    assert str(err) == "plugin 'acme': has no score() method"
