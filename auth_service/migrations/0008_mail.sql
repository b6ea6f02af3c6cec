-- Mail: the outbox every message goes through, e-mail verification links and password reset
-- links (issue 14). A link's secret is never stored: only its SHA-256, like refresh tokens.

-- The transactional outbox (auth_service/mail/): a message is written in the transaction of the
-- change that causes it, delivered after commit by whichever replica's sender claims it first
-- (FOR UPDATE SKIP LOCKED, then a lease in next_attempt_at while it talks SMTP). `message` is the
-- whole RFC 5322 message sealed with the key-encryption key (AES-256-GCM, the row's id bound as
-- associated data): it carries live links. It is dropped once sent; a message given up
-- (failed_at) keeps it and its last error.
CREATE TABLE mail_outbox (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    recipient       text NOT NULL CHECK (length(recipient) BETWEEN 3 AND 320),
    user_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    message         bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text CHECK (length(last_error) <= 1000),
    sent_at         timestamptz,
    failed_at       timestamptz,
    CHECK (sent_at IS NULL OR failed_at IS NULL),
    CHECK (message IS NOT NULL OR sent_at IS NOT NULL)
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_sent_idx ON mail_outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX mail_outbox_user_idx ON mail_outbox (user_id, created_at DESC);

-- E-mail verification: single use, expiring, and only for the address it was sent to (a changed
-- address is not verified by a link sent to the old one).
CREATE TABLE email_verifications (
    digest     bytea PRIMARY KEY CHECK (length(digest) = 32),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      citext NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id);
CREATE INDEX email_verifications_expiry_idx ON email_verifications (expires_at);

-- Password reset: single use, expiring, and bound to the password it replaces: any change of the
-- password since the link was sent (users.password_changed_at) voids it.
CREATE TABLE password_resets (
    digest              bytea PRIMARY KEY CHECK (length(digest) = 32),
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_changed_at timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    used_at             timestamptz,
    source_ip           inet
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
CREATE INDEX password_resets_expiry_idx ON password_resets (expires_at);
