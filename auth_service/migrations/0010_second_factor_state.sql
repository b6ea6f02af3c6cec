-- What a login must ask of a person, in one row: a confirmed TOTP, a passkey, and whether one of
-- the person's roles requires a second factor. Every login and every single sign-on asks it, so it
-- is one statement (and can be joined into the session lookup) instead of one per factor table.
-- A new kind of second factor adds its table here.
CREATE VIEW second_factor_state AS
SELECT u.id AS user_id,
       EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = u.id AND t.confirmed) AS totp,
       EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id) AS passkey,
       EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
               WHERE ur.user_id = u.id AND r.requires_mfa) AS required
FROM users u;
