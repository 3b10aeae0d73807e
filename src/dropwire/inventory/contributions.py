"""What the inventory domain serves the others (wired by `dropwire.domains`)."""

from dropwire.catalog.service import StockSource
from dropwire.contributions import Contributions
from dropwire.inventory.service import variant_stock_totals

CONTRIBUTIONS = Contributions(
    serves=(StockSource(variant_stock_totals),),  # the catalog's variant reads show stock
)
