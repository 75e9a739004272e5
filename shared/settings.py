"""Process settings, read from `CB_*` environment variables (pydantic-settings).

One class for every service keeps the names in one place; a service reads only the fields it needs.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CB_", extra="ignore")

    environment: str = Field("dev", description="dev | test | prod; dev relaxes nothing security-relevant")
    service_name: str = "channelbridge"
    log_level: str = "INFO"

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/channelbridge"
    db_pool_size: int = 10
    db_pool_pre_ping: bool = False  # see shared.db.engine: costs three round trips per transaction
    # Server-side cap on one statement (lock waits included), under the interactive deadline; 0 = none.
    db_statement_timeout_ms: int = Field(15_000, ge=0)
    # Client-side cap on one call with no answer at all (dead server or network); 0 = none.
    db_command_timeout_s: float = Field(20.0, ge=0)
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
    # Budget of calls made while answering a request (marketplace retries included), below the gateway's
    # upstream_timeout_s so the service answers first with a clear error; background work has none.
    interactive_deadline_s: float = Field(20.0, ge=0)

    bootstrap_admin_client_id: str | None = None
    bootstrap_admin_client_secret: SecretStr | None = None

    # Marketplaces: origins default to the real APIs; the dev stack and tests point them at sandbox/.
    marketplace_rate_storage: str = Field(
        "postgres", description="postgres (CB_DATABASE_URL) or redis://…: each marketplace app's rate budget "
                                "shared by every replica; memory: one budget per process")
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
    # How often the safety-net sweep re-reads recently updated orders beside an event journal (Allegro).
    order_sweep_interval_s: float = 900.0
    marketplace_timeout_s: float = 20.0
    marketplace_max_retries: int = 5

    outbox_batch_size: int = 500
    outbox_park_after_attempts: int = Field(5, ge=1)  # tries of an event the broker refuses before it is parked
    outbox_retention_hours: float = Field(168.0, gt=0)  # published outbox rows are deleted after this
    # Processed-event ids are deleted after this: keep it well above any redelivery window (see docs).
    inbox_retention_hours: float = Field(168.0, gt=0)
    messaging_prune_interval_s: float = Field(3600.0, gt=0)
    messaging_prune_batch: int = Field(5000, ge=1)  # rows per DELETE, so no statement holds the table long
    # Lease on claimed background work (tracking pushes, stock pushes): renewed every third of it while the
    # work runs, so it bounds only how long a crashed worker's job waits before another worker takes it.
    work_lease_s: float = Field(15.0, gt=0)
    consumer_max_attempts: int = 3  # consecutive non-transient handler failures before the DLQ
    consumer_max_backoff_s: float = 5.0  # ceiling of the pause of a partition stopped by a transient failure

    @field_validator("marketplace_rate_storage")
    @classmethod
    def _rate_storage(cls, value: str) -> str:
        if value in ("postgres", "memory") or value.startswith(("redis://", "rediss://", "unix://")):
            return value
        raise ValueError("must be postgres, memory or a redis:// URL")

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
