"""Where the vendored official marketplace specs live (see specs/marketplaces/PROVENANCE.md)."""

from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parents[1] / "specs" / "marketplaces"
ETSY_SPEC = SPEC_DIR / "etsy-openapi.json"
ALLEGRO_SPEC = SPEC_DIR / "allegro-openapi.yaml"
BIGCOMMERCE_ORDERS_SPEC = SPEC_DIR / "bigcommerce-orders.v2.oas2.yml"
