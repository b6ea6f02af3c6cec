-- Customers, keyed by CPF, with the search document maintained by PostgreSQL itself.
--
-- The application validates every field (and lists every problem at once); the constraints here
-- are the last line: they keep the table sound whatever writes to it, and the unique indexes are
-- what makes "already registered" race-free (two concurrent POSTs cannot both win).

-- unaccent() is STABLE (it reads its dictionary through search_path), so it cannot appear in a
-- generated column or an index. The standard remedy: the two-argument form with the dictionary
-- schema-qualified, wrapped in an IMMUTABLE function whose body is bound at creation time.
CREATE FUNCTION customer_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, value));

-- What the text search parser sees: folded, every punctuation or space run turned into one space,
-- so "ana.silva@example.com" gives the words ana, silva, example, com (not one e-mail token) and
-- "01310-100" gives 01310 and 100. Queries go through the same function.
CREATE FUNCTION customer_search_text(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN regexp_replace(customer_fold(value), '[[:punct:][:space:]]+', ' ', 'g');

-- Phone numbers are stored in E.164 (+5511987654321). People type them with or without the
-- country code, whose length (1 to 3 digits) SQL cannot know, so the document holds the digits
-- and the digits without the first 1, 2 and 3 of them: 5511987654321 511987654321 11987654321
-- 1987654321.
CREATE FUNCTION customer_phone_lexemes(phone text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN substr(phone, 2) || ' ' || substr(phone, 3) || ' ' || substr(phone, 4) || ' ' || substr(phone, 5);

-- Versions come from one sequence, so an ETag is never reused, not even by a customer deleted
-- and registered again under the same CPF.
CREATE SEQUENCE customer_version_seq AS bigint;

CREATE TABLE customers (
    cpf          text COLLATE "C" PRIMARY KEY CHECK (cpf ~ '^[0-9]{11}$'),
    email        text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254 AND strpos(email, '@') > 1),
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    phone_number text CHECK (phone_number ~ '^\+[1-9][0-9]{6,14}$'),
    birthdate    date CHECK (birthdate >= DATE '1850-01-01'),
    profession   text CHECK (char_length(profession) BETWEEN 1 AND 100),
    salary       numeric(14, 2) CHECK (salary >= 0),
    country      text CHECK (char_length(country) BETWEEN 1 AND 100),
    state        text CHECK (char_length(state) BETWEEN 1 AND 100),
    city         text CHECK (char_length(city) BETWEEN 1 AND 100),
    zipcode      text CHECK (zipcode ~ '^[A-Za-z0-9][A-Za-z0-9 -]{0,14}[A-Za-z0-9]$|^[A-Za-z0-9]$'),
    street       text CHECK (char_length(street) BETWEEN 1 AND 200),
    number       text CHECK (char_length(number) BETWEEN 1 AND 20),
    complement   text CHECK (char_length(complement) BETWEEN 1 AND 100),
    version      bigint NOT NULL DEFAULT nextval('customer_version_seq'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- What search matches: every attribute (search_document), and apart the ones that identify a
    -- person, name, e-mail, CPF and phone (search_primary), whose hits rank first. Two columns
    -- with their own indexes rather than tsvector weights: the planner has statistics per column
    -- but none per weight, and it needs good estimates to choose well (see search.py).
    search_primary tsvector NOT NULL GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, customer_search_text(name || ' ' || email)
                    || ' ' || cpf || ' ' || coalesce(customer_phone_lexemes(phone_number), ''))
    ) STORED,
    search_document tsvector NOT NULL GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, customer_search_text(
            name || ' ' || email || ' ' || coalesce(profession, '') || ' ' || coalesce(city, '')
            || ' ' || coalesce(state, '') || ' ' || coalesce(country, '') || ' ' || coalesce(street, '')
            || ' ' || coalesce(number, '') || ' ' || coalesce(complement, '') || ' ' || coalesce(zipcode, ''))
            || ' ' || cpf || ' ' || coalesce(customer_phone_lexemes(phone_number), '')
            || ' ' || coalesce(regexp_replace(zipcode, '[^0-9]', '', 'g'), ''))
    ) STORED,
    CONSTRAINT customers_text_trimmed CHECK (
        email = btrim(email) AND name = btrim(name) AND profession = btrim(profession)
        AND country = btrim(country) AND state = btrim(state) AND city = btrim(city)
        AND street = btrim(street) AND number = btrim(number) AND complement = btrim(complement)
    )
);

-- Uniqueness the API reports by name (409 says which one): the index names are the contract.
CREATE UNIQUE INDEX customers_email_key ON customers (lower(email));
CREATE UNIQUE INDEX customers_phone_number_key ON customers (phone_number);

-- Full-text search over every attribute, and over the identifying ones.
CREATE INDEX customers_search_document_idx ON customers USING gin (search_document);
CREATE INDEX customers_search_primary_idx ON customers USING gin (search_primary);

-- Exact filters of the search endpoint (case- and accent-insensitive) and its ranges.
CREATE INDEX customers_city_idx ON customers (customer_fold(city));
CREATE INDEX customers_profession_idx ON customers (customer_fold(profession));
CREATE INDEX customers_birthdate_idx ON customers (birthdate);
CREATE INDEX customers_salary_idx ON customers (salary);
CREATE INDEX customers_created_at_idx ON customers (created_at);

-- The words of the natural-language fields, for typo-tolerant and partial matching: a trigram
-- index over every row would scan huge posting lists for common trigrams; over the distinct words
-- it is small and fast, and the words it finds widen the full-text query (the pattern of the
-- pg_trgm documentation, "text search with a table of unique words"). Words of deleted customers
-- stay: they only ever widen a query to a word that matches nothing.
CREATE TABLE customer_search_words (
    word text COLLATE "C" PRIMARY KEY
);
CREATE INDEX customer_search_words_trgm_idx ON customer_search_words USING gin (word gin_trgm_ops);

-- Statement-level, over the transition table: one INSERT per statement, so a COPY of a million
-- rows costs one pass, not a million. Words go in sorted order, so two writers adding the same
-- new words cannot deadlock on the primary key.
CREATE FUNCTION customer_search_words_collect() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_search_words (word)
    SELECT DISTINCT u.lexeme
      FROM new_rows, unnest(new_rows.search_document) AS u(lexeme, positions, weights)
     WHERE char_length(u.lexeme) >= 3 AND u.lexeme !~ '[0-9]'
     ORDER BY u.lexeme
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER customers_search_words_on_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_search_words_collect();
CREATE TRIGGER customers_search_words_on_update AFTER UPDATE ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_search_words_collect();

-- Who changed which customer, and which fields: names only, never values (they are PII). No
-- foreign key: the history of a deleted customer is kept.
CREATE TABLE customer_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cpf            text COLLATE "C" NOT NULL,
    action         text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    actor          text NOT NULL,
    changed_fields text[] NOT NULL,
    request_id     text,
    occurred_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_events_cpf_idx ON customer_events (cpf, occurred_at);

-- One word of a search box as a tsquery group:
-- * exact: the word itself;
-- * with prefix (two characters or more): also the words it begins. For a word of letters those
--   are looked up among the known words and named (at most 30), because GIN answers a named word
--   by skipping through its list but a ':*' prefix by collecting every row of every matching
--   word first (a common one is a million rows); a short, digit or very common prefix stays ':*';
-- * with widen (four letters or more): also the eight known words most similar to it by trigrams
--   or containing it: typos ("fernada") and inner parts ("ilva").
CREATE FUNCTION customer_search_word(lexeme text, prefix boolean, widen boolean) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
    WITH completions AS (
        SELECT s.word FROM customer_search_words s
         WHERE prefix AND char_length(lexeme) >= 3 AND lexeme !~ '[0-9]'
           AND s.word > lexeme AND s.word < lexeme || chr(1114111)
         ORDER BY s.word LIMIT 31
    ), neighbours AS (
        SELECT s.word FROM customer_search_words s
         WHERE widen AND char_length(lexeme) >= 4 AND lexeme !~ '[0-9]'
           AND (s.word % lexeme OR s.word LIKE '%' || lexeme || '%')
         ORDER BY similarity(s.word, lexeme) DESC, s.word LIMIT 8
    )
    SELECT '(' || quote_literal(lexeme)
        || CASE
               WHEN NOT prefix OR char_length(lexeme) < 2 THEN ''
               WHEN char_length(lexeme) < 3 OR lexeme ~ '[0-9]' OR (SELECT count(*) FROM completions) > 30
                   THEN ':*'
               ELSE coalesce((SELECT string_agg(' | ' || quote_literal(word), '' ORDER BY word) FROM completions), '')
           END
        || coalesce((SELECT string_agg(' | ' || quote_literal(word), '' ORDER BY word) FROM neighbours), '')
        || ')';
END;

-- The tsquery of a search box, built by the same folding as the documents:
-- * a query of digits and formatting only ("123.456.789-09", "(11) 98765-4321") is one digit
--   string, so it finds CPF, phone (with or without country code) and zipcode in any formatting;
-- * otherwise every word must match (AND), each as customer_search_word says; digit groups
--   joined by . - / are joined first ("123.456" is one number).
CREATE FUNCTION customer_search_query(q text, prefix boolean, widen boolean) RETURNS tsquery
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
BEGIN ATOMIC
    SELECT CASE
        WHEN q ~ '^[0-9[:space:]().+/-]+$' AND q ~ '[0-9]' THEN
            (quote_literal(regexp_replace(q, '[^0-9]', '', 'g')) || CASE WHEN prefix THEN ':*' ELSE '' END)::tsquery
        ELSE (
            SELECT string_agg(customer_search_word(t.lexeme, prefix, widen), ' & ' ORDER BY t.lexeme)::tsquery
              FROM unnest(to_tsvector('simple'::regconfig, customer_search_text(
                       regexp_replace(q, '([0-9])[./-](?=[0-9])', '\1', 'g'))))
                   AS t(lexeme, lexeme_positions, lexeme_weights)
        )
    END;
END;

-- The planner's estimate of how many customers a text query matches in one search column, so the
-- search can pick its way to the first page (see search.py) in the same round trip as the query.
-- VOLATILE only because PostgreSQL allows EXPLAIN in no other kind of function; it changes nothing.
CREATE FUNCTION customer_search_estimate(search_column text, query tsquery) RETURNS double precision
    LANGUAGE plpgsql VOLATILE STRICT
AS $$
DECLARE
    plan json;
BEGIN
    IF search_column NOT IN ('search_primary', 'search_document') THEN
        RAISE EXCEPTION 'not a search column: %', search_column;
    END IF;
    EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM customers WHERE %I @@ $1', search_column)
        INTO plan USING query;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
END
$$;
