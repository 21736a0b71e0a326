from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuwu import money


def test_res8_bonus_split_example():
    # RES-8: 600 CNY among a project manager (1.2) and 3 members (1.0 each)
    parts = money.split(Decimal("600"), ["1.2", 1, 1, 1])
    assert parts == [Decimal("171.43"), Decimal("142.86"), Decimal("142.86"), Decimal("142.85")]
    assert sum(parts) == Decimal("600.00")


@settings(max_examples=200, deadline=None)
@given(total=st.decimals(min_value=-100000, max_value=100000, places=2),
       weights=st.lists(st.decimals(min_value=0, max_value=50, places=1), min_size=1, max_size=12)
       .filter(lambda w: sum(w) > 0))
def test_split_parts_always_add_up(total, weights):
    parts = money.split(total, weights)
    assert sum(parts) == total
    assert all(p == p.quantize(Decimal("0.01")) for p in parts)


def test_float_is_refused_and_input_parsed():
    with pytest.raises(TypeError):
        money.quantize(0.1)
    assert money.parse(" ¥1,234.5 ") == Decimal("1234.50")
    with pytest.raises(ValueError):
        money.parse("abc")
