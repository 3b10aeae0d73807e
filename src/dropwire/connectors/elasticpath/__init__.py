"""Elastic Path Commerce: order events in; stock, products and order states out."""
