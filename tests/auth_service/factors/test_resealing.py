"""``keys reseal`` moves the second factors' sealed secrets and the queued mail with the signing
keys: after a KEK rotation the old KEK can leave the settings, every authenticator app and recovery
code works, and the mail still waiting (here the new factor's notice) can still be opened and sent."""

from __future__ import annotations

from typing import Any

import pyotp

from auth_service.audit.service import Actor
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.mail.outbox import associated_data
from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, SYSTEM, SettingsFactory, new_kek
from tests.auth_service.factors.steps import Clock, serving_with_clock
from tests.auth_service.login.db import fetch


def test_factor_secrets_survive_a_kek_rotation(make_settings: SettingsFactory) -> None:
    old, new, clock, actor = new_kek(), new_kek(), Clock(), Actor(id="test")
    with serving_with_clock(make_settings(key_encryption_key=old), clock) as before:
        before.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        user_id = fetch(before, "SELECT id FROM users WHERE email = $1", AGENT_EMAIL)[0]["id"]
        enrolments = before.services.browser.factors.enrolments
        secret = before.call(enrolments.begin_totp, user_id, AGENT_EMAIL).secret.replace(" ", "")
        codes: Any = before.call(enrolments.confirm_totp, user_id, pyotp.TOTP(secret).at(clock.now), actor)
    rotated_settings = make_settings(key_encryption_key=new, previous_key_encryption_keys=[old])
    with serving_with_clock(rotated_settings, clock) as rotated:
        rotated.call(rotated.services.mail.delivery.stop)  # the notice stays queued, as undelivered
        outcome = rotated.call(rotated.services.signing_keys.reseal, SYSTEM)
        assert outcome.factor_secrets == 2  # the TOTP secret and the recovery codes' key
        assert outcome.mail == len(queued(rotated)) >= 1
    clock.now += 30
    with serving_with_clock(make_settings(key_encryption_key=new), clock) as after:  # the old KEK gone
        factors = after.services.browser.factors.factors
        after.call(factors.verify_totp, user_id, pyotp.TOTP(secret).at(clock.now), actor)
        assert after.call(factors.use_recovery_code, user_id, codes[0], actor) == 9
        only_new = KeyEncryptionKey.from_text(new)
        for mail in queued(after):
            assert b"\r\nTo: " in only_new.open(mail["message"], associated_data(mail["id"]))


def queued(auth: Any) -> list[Any]:
    return fetch(auth, "SELECT id, message FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL")
