"""The CPF (Cadastro de Pessoas Físicas), the Brazilian taxpayer number that keys a customer.

Accepted as 11 digits or in its printed form ``123.456.789-09``, and kept as the 11 digits. The
last two digits are check digits (mod 11 over weights 10..2, then 11..2); numbers made of one
repeated digit pass that check yet are never issued, so they are refused too.
"""

from __future__ import annotations

import operator
import re

__all__ = ["InvalidCpf", "format_cpf", "is_valid_cpf", "parse_cpf"]

_DIGITS = re.compile(r"[0-9]{11}")
_PRINTED = re.compile(r"([0-9]{3})\.([0-9]{3})\.([0-9]{3})-([0-9]{2})")
_FIRST_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_SECOND_WEIGHTS = (11, 10, 9, 8, 7, 6, 5, 4, 3, 2)


class InvalidCpf(ValueError):
    """The text is not a valid CPF; the message says why, for the client."""


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    rest = sum(map(operator.mul, digits, weights)) * 10 % 11
    return 0 if rest == 10 else rest


def _check_digits(first9: str) -> str:
    digits = [ord(c) - 48 for c in first9]
    digits.append(_check_digit(digits, _FIRST_WEIGHTS))
    return f"{digits[9]}{_check_digit(digits, _SECOND_WEIGHTS)}"


def is_valid_cpf(digits: str) -> bool:
    """``digits`` is exactly 11 ASCII digits with correct check digits, not all the same."""
    return (
        _DIGITS.fullmatch(digits) is not None
        and digits != digits[0] * 11
        and _check_digits(digits[:9]) == digits[9:]
    )


def parse_cpf(text: str) -> str:
    """The 11 digits of ``text`` (digits only, or ``ddd.ddd.ddd-dd``); ``InvalidCpf`` otherwise."""
    if _DIGITS.fullmatch(text) is not None:
        digits = text
    else:
        printed = _PRINTED.fullmatch(text)
        if printed is None:
            raise InvalidCpf("A CPF is 11 digits, plain or written as 123.456.789-09.")
        digits = "".join(printed.groups())
    if digits == digits[0] * 11:
        raise InvalidCpf("A CPF of one repeated digit is not a valid CPF.")
    if _check_digits(digits[:9]) != digits[9:]:
        raise InvalidCpf("The CPF check digits do not match; check the number.")
    return digits


def format_cpf(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
