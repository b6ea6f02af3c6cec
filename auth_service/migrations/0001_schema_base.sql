-- Extensions every later migration of the auth database may rely on.
CREATE EXTENSION IF NOT EXISTS citext;
