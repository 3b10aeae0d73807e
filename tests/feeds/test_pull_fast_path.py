"""The pull runs' fast path for plain rows agrees with the full validation wherever it decides."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dropwire.feeds.pull.mapping import RowError, plain_feed_variant, to_feed_variant
from dropwire.feeds.pull.parsers import _extractor, _xpath_value
from dropwire.feeds.service import incoming

texts = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "7",
            "007",
            " 12 ",
            "1,5",
            "1.5",
            "1.234,50",
            "1,234.50",
            "-3",
            "2.",
            ".5",
            "100000000",
            "100000001",
            "999999999999.994",
            "1e3",
            "NaN",
            "track",
            "deny",
            "x|y;z",
            "a,,b",
            "٣",
            "\u00a0",
            "A\tB",
            "é",
            "\x00",
            "\ud800",
            "track ",
        ]
    ),
    st.text(max_size=12),
    st.text(alphabet="0123456789.,", min_size=1, max_size=16),
    st.text(min_size=250, max_size=300),
)
numbers = st.from_regex(r"\A ?[0-9]{1,10}([.,][0-9]{0,3})? ?\Z")
words = st.from_regex(r"\A[A-Za-z0-9 _\-|,;é]{1,20}\Z")


def mostly(plain: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(plain, plain, plain, texts)


rows = st.fixed_dictionaries(
    {"vendorSku": mostly(words), "inventoryQuantity": mostly(st.from_regex(r"\A[0-9]{1,9}\Z"))},
    optional={
        "externalId": mostly(words),
        "name": mostly(words),
        "barcode": mostly(words),
        "price": mostly(numbers),
        "costPrice": mostly(numbers),
        "compareAtPrice": mostly(numbers),
        "externalGroupId": mostly(words),
        "images": mostly(words),
        "tags": mostly(words),
        "inventoryPolicy": mostly(st.sampled_from(["track", "continue", "deny"])),
    },
)


@settings(max_examples=1000, deadline=None)
@given(raw=rows, notation=st.sampled_from(["decimal", "comma"]))
def test_the_fast_path_gives_what_the_schema_gives(raw, notation) -> None:
    plain = plain_feed_variant(raw, notation)
    if plain is None:
        return  # the row takes the full validation, which names any problem
    try:
        data = to_feed_variant(raw, notation)
    except RowError as exc:
        raise AssertionError(f"the fast path accepted a row the schema refuses: {exc}") from exc
    assert plain == (data.external_id, incoming(data))


def test_ordinary_rows_take_the_fast_path() -> None:
    raw = {
        "vendorSku": " SKU-1 ",
        "inventoryQuantity": "12",
        "price": "9,5",
        "name": "Blue mug",
        "tags": "kitchen|mugs",
    }
    assert plain_feed_variant(raw, "comma") == (
        "SKU-1",
        {
            "vendor_sku": "SKU-1",
            "inventory_quantity": 12,
            "price": Decimal("9.50"),
            "name": "Blue mug",
            "tags": ["kitchen", "mugs"],
        },
    )
    assert plain_feed_variant({**raw, "externalId": "E1"}, "comma")[0] == "E1"  # type: ignore[index]


def test_doubtful_rows_take_the_full_validation() -> None:
    base = {"vendorSku": "S", "inventoryQuantity": "1"}
    for field, value in [
        ("inventoryQuantity", "1,000"),  # separators: `number` reads them
        ("inventoryQuantity", "100000001"),  # over the limit: the schema names it
        ("name", "a\x07b"),  # a control character
        ("barcode", "1" * 65),
        ("price", "1.234,5"),
        ("inventoryPolicy", "sometimes"),
        ("vendorSku", None),
    ]:
        assert plain_feed_variant({**base, field: value}, "comma") is None, (field, value)


def test_direct_xml_selectors_read_what_xpath_reads() -> None:
    item = etree.fromstring(
        '<product id=" P1 " kind="x"><sku> S-1 </sku><stock><qty>4</qty><qty>5</qty></stock>'
        "<stock><qty>6</qty></stock><desc>big <b>blue</b> mug</desc><empty/><a.b>dot</a.b>"
        "</product>"
    )
    for selector in ["sku", "@id", "@kind", "@none", "stock/qty", "desc", "empty", "none", "a.b"]:
        assert _extractor(selector)(item) == _xpath_value(etree.XPath(selector)(item)), selector
