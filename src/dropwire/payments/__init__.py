"""Money owed to vendors: commission rules, vendor invoices and credits, the vendor ledger,
payment methods, payments and payouts."""
