"""Seed a customers database with N realistic, valid, deterministic customers, by binary COPY.

Every row passes the API's own rules (valid CPF check digits, unique e-mail and E.164 phone,
plausible birthdates, salaries with two decimals), with the accents of real Brazilian names and
places, so searches over the seeded data behave as they would in production. The CPF and phone
sequences are bijections of the row index (multiplication by a number prime to 10**k), hence
unique without a lookup; the same N always yields the same rows.

    python -m bench.customer_seed postgresql://.../customers 1000000
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg

__all__ = ["COLUMNS", "customer_rows", "seed_customers"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    "Ana Maria João José Pedro Lucas Gabriel Rafael Juliana Fernanda Beatriz Camila Bruno Carlos "
    "Eduardo Felipe Gustavo Larissa Letícia Mariana Matheus Patrícia Paulo Renata Rodrigo Sérgio "
    "Tatiane Thiago Vinícius Vitória Aline Antônio Francisco Luiz Marcos Raimundo Sebastião Joana "
    "Conceição Ângela Célia Mônica Fábio Márcio Otávio Luíza Cecília Inês Ubiratã Iara Caetano"
)
LAST = _words(
    "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins "
    "Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento Andrade Moreira "
    "Nunes Marques Machado Mendes Freitas Cardoso Ramos Gonçalves Santana Teixeira Araújo Brandão "
    "Magalhães Conceição Patrício Guimarães Assunção Falcão Simões Peçanha Leão Esteves Figueiredo"
)
PROFESSIONS = (
    "Engenheiro de Software", "Médica", "Professor", "Advogada", "Contador", "Enfermeira",
    "Arquiteto", "Analista de Dados", "Vendedor", "Designer", "Administradora", "Motorista",
    "Farmacêutico", "Economista", "Jornalista", "Eletricista", "Dentista", "Psicóloga",
)  # fmt: skip
# (state, city, area code, first zipcode digits)
PLACES = (
    ("SP", "São Paulo", "11", "01"), ("SP", "Campinas", "19", "13"), ("RJ", "Rio de Janeiro", "21", "20"),
    ("MG", "Belo Horizonte", "31", "30"), ("RS", "Porto Alegre", "51", "90"), ("PR", "Curitiba", "41", "80"),
    ("BA", "Salvador", "71", "40"), ("PE", "Recife", "81", "50"), ("CE", "Fortaleza", "85", "60"),
    ("DF", "Brasília", "61", "70"), ("SC", "Florianópolis", "48", "88"), ("GO", "Goiânia", "62", "74"),
    ("AM", "Manaus", "92", "69"), ("PA", "Belém", "91", "66"), ("ES", "Vitória", "27", "29"),
    ("SP", "São José dos Campos", "12", "12"), ("MA", "São Luís", "98", "65"),
)  # fmt: skip
STREETS = ("Rua", "Avenida", "Travessa", "Alameda", "Praça")
STREET_NAMES = (
    "das Flores", "Brasil", "Sete de Setembro", "XV de Novembro", "Tiradentes", "Paulista",
    "Getúlio Vargas", "Dom Pedro II", "Santos Dumont", "da Liberdade", "Rio Branco", "dos Andradas",
    "Ipiranga", "da Consolação", "Barão de Itapetininga", "São João",
)  # fmt: skip
COMPLEMENTS = (None, None, None, "Apto 101", "Apto 1203", "Casa 2", "Bloco B, Apto 34", "Sala 501", "Fundos")
DOMAINS = ("example.com.br", "example.com", "example.org", "example.net")

COLUMNS = (
    "cpf", "email", "name", "phone_number", "birthdate", "profession", "salary", "country", "state",
    "city", "zipcode", "street", "number", "complement", "created_at", "updated_at",
)  # fmt: skip

_CPF_STEP, _CPF_OFFSET = 48_271, 7_654_321  # prime to 10**9: a bijection of 0..10**9-1
_PHONE_STEP, _PHONE_OFFSET = 7_919, 12_345  # prime to 10**8


def cpf_with_check_digits(base9: str) -> str:
    digits = [int(c) for c in base9]
    for start in (10, 11):
        rest = sum(d * w for d, w in zip(digits, range(start, 1, -1), strict=False)) * 10 % 11
        digits.append(0 if rest == 10 else rest)
    return "".join(map(str, digits))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def customer_rows(count: int, seed: int = 42) -> Iterator[tuple[object, ...]]:
    """``count`` rows in ``COLUMNS`` order (ready for ``copy_records_to_table``)."""
    rng = random.Random(seed)
    now = datetime(2025, 11, 1, tzinfo=UTC)
    index = 0
    produced = 0
    while produced < count:
        base = f"{(index * _CPF_STEP + _CPF_OFFSET) % 10**9:09d}"
        phone_tail = (index * _PHONE_STEP + _PHONE_OFFSET) % 10**8
        index += 1
        if len(set(base)) == 1:  # 111.111.111-11 and kin are refused by the API
            continue
        produced += 1
        first, last1, last2 = rng.choice(FIRST), rng.choice(LAST), rng.choice(LAST)
        state, city, area, zip_prefix = rng.choice(PLACES)
        created = now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
        yield (
            cpf_with_check_digits(base),
            f"{_ascii(first)}.{_ascii(last2)}{index}@{rng.choice(DOMAINS)}",
            f"{first} {last1} {last2}",
            f"+55{area}9{phone_tail:08d}",
            date(1945, 1, 1) + timedelta(days=rng.randrange(22_000)),
            rng.choice(PROFESSIONS),
            Decimal(f"{min(rng.lognormvariate(8.6, 0.6), 250_000):.2f}"),
            "Brasil",
            state,
            city,
            f"{zip_prefix}{rng.randrange(1000):03d}-{rng.randrange(1000):03d}",
            f"{rng.choice(STREETS)} {rng.choice(STREET_NAMES)}",
            str(rng.randint(1, 4999)),
            rng.choice(COMPLEMENTS),
            created,
            created,
        )


async def seed_customers(dsn: str, count: int, *, batch: int = 50_000, workers: int = 2) -> float:
    """COPY ``count`` customers into an empty, migrated database; return the seconds it took.

    ``workers`` connections COPY batches concurrently: the per-row cost is PostgreSQL computing
    the search document and maintaining the indexes, which parallelises across cores.
    """
    started = time.perf_counter()
    rows = customer_rows(count)
    lock = asyncio.Lock()

    async def next_batch() -> list[tuple[object, ...]]:
        async with lock:
            return [row for _, row in zip(range(batch), rows, strict=False)]

    async def worker() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            while chunk := await next_batch():
                await conn.copy_records_to_table("customers", records=chunk, columns=COLUMNS)
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(workers)))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE customers")
        await conn.execute("VACUUM ANALYZE customer_search_words")
    finally:
        await conn.close()
    return time.perf_counter() - started


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: python -m bench.customer_seed DATABASE_URL COUNT")
    seconds = asyncio.run(seed_customers(sys.argv[1], int(sys.argv[2])))
    print(f"seeded {int(sys.argv[2]):,} customers in {seconds:.1f} s")


if __name__ == "__main__":
    main()
