"""The rules of each customer attribute, checked all at once so one answer lists every problem.

Input is the decoded JSON object as the client sent it (camelCase names, JSON types); output is
the normalised value to store. Rules:

- text: a JSON string, trimmed; empty after trimming is refused (send ``null`` to leave an
  optional field out); no control characters (so no NUL); at most N characters (code points).
  Anything else (accents, other scripts, emoji, combining marks) is stored and returned exactly.
- ``email``: syntax per RFC 5321/6531 by email-validator (no DNS lookup), stored normalised
  (domain lower-cased, IDNA-checked); unique regardless of case.
- ``phoneNumber``: parsed by phonenumbers with region BR when no ``+country`` is given, must be a
  valid number, stored in E.164 (``+5511987654321``).
- ``birthdate``: ``YYYY-MM-DD``, not after today anywhere on Earth, at most 130 years ago.
- ``salary``: a decimal string (``"8500"``, ``"8500.5"``, ``"8500.50"``), not negative, at most
  two decimals and 12 integer digits; a JSON number is refused, because a float cannot carry money.
- ``zipcode``: letters, digits, spaces and hyphens (``01310-100``, ``SW1A 1AA``), up to 16.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from customer_service.customers.cpf import InvalidCpf, parse_cpf
from customer_service.customers.schemas import FieldError

__all__ = [
    "JSON_NAMES",
    "READ_ONLY",
    "REQUIRED",
    "FieldRules",
    "InvalidValue",
]

PHONE_REGION = "BR"
MAX_AGE_YEARS = 130

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SALARY = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
_ZIPCODE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 -]{0,14}[A-Za-z0-9])?")

JSON_NAMES: dict[str, str] = {
    "email": "email",
    "name": "name",
    "phoneNumber": "phone_number",
    "birthdate": "birthdate",
    "profession": "profession",
    "salary": "salary",
    "country": "country",
    "state": "state",
    "city": "city",
    "zipcode": "zipcode",
    "street": "street",
    "number": "number",
    "complement": "complement",
}
"""Writable JSON attribute -> column."""

REQUIRED = frozenset({"email", "name"})
READ_ONLY = frozenset({"createdAt", "updatedAt"})
"""Sent back by clients that PUT what they GOT; accepted and ignored."""

_TEXT_LIMITS = {
    "name": 200,
    "profession": 100,
    "country": 100,
    "state": 100,
    "city": 100,
    "street": 200,
    "number": 20,
    "complement": 100,
}


class InvalidValue(ValueError):
    """One value breaks its rule; the message is for the client."""


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidValue("Must be a string.")
    if _CONTROL.search(value):
        raise InvalidValue("Must not contain control characters (such as NUL, tab or newline).")
    text = value.strip()
    if not text:
        raise InvalidValue("Must not be empty; send null to leave it out.")
    if len(text) > limit:
        raise InvalidValue(f"Must be at most {limit} characters.")
    return text


def _email(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue("Must be a string.")
    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise InvalidValue(str(exc)) from None


def _phone(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue("Must be a string.")
    if _CONTROL.search(value) or len(value) > 40:
        raise InvalidValue("Is not a phone number.")
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidValue("Is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue("Is not a valid phone number (give +country code outside Brazil).")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _birthdate(value: Any, today: date) -> date:
    if not isinstance(value, str) or _DATE.fullmatch(value) is None:
        raise InvalidValue("Must be a date written YYYY-MM-DD.")
    try:
        born = date.fromisoformat(value)
    except ValueError:
        raise InvalidValue("Is not a calendar date.") from None
    if born > today:
        raise InvalidValue("Must not be in the future.")
    if born < _years_before(today, MAX_AGE_YEARS):
        raise InvalidValue(f"Must be at most {MAX_AGE_YEARS} years ago.")
    return born


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _salary(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise InvalidValue('Must be a decimal string such as "8500.00" (numbers lose cents).')
    if value.startswith("-"):
        raise InvalidValue("Must not be negative.")
    if _SALARY.fullmatch(value) is None:
        raise InvalidValue('Must be a decimal string with at most 2 decimals, such as "8500.00".')
    return Decimal(value).quantize(Decimal("0.01"))


def _zipcode(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue("Must be a string.")
    text = value.strip()
    if _ZIPCODE.fullmatch(text) is None:
        raise InvalidValue("Must be 1 to 16 letters, digits, spaces or hyphens.")
    return text


class FieldRules:
    """Validates a customer document; ``today`` is injectable so date rules can be tested."""

    __slots__ = ("_today",)

    def __init__(self, today: Callable[[], date] | None = None) -> None:
        self._today = today or _today_anywhere

    def cpf(self, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidValue("Must be a string.")
        try:
            return parse_cpf(value.strip())
        except InvalidCpf as exc:
            raise InvalidValue(str(exc)) from None

    def value(self, name: str, value: Any) -> Any:
        """The stored form of writable attribute ``name`` (JSON name), ``None`` for ``null``."""
        if value is None:
            if name in REQUIRED:
                raise InvalidValue("Is required.")
            return None
        if name == "email":
            return _email(value)
        if name == "phoneNumber":
            return _phone(value)
        if name == "birthdate":
            return _birthdate(value, self._today())
        if name == "salary":
            return _salary(value)
        if name == "zipcode":
            return _zipcode(value)
        return _text(value, _TEXT_LIMITS[name])

    def values(self, document: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
        """Column -> stored value for every writable attribute in ``document``; problems go to ``errors``.

        ``cpf`` and the read-only timestamps are the caller's business; any other unknown name
        is an error (a typo such as ``phone`` must not be silently dropped).
        """
        columns: dict[str, Any] = {}
        for name, raw in document.items():
            column = JSON_NAMES.get(name)
            if column is None:
                if name != "cpf" and name not in READ_ONLY:
                    errors.append(FieldError(name[:100], "Is not a customer attribute."))
                continue
            try:
                columns[column] = self.value(name, raw)
            except InvalidValue as exc:
                errors.append(FieldError(name, str(exc)))
        return columns


def _today_anywhere() -> date:
    """The latest date it is anywhere on Earth (UTC+14), so nobody's today counts as future."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()
