"""Open311 GeoReport v2: existing 311 apps submit and track requests."""
