-- Extensions the customer database relies on: case-insensitive text, accent folding and
-- trigram matching for search.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
