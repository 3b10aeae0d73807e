"""State a client can make grow stays bounded: metrics series by method."""

from prometheus_client import REGISTRY


def _series_count() -> int:
    return sum(
        1
        for metric in REGISTRY.collect()
        if metric.name == "dropwire_http_requests"
        for sample in metric.samples
        if sample.name == "dropwire_http_requests_total"
    )


def test_odd_methods_share_one_series(anonymous):
    anonymous.request("BREW", "/health")
    before = _series_count()
    for n in range(20):
        assert anonymous.request(f"BREW{n}", "/health").status_code == 405
    assert _series_count() == before
    sample = REGISTRY.get_sample_value(
        "dropwire_http_requests_total", {"method": "other", "route": "/health", "status": "405"}
    )
    assert sample is not None and sample >= 21
