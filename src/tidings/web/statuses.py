"""The names the cabinet shows for the domain's statuses: one table, so the lists, a list's
recipients, the dashboard and the history never call a status two different things."""

from __future__ import annotations

from tidings.domain.lifecycle import JobStatus, MessageStatus

JOB_STATUS: dict[int, str] = {
    JobStatus.DISABLED: "disabled",
    JobStatus.WAITING: "waiting",
    JobStatus.SENDING: "sending",
    JobStatus.FINISHED: "finished",
}
MESSAGE_STATUS: dict[int, str] = {
    MessageStatus.STOPPED: "stopped",
    MessageStatus.WAITING: "waiting",
    MessageStatus.HANDED_OVER: "sent",
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.READ: "read",
    MessageStatus.EXPIRED: "expired",
    MessageStatus.UNDELIVERABLE: "undeliverable",
    MessageStatus.BAD_NUMBER: "wrong number",
    MessageStatus.PROHIBITED: "prohibited",
    MessageStatus.NO_MONEY: "insufficient funds",
    MessageStatus.UNAVAILABLE: "unavailable number",
}
