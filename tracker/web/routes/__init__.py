"""One module per area of the workspace; each exports ``ROUTES``."""
