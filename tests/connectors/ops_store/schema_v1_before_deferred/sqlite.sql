-- The ops store's schema as Tidemark created it at commit d2c601a..9db67e6^ (schema version 1,
-- before runs could be 'deferred' and before erasure_requests), captured with CreateTable on sqlite.

CREATE TABLE activation_locks (
	activation VARCHAR(63) NOT NULL,
	run_id VARCHAR(100) NOT NULL,
	holder VARCHAR(200) NOT NULL,
	acquired_at DATETIME NOT NULL,
	heartbeat_at DATETIME NOT NULL,
	CONSTRAINT pk_activation_locks PRIMARY KEY (activation)
);

CREATE TABLE activation_requests (
	request_id VARCHAR(100) NOT NULL,
	activation_name VARCHAR(200) NOT NULL,
	requested_by VARCHAR(200) NOT NULL,
	requested_at DATETIME NOT NULL,
	kind VARCHAR(32) NOT NULL,
	status VARCHAR(32) NOT NULL,
	status_reason TEXT,
	updated_at DATETIME NOT NULL,
	CONSTRAINT pk_activation_requests PRIMARY KEY (request_id),
	CONSTRAINT ck_activation_requests_kind CHECK (kind IN ('run', 'dry_run')),
	CONSTRAINT ck_activation_requests_status CHECK (status IN ('pending', 'launched', 'skipped', 'done', 'failed'))
);

CREATE INDEX ix_activation_requests_activation_name ON activation_requests (activation_name);

CREATE INDEX ix_activation_requests_status_requested_at ON activation_requests (status, requested_at);

CREATE TABLE activation_runs (
	run_id VARCHAR(100) NOT NULL,
	activation VARCHAR(63) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	status VARCHAR(32) NOT NULL,
	status_reason TEXT,
	requested_by VARCHAR(200) NOT NULL,
	"plan" JSON,
	started_at DATETIME NOT NULL,
	planned_at DATETIME,
	finished_at DATETIME,
	updated_at DATETIME NOT NULL,
	CONSTRAINT pk_activation_runs PRIMARY KEY (run_id),
	CONSTRAINT ck_activation_runs_run_status CHECK (status IN ('planning', 'awaiting_approval', 'enqueued', 'delivering', 'completed', 'failed', 'cancelled', 'skipped', 'planned'))
);

CREATE INDEX ix_activation_runs_activation_started ON activation_runs (activation, started_at);

CREATE TABLE activations (
	name VARCHAR(63) NOT NULL,
	definition JSON NOT NULL,
	created_by VARCHAR(200) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	CONSTRAINT pk_activations PRIMARY KEY (name)
);

CREATE TABLE api_tokens (
	id INTEGER NOT NULL,
	name VARCHAR(200) NOT NULL,
	role VARCHAR(32) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	created_at DATETIME NOT NULL,
	revoked_at DATETIME,
	last_used_at DATETIME,
	CONSTRAINT pk_api_tokens PRIMARY KEY (id),
	CONSTRAINT ck_api_tokens_role CHECK (role IN ('viewer', 'marketer', 'admin')),
	CONSTRAINT uq_api_tokens_token_hash UNIQUE (token_hash)
);

CREATE TABLE audit_log (
	id INTEGER NOT NULL,
	at DATETIME NOT NULL,
	actor VARCHAR(200) NOT NULL,
	action VARCHAR(100) NOT NULL,
	resource_type VARCHAR(100) NOT NULL,
	resource_id VARCHAR(200) NOT NULL,
	"before" JSON,
	"after" JSON,
	CONSTRAINT pk_audit_log PRIMARY KEY (id)
);

CREATE INDEX ix_audit_log_at ON audit_log (at);

CREATE INDEX ix_audit_log_resource ON audit_log (resource_type, resource_id);

CREATE TABLE frequency_claims (
	id INTEGER NOT NULL,
	channel VARCHAR(16) NOT NULL,
	profile_id VARCHAR(200) NOT NULL,
	message_id VARCHAR(64) NOT NULL,
	claimed_at DATETIME NOT NULL,
	CONSTRAINT pk_frequency_claims PRIMARY KEY (id),
	CONSTRAINT uq_frequency_claims_message_id UNIQUE (message_id)
);

CREATE INDEX ix_frequency_claims_recipient ON frequency_claims (channel, profile_id, claimed_at);

CREATE TABLE immediate_suppressions (
	id INTEGER NOT NULL,
	channel VARCHAR(32) NOT NULL,
	address_hash VARCHAR(64) NOT NULL,
	reason VARCHAR(200) NOT NULL,
	created_at DATETIME NOT NULL,
	CONSTRAINT pk_immediate_suppressions PRIMARY KEY (id),
	CONSTRAINT uq_immediate_suppressions_channel_address_hash UNIQUE (channel, address_hash),
	CONSTRAINT ck_immediate_suppressions_channel CHECK (channel IN ('email', 'sms'))
);

CREATE TABLE outbox (
	message_id VARCHAR(64) NOT NULL,
	run_id VARCHAR(100) NOT NULL,
	activation VARCHAR(63) NOT NULL,
	profile_id VARCHAR(200) NOT NULL,
	channel VARCHAR(16) NOT NULL,
	address VARCHAR(400) NOT NULL,
	variant VARCHAR(100) NOT NULL,
	change VARCHAR(16) NOT NULL,
	attributes TEXT NOT NULL,
	partition SMALLINT NOT NULL,
	state VARCHAR(32) NOT NULL,
	attempts INTEGER NOT NULL,
	send_after DATETIME NOT NULL,
	next_attempt_at DATETIME NOT NULL,
	claimed_by VARCHAR(200),
	provider VARCHAR(32),
	provider_message_id VARCHAR(200),
	error_class VARCHAR(32),
	error_code VARCHAR(64),
	error_message TEXT,
	planned_at DATETIME NOT NULL,
	sent_at DATETIME,
	updated_at DATETIME NOT NULL,
	CONSTRAINT pk_outbox PRIMARY KEY (message_id),
	CONSTRAINT ck_outbox_message_state CHECK (state IN ('planned', 'sending', 'sent', 'failed', 'excluded', 'in_doubt', 'cancelled'))
);

CREATE INDEX ix_outbox_profile_channel ON outbox (profile_id, channel);

CREATE INDEX ix_outbox_run_state_due ON outbox (run_id, state, next_attempt_at);

CREATE TABLE schema_version (
	id INTEGER NOT NULL,
	version INTEGER NOT NULL,
	applied_at DATETIME NOT NULL,
	CONSTRAINT pk_schema_version PRIMARY KEY (id),
	CONSTRAINT ck_schema_version_single_row CHECK (id = 1)
);

