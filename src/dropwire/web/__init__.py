"""The admin dashboard and the vendor portal: server-rendered pages over the domain services."""
