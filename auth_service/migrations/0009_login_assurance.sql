-- How the login behind a refresh-token family was made: RFC 8176 amr, the acr level and when it
-- happened. Every access token refreshed from the family carries the first login's, so a resource
-- server's step-up check (RFC 9470) cannot be passed by refreshing, nor failed by it. Families
-- older than this migration have none of the three (unknown: their tokens carry no amr, acr or
-- auth_time and pass no step-up); a family has all three or none.
ALTER TABLE refresh_families
    ADD COLUMN auth_time timestamptz,
    ADD COLUMN amr text[],
    ADD COLUMN acr text,
    ADD CONSTRAINT refresh_families_login_check
        CHECK ((auth_time IS NULL) = (amr IS NULL) AND (amr IS NULL) = (acr IS NULL));
