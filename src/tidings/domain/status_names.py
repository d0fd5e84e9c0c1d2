"""Status names in both languages: one table for the API and the cabinet.

The Russian message-status names are what smsc.ru answers in status.php's and get.php's
`status_name` — the API returns them byte for byte, so they change only if smsc.ru's do.
The English names are the cabinet's. Languages are the cabinet's codes ("ru", "en").
"""

from __future__ import annotations

from dataclasses import dataclass

from tidings.domain.lifecycle import LINK_CLICKED, JobStatus, MessageStatus


@dataclass(frozen=True)
class StatusName:
    ru: str
    en: str

    def in_language(self, language: str) -> str:
        return self.ru if language == "ru" else self.en


MESSAGE_STATUS_NAMES: dict[int, StatusName] = {
    MessageStatus.NOT_FOUND: StatusName("Сообщение не найдено", "not found"),
    MessageStatus.STOPPED: StatusName("Остановлено", "stopped"),
    MessageStatus.WAITING: StatusName("Ожидает отправки", "waiting"),
    MessageStatus.HANDED_OVER: StatusName("Передано оператору", "sent"),
    MessageStatus.DELIVERED: StatusName("Доставлено", "delivered"),
    MessageStatus.READ: StatusName("Прочитано", "read"),
    MessageStatus.EXPIRED: StatusName("Просрочено", "expired"),
    LINK_CLICKED: StatusName("Нажата ссылка", "link clicked"),
    MessageStatus.UNDELIVERABLE: StatusName("Невозможно доставить", "undeliverable"),
    MessageStatus.BAD_NUMBER: StatusName("Неверный номер", "wrong number"),
    MessageStatus.PROHIBITED: StatusName("Запрещено", "prohibited"),
    MessageStatus.NO_MONEY: StatusName("Недостаточно средств", "insufficient funds"),
    MessageStatus.UNAVAILABLE: StatusName("Недоступный номер", "unavailable number"),
}

# A mailing list's states (jobs.php `status`); the API gives only the numbers.
JOB_STATUS_NAMES: dict[int, StatusName] = {
    JobStatus.DISABLED: StatusName("Остановлена", "disabled"),
    JobStatus.WAITING: StatusName("Ожидает", "waiting"),
    JobStatus.SENDING: StatusName("Отправляется", "sending"),
    JobStatus.FINISHED: StatusName("Завершена", "finished"),
}


def message_status_names(language: str) -> dict[int, str]:
    return {code: name.in_language(language) for code, name in MESSAGE_STATUS_NAMES.items()}


def job_status_names(language: str) -> dict[int, str]:
    return {code: name.in_language(language) for code, name in JOB_STATUS_NAMES.items()}
