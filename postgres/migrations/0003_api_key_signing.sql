-- API keys created from now on keep the HMAC-SHA256 key schedule of their
-- secret (see core/keys.go), so parley can check access tokens signed with
-- the secret without keeping the secret. Older keys have NULL here: they
-- still authenticate REST calls, but cannot verify access tokens.
ALTER TABLE api_keys ADD COLUMN signing_state bytea;
