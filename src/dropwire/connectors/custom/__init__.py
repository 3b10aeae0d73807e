"""Custom channels (Onport-style endpoints): stock, products and order states out; products,
acknowledgements and disconnections in."""
