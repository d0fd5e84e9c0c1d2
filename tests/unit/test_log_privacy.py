"""Logs mask recipients' numbers, addresses and texts unless `log_unmasked` is set."""

from __future__ import annotations

import json
import subprocess
import sys

from tidings.log_privacy import mask_address, mask_value, masking_processor


def test_numbers_addresses_and_texts_are_masked() -> None:
    assert mask_address("79161234567") == "7916123****"
    assert mask_address("anna@example.org") == "a***@example.org"
    assert mask_value("phones", "79161234567,79161234568") == "7916123****,7916123****"
    assert mask_value("text", "Ваш код 1234") == "<12 characters>"
    assert mask_value("job", 12) == 12
    event = {"event": "sent", "phone": "79161234567", "mes": "secret", "message": 42}
    assert masking_processor(None, "info", event) == {
        "event": "sent",
        "phone": "7916123****",
        "mes": "<6 characters>",
        "message": 42,
    }


def _logged(unmasked: bool) -> dict[str, object]:
    code = (
        "import structlog\n"
        "from tidings.app import configure_logging\n"
        f"configure_logging('info', unmasked={unmasked})\n"
        "structlog.get_logger('t').info('mo', source='79161234567', text='hello')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    line: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return line


def test_the_setting_decides_what_the_service_logs() -> None:
    masked = _logged(unmasked=False)
    assert (masked["source"], masked["text"]) == ("7916123****", "<5 characters>")
    plain = _logged(unmasked=True)
    assert (plain["source"], plain["text"]) == ("79161234567", "hello")
