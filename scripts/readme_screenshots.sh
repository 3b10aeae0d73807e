#!/bin/sh
# Refresh the dashboard screenshots README shows: the browser tests that take them run on SQLite
# (each saves its pages under test-artifacts/), then the README's are copied into docs/screenshots.
# Usage: scripts/readme_screenshots.sh   (after `make install`; needs Debian's chromium)
set -eu
cd "$(dirname "$0")/.."
.venv/bin/pytest -q -p no:cacheprovider \
  "tests/web/test_browser.py::test_sign_in_overview_and_sign_out" \
  "tests/web/test_browser.py::test_find_a_sku_read_its_detail_and_adjust_stocked" \
  "tests/web/test_browser.py::test_every_admin_page_renders" \
  "tests/web/test_daily_use.py::test_the_sale_page_shows_the_customer_the_money_and_what_happened" \
  "tests/web/test_daily_use.py::test_a_vendor_page_shows_its_feeds_people_and_late_orders" \
  "tests/web/test_lists.py::test_the_header_search_finds_sales_skus_emails_and_vendors"
for name in overview variant-detail sale-detail sales search vendor-detail; do
  cp "test-artifacts/$name.png" "docs/screenshots/$name.png"
  echo "docs/screenshots/$name.png"
done
