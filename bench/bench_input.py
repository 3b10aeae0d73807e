"""µs per `ManualSale.model_validate_json` of a 1-line and a 20-line sale body (the shape of
`bench_sales.body`): what validating a request body costs, input policy and text checks included.

.venv/bin/python -m bench.bench_input [--repeat 5]
"""

import argparse
import timeit

from bench.bench_sales import body


def main() -> None:
    from dropwire.sales.schemas import ManualSale

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for lines in (1, 20):
        raw = body(lines).replace("{n}", "1")
        ManualSale.model_validate_json(raw)
        number = 20_000 // lines
        best = min(
            timeit.repeat(
                lambda raw=raw: ManualSale.model_validate_json(raw),
                number=number,
                repeat=args.repeat,
            )
        )
        print(f"ManualSale.model_validate_json, {lines:2} line(s): {best / number * 1e6:7.1f} µs")


if __name__ == "__main__":
    main()
