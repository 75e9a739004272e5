"""Process settings, read from `CB_*` environment variables (pydantic-settings).

One class for every service keeps the names in one place; a service reads only the fields it needs.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CB_", extra="ignore")

    environment: str = Field("dev", description="dev | test | prod; dev relaxes nothing security-relevant")
    service_name: str = "channelbridge"
    log_level: str = "INFO"

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/channelbridge"
    db_pool_size: int = 10
    db_pool_pre_ping: bool = False  # see shared.db.engine: costs three round trips per transaction
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = 6
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000
    # How long a fetch may wait for data. Kafka answers as soon as data arrives; Tansu holds every fetch for
    # about half of this, so the client default (500 ms) would put a latency floor under every event.
    kafka_fetch_max_wait_ms: int = 20

    # HMAC key the gateway signs caller identity with; services trust identity headers only with it.
    internal_secret: SecretStr = SecretStr("")
    # AES-GCM keys for secrets at rest: "kid:base64key,kid2:base64key"; the first one encrypts.
    encryption_keys: SecretStr = SecretStr("")

    gateway_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    auth_url: str = "http://127.0.0.1:8001"
    orders_url: str = "http://127.0.0.1:8002"
    listings_url: str = "http://127.0.0.1:8003"
    fulfilment_url: str = "http://127.0.0.1:8004"

    jwt_issuer: str = "channelbridge"
    jwt_audience: str = "channelbridge-api"
    access_token_ttl_s: int = 3600
    jwks_cache_ttl_s: int = 300

    rate_limit: str = Field("100/second", description="per API client, in `limits` notation")
    rate_limit_storage_uri: str = Field("memory://", description="memory:// or redis://… to share across replicas")
    # Failed client authentications at /v1/oauth/token allowed per client id before 429.
    failed_auth_limit: str = "10/minute"
    # Peers whose X-Forwarded-For the gateway believes (CIDRs or addresses, comma-separated); empty: none.
    trusted_proxies: str = ""
    max_body_bytes: int = Field(1024 * 1024, ge=1)
    max_token_body_bytes: int = Field(8 * 1024, ge=1)  # a client-credentials form is a few hundred bytes
    max_webhook_body_bytes: int = Field(256 * 1024, ge=1)
    # How long a gateway-signed identity stays valid; it is bound to method, path and query too.
    identity_max_age_s: int = Field(10, ge=1)
    # HMAC-SHA256 key for API client secrets: "kid:base64key,…", the first one hashes (auth only).
    client_secret_hash_key: SecretStr = SecretStr("")
    upstream_timeout_s: float = 30.0

    bootstrap_admin_client_id: str | None = None
    bootstrap_admin_client_secret: SecretStr | None = None

    # Marketplaces: origins default to the real APIs; the dev stack and tests point them at sandbox/.
    etsy_api_url: str = "https://openapi.etsy.com"
    etsy_authorize_url: str = "https://www.etsy.com/oauth/connect"
    etsy_token_url: str = "https://api.etsy.com/v3/public/oauth/token"
    etsy_client_id: str = ""
    etsy_client_secret: SecretStr = SecretStr("")
    etsy_rate_per_second: float = 10.0
    etsy_scopes: str = "transactions_r transactions_w listings_r listings_w shops_r"

    bigcommerce_api_url: str = "https://api.bigcommerce.com"
    bigcommerce_client_id: str = ""  # only for app-level (OAuth) installs; store-level accounts bring their own
    bigcommerce_client_secret: SecretStr = SecretStr("")
    bigcommerce_webhook_path: str = "/v1/webhooks/bigcommerce"
    bigcommerce_rate_per_second: float = 5.0  # a guard under the store's own 30-second quota
    bigcommerce_page_size: int = Field(250, ge=1, le=250)

    allegro_api_url: str = "https://api.allegro.pl"
    allegro_authorize_url: str = "https://allegro.pl/auth/oauth/authorize"
    allegro_token_url: str = "https://allegro.pl/auth/oauth/token"
    allegro_client_id: str = ""
    allegro_client_secret: SecretStr = SecretStr("")
    allegro_rate_per_second: float = 15.0

    order_sync_interval_s: float = 60.0
    order_sync_overlap_s: int = 600
    marketplace_timeout_s: float = 20.0
    marketplace_max_retries: int = 5

    outbox_batch_size: int = 500
    consumer_max_attempts: int = 3

    def trusted_proxy_networks(self) -> list[str]:
        """`CB_TRUSTED_PROXIES` as normalised networks; a malformed entry is an error, not silently ignored."""
        networks = []
        for item in filter(None, (part.strip() for part in self.trusted_proxies.split(","))):
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError as exc:
                raise ConfigError(f"CB_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR network") from exc
        return networks

    def require_secrets(self, *names: str) -> None:
        """Stop a process at start when a secret it needs is empty, unless in dev mode.

        Without `CB_INTERNAL_SECRET` every signed identity would be refused (or, worse, forgeable with an
        empty key); without `CB_ENCRYPTION_KEYS` nothing sealed can be opened.
        """
        if self.environment == "dev":
            return
        missing = [name for name in names if not getattr(self, name).get_secret_value()]
        if missing:
            listed = ", ".join(f"CB_{name.upper()}" for name in missing)
            raise ConfigError(f"{listed} must be set when CB_ENVIRONMENT={self.environment!r} "
                                "(only dev mode runs without); `channelbridge gen-encryption-key` makes a key")


class ConfigError(RuntimeError):
    """A required secret or security setting is missing or malformed: the process refuses to start."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
