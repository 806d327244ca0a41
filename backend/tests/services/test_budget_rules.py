"""A budget's figures and periods as people read them: exact amounts never in exponent form, the
UTC day and the UTC month (December's next is January)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.services.quota import budgets


@pytest.mark.parametrize(
    ("units", "shown"),
    [(0, "0"), (416 * 10**6, "0.000416"), (50 * 10**12, "50"), (410_700, "0.0000004107")],
)
def test_cost_figures_are_exact_decimals(units, shown):
    (cost,) = budgets.of("key", 1, {"cost_per_month": {"CNY": "50.00"}})
    assert cost.amount(units) == shown
    assert cost.limit == 50 * 10**12


def test_periods_are_the_utc_day_and_month():
    tokens, cost = budgets.of("user", 7, {"tokens_per_day": 10, "cost_per_month": {"USD": "1"}})
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert (tokens.period(late), cost.period(late)) == (date(2026, 12, 31), date(2026, 12, 1))
    assert tokens.resets_at(late) == cost.resets_at(late) == datetime(2027, 1, 1, tzinfo=UTC)
    assert tokens.described() == "Your budget of 10 tokens a day"
    assert cost.described() == "Your budget of 1 USD a month"
