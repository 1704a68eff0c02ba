"""A webhook's filter, as a plain function: every operator, exact decimals, paths, bad filters."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import filters
from app.domain.filters import FilterError

TRADE = {
    "symbol": "AAPL",
    "side": "buy",
    "quantity": 10,
    "price": 185.5,
    "target": "180.00",
    "change_percent": "5.20",
    "account": {"id": "acc_1", "tags": ["swing", "tech"]},
    "legs": [{"symbol": "AAPL"}, {"symbol": "TSLA"}],
    "note": None,
    "live": True,
}


def passes(spec: object, data: dict | None = None, event: str = "trade_executed") -> bool:
    return filters.matches(filters.compile_filter(spec), event, TRADE if data is None else data)


def passes_text(text: str, data: dict | None = None) -> bool:
    return filters.matches(
        filters.compiled(text), "trade_executed", TRADE if data is None else data
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"data.symbol": "AAPL"}, True),
        ({"data.symbol": "TSLA"}, False),
        ({"data": {"symbol": "AAPL"}}, True),
        ({"data": {"account": {"id": "acc_1"}}}, True),
        ({"data.account.id": "acc_2"}, False),
        ({"event": "trade_executed"}, True),
        ({"event": {"$in": ["price_above", "price_below"]}}, False),
        ({"data.symbol": {"$eq": "AAPL"}}, True),
        ({"data.symbol": {"$ne": "AAPL"}}, False),
        ({"data.symbol": {"$ne": "TSLA"}}, True),
        ({"data.symbol": {"$in": ["AAPL", "TSLA"]}}, True),
        ({"data.symbol": {"$in": ["MSFT"]}}, False),
        ({"data.symbol": {"$nin": ["AAPL", "TSLA"]}}, False),
        ({"data.symbol": {"$nin": ["MSFT"]}}, True),
        ({"data.quantity": {"$gt": 9}}, True),
        ({"data.quantity": {"$gt": 10}}, False),
        ({"data.quantity": {"$gte": 10}}, True),
        ({"data.quantity": {"$lt": 10}}, False),
        ({"data.quantity": {"$lte": 10}}, True),
        ({"data.quantity": {"$gt": 5, "$lt": 20}}, True),
        ({"data.quantity": {"$gt": 5, "$lt": 8}}, False),
        ({"data.note": {"$exists": True}}, True),
        ({"data.missing": {"$exists": True}}, False),
        ({"data.missing": {"$exists": False}}, True),
        ({"data.note": None}, True),
        ({"data.live": True}, True),
        ({"data.live": 1}, False),
        ({"$and": [{"data.symbol": "AAPL"}, {"data.side": "buy"}]}, True),
        ({"$and": [{"data.symbol": "AAPL"}, {"data.side": "sell"}]}, False),
        ({"$or": [{"data.symbol": "TSLA"}, {"data.side": "buy"}]}, True),
        ({"$or": [{"data.symbol": "TSLA"}, {"data.side": "sell"}]}, False),
        ({"$not": {"data.side": "sell"}}, True),
        ({"$not": {"data.side": "buy"}}, False),
        ({"data.quantity": {"$not": {"$gt": 100}}}, True),
        ({"data.quantity": {"$not": 10}}, False),
        ({"data.legs.1.symbol": "TSLA"}, True),
        ({"data.legs.5.symbol": "TSLA"}, False),
        ({"data.account.tags": ["swing", "tech"]}, True),
        ({"data.account": {"$eq": {"id": "acc_1", "tags": ["swing", "tech"]}}}, True),
        ({"data.symbol": "AAPL", "data.side": "sell"}, False),
    ],
)
def test_every_operator(spec, expected):
    assert passes(spec) is expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # Numbers and numeric strings are exact decimals, whichever side holds which.
        ({"data.price": {"$gt": 180}}, True),
        ({"data.price": {"$gt": "185.49"}}, True),
        ({"data.price": {"$gt": "185.50"}}, False),
        ({"data.price": "185.50"}, True),
        ({"data.target": 180}, True),
        ({"data.target": {"$lt": 180.01}}, True),
        ({"data.change_percent": {"$gte": 5}}, True),
        ({"data.change_percent": {"$gt": "5.2"}}, False),
        ({"data.quantity": "10.000"}, True),
        ({"data.quantity": {"$in": ["10.0", 11]}}, True),
        ({"data.quantity": {"$nin": [10.0]}}, False),
    ],
)
def test_numbers_and_numeric_strings_compare_as_exact_decimals(spec, expected):
    assert passes(spec) is expected


def test_no_float_decides():
    # As floats 0.1 + 0.2 is 0.30000000000000004; as written, 0.3 is 0.1 + 0.2's neighbour.
    assert passes_text('{"data.total": {"$lte": 0.3}}', {"total": "0.3"})
    assert not passes_text('{"data.total": {"$gt": 0.3}}', {"total": "0.30"})
    # 17 significant digits tell these apart; a float would not.
    assert passes_text('{"data.p": {"$gt": 0.10000000000000001}}', {"p": "0.10000000000000002"})
    assert not passes_text('{"data.p": {"$gt": 0.10000000000000001}}', {"p": "0.1"})
    assert passes_text('{"data.p": 1e2}', {"p": "100"})


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"price": None},
        {"price": "n/a"},
        {"price": True},
        {"price": [185]},
        {"price": {"value": 185}},
        {"price": "NaN"},
        {"price": "Infinity"},
        {"price": "1e9999999999"},
        {"price": " 185"},
        {"price": "9" * 500},
    ],
)
def test_missing_fields_and_other_types_do_not_match_and_never_raise(data):
    condition = filters.compile_filter({"data.price": {"$gt": 180}})
    assert not filters.matches(condition, "price_above", data)
    assert not filters.matches(
        filters.compile_filter({"data.price.value.deeper": {"$in": [1, "a"]}}), "x", data
    )


def test_strings_compare_as_text_when_not_numbers():
    assert passes({"data.symbol": {"$gte": "AAA", "$lt": "B"}})
    assert not passes({"data.symbol": {"$gt": 100}})
    assert not passes({"data.price": {"$gt": "abc"}}), "a number and a word do not compare"
    assert not passes({"data.p": {"$gt": "180"}}, {"p": "n/a"}), "nor a word and a number"
    assert not passes({"data.p": {"$lt": "180"}}, {"p": "n/a"})


def test_ne_and_nin_hold_for_a_missing_field():
    assert passes({"data.missing": {"$ne": "x"}})
    assert passes({"data.missing": {"$nin": ["x"]}})
    assert not passes({"data.missing": {"$in": ["x"]}})
    assert not passes({"data.missing": None}), "null matches an explicit null only"


def test_unicode_symbols_and_thousands_of_them():
    symbols = [f"SYM{number}" for number in range(5000)] + ["株式", "ÄPFEL"]
    condition = filters.compile_filter({"data.symbol": {"$in": symbols}})
    assert filters.matches(condition, "x", {"symbol": "株式"})
    assert filters.matches(condition, "x", {"symbol": "SYM4999"})
    assert not filters.matches(condition, "x", {"symbol": "AAPL"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"data.price": {"$gtx": 1}}, "data.price: unknown operator $gtx"),
        ({"$nor": []}, "filter: unknown operator $nor"),
        ({"data.symbol": {"$in": "AAPL"}}, "data.symbol.$in: $in takes a list of values."),
        ({"data.symbol": {"$nin": {"a": 1}}}, "$nin takes a list of values."),
        ({"data.x": {"$exists": "yes"}}, "$exists takes true or false."),
        ({"data.x": {"$gt": None}}, "$gt compares with a number or a string."),
        ({"data.x": {"$lt": [1]}}, "$lt compares with a number or a string."),
        ({"$and": []}, "$and takes a non-empty list of conditions."),
        ({"$or": {"data.x": 1}}, "$or takes a non-empty list of conditions."),
        ({"$not": [1]}, "expected a JSON object"),
        ({"symbol": "AAPL"}, "a filter looks at `event` or `data.…`, not 'symbol'"),
        ({"data..x": 1}, "a field path has an empty part"),
        ({"data": {"symbol": "A", "$gt": 1}}, "either operators or fields, not both"),
        ([{"data.x": 1}], "A filter is a JSON object"),
        ("AAPL", "A filter is a JSON object"),
    ],
)
def test_an_invalid_filter_says_what_is_wrong(spec, message):
    with pytest.raises(FilterError, match=None) as caught:
        filters.compile_filter(spec)
    assert message in str(caught.value)


def test_depth_and_size_are_bounded():
    deep: dict = {"data.x": 1}
    for _ in range(filters.MAX_DEPTH):
        deep = {"$not": deep}
    with pytest.raises(FilterError, match="nests too deep"):
        filters.compile_filter(deep)
    with pytest.raises(FilterError, match="too large: at most"):
        filters.compile_filter({"data.x": {"$in": list(range(filters.MAX_NODES + 1))}})
    with pytest.raises(FilterError, match="bytes of JSON"):
        filters.parse(json.dumps({"data.x": "a" * filters.MAX_FILTER_BYTES}))
    with pytest.raises(FilterError, match="nests too deep"):
        filters.parse("[" * 30000 + "]" * 30000)


@pytest.mark.parametrize("text", ["{", '{"data.x": NaN}', '{"data.x": 1e99999999999}'])
def test_text_that_is_not_a_usable_json_filter(text):
    with pytest.raises(FilterError, match="not valid JSON"):
        filters.parse(text)


def test_parse_keeps_the_digits_and_dumps_writes_them_back():
    spec = filters.parse('{"data.price": {"$gt": 185.50, "$lt": 1E+3}, "data.symbol": "株"}')
    assert spec["data.price"]["$gt"] == Decimal("185.50")
    text = filters.dumps(spec)
    assert text == '{"data.price":{"$gt":185.50,"$lt":1E+3},"data.symbol":"株"}'
    assert json.loads(text) == {"data.price": {"$gt": 185.5, "$lt": 1000.0}, "data.symbol": "株"}
    assert filters.parse(text) == spec


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)
EVERY_OPERATOR = filters.compile_filter(
    {
        "$or": [
            {"data.a": {"$gt": 1, "$lte": "2.5"}},
            {"data.a": {"$in": [1, "x", None, True, [1], {"k": 1}]}},
            {"data.a.b": {"$nin": ["y"], "$exists": True}},
            {"$not": {"data.a": {"$ne": {"k": [1, 2]}}}},
            {"$and": [{"data.a.0": {"$gte": "m"}}, {"event": {"$lt": "z"}}]},
            {"data": {"a": {"$not": {"$eq": 0.5}}}},
        ]
    }
)


@given(data=st.dictionaries(st.sampled_from(["a", "b"]), json_values, max_size=2))
@settings(max_examples=300, deadline=None)
def test_no_event_data_makes_a_filter_raise(data):
    assert filters.matches(EVERY_OPERATOR, "custom", data) in (True, False)
